from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "orders"
    verbose_name = _("Orders")

    def ready(self) -> None:
        from preorder_shop.pages import name_page

        # The reservation page shows the reservation with its order, so orders owns it.
        name_page("reservation", "orders:reservation_detail")
