from django.contrib import admin
from django.urls import path

from . import views
from .policy import second_factor_passed


class StaffAdminSite(admin.AdminSite):
    """The admin, refusing a session that has not given its second factor (when required),
    with our one-form sign-in and the enrolment pages."""

    def has_permission(self, request) -> bool:
        return super().has_permission(request) and second_factor_passed(request)

    def login(self, request, extra_context=None):
        return views.staff_login(request, self)

    def get_urls(self):
        def bound(view):
            return lambda request: view(request, self)

        own = [
            path("two-factor/", bound(views.two_factor_setup), name="two_factor_setup"),
            path("two-factor/qr.svg", bound(views.two_factor_qr), name="two_factor_qr"),
            path(
                "two-factor/recovery-codes/",
                bound(views.two_factor_recovery_codes),
                name="two_factor_recovery_codes",
            ),
        ]
        return own + super().get_urls()
