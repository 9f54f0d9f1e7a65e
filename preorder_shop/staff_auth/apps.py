from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StaffAuthConfig(AppConfig):
    name = "preorder_shop.staff_auth"
    label = "staff_auth"
    verbose_name = _("Staff sign-in")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib import admin

        from .site import StaffAdminSite

        # Every app registers on admin.site; changing the class of that one instance (as
        # django-otp documents for its OTPAdminSite) keeps every registration.
        admin.site.__class__ = StaffAdminSite
