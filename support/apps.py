from django.apps import AppConfig


class SupportConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "support"

    def ready(self) -> None:
        from . import link_panels, panels

        panels.register()
        link_panels.register()
