from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PreorderShopConfig(AppConfig):
    name = "preorder_shop"
    verbose_name = _("Customers and identity")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401 (registers the deployment checks)
