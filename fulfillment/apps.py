from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


class FulfillmentConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "fulfillment"
    # The admin section (stock, allocation, shipping), not the way a customer receives the
    # phone, which the same English word names elsewhere.
    verbose_name = pgettext_lazy("admin section", "Fulfilment")

    def ready(self) -> None:
        from . import delivery_panels, panels

        panels.register()
        delivery_panels.register()
