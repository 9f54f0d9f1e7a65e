"""The sign-in log, read-only, and staff members' second-factor devices without their
secrets: django-otp's own device admins show TOTP keys and recovery codes, so they are
replaced. Deleting a member's devices (with the delete permission) is how a lost phone is
reset: at their next sign-in they set up a new app."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from preorder_shop.admin_filters import CheckedFilters

from .models import StaffSignInAttempt


@admin.register(StaffSignInAttempt)
class StaffSignInAttemptAdmin(CheckedFilters, admin.ModelAdmin):
    list_display = ["at", "account", "known_account", "address", "outcome"]
    list_filter = ["outcome", "known_account"]
    search_fields = ["account__iexact"]
    search_help_text = _("Search by the exact account name.")
    date_hierarchy = "at"
    fields = list_display
    readonly_fields = list_display

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # append-only (migration)


class DeviceAdmin(CheckedFilters, admin.ModelAdmin):
    list_display = ["user", "name", "confirmed", "created_at", "last_used_at"]
    list_filter = ["confirmed"]
    search_fields = ["user__username__iexact"]
    search_help_text = _("Search by the exact account name.")
    fields = list_display
    readonly_fields = list_display

    def has_add_permission(self, request):
        return False  # each member sets up their own app

    def has_change_permission(self, request, obj=None):
        return False


for model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, DeviceAdmin)
