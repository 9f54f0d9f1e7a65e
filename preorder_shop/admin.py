from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import Customer, OneTimeCode

PERSONAL_DATA_PERMISSION = "preorder_shop.view_personal_data"


class PersonalDataMaskMixin:
    """Lists always mask; detail pages show full values only with the permission."""

    def can_see_personal_data(self, request) -> bool:
        return request.user.has_perm(PERSONAL_DATA_PERMISSION)


@admin.register(Customer)
class CustomerAdmin(PersonalDataMaskMixin, admin.ModelAdmin):
    list_display = ["masked_name", "masked_phone", "created_at", "last_signed_in_at"]
    search_fields = ["phone__endswith"]
    search_help_text = _("Search by the last 4 digits of the mobile number.")
    date_hierarchy = "created_at"
    ordering = ["-created_at"]

    def get_fields(self, request, obj=None):
        if self.can_see_personal_data(request):
            return ["name", "phone", "created_at", "last_signed_in_at"]
        return ["masked_name", "masked_phone", "created_at", "last_signed_in_at"]

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    def has_add_permission(self, request):
        return False  # customers exist only through verification of their number

    @admin.display(description=_("name"))
    def masked_name(self, obj: Customer) -> str:
        return obj.masked_name

    @admin.display(description=_("mobile number"))
    def masked_phone(self, obj: Customer) -> str:
        return obj.masked_phone


@admin.register(OneTimeCode)
class OneTimeCodeAdmin(admin.ModelAdmin):
    list_display = ["__str__", "created_at", "expires_at", "used_at"]
    fields = ["created_at", "expires_at", "used_at"]
    readonly_fields = fields
    ordering = ["-created_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
