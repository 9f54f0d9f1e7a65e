"""Canned replies in admin (issue 15): support agents write them in Korean and English; the
form refuses an unknown placeholder when saving (support.models.macros). Inactive ones are
kept (a bulk reply's record names its macro) and not offered; deleting is an
Administrator's. Registered by support.admin."""

from django.contrib import admin
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from preorder_shop.admin_filters import CheckedFilters

from .models import Macro
from .models.macros import PLACEHOLDERS


@admin.register(Macro)
class MacroAdmin(CheckedFilters, admin.ModelAdmin):
    list_display = ["title_ko", "category", "active", "has_english", "updated_at"]
    list_filter = ["active", "category"]
    search_fields = ["title_ko", "title_en"]
    ordering = ["category", "title_ko", "pk"]
    fields = [
        "title_ko",
        "body_ko",
        "title_en",
        "body_en",
        "placeholders",
        "category",
        "active",
        "created_at",
        "updated_at",
    ]
    readonly_fields = ["placeholders", "created_at", "updated_at"]

    def save_model(self, request, obj: Macro, form, change) -> None:
        obj.updated_at = timezone.now()
        super().save_model(request, obj, form, change)

    @admin.display(description=_("English"), boolean=True)
    def has_english(self, obj: Macro) -> bool:
        return bool(obj.title_en)

    @admin.display(description=_("placeholders"))
    def placeholders(self, obj: Macro) -> str:
        return format_html(
            "{}<br>{}",
            " ".join(f"{{{name}}}" for name in PLACEHOLDERS),
            _(
                "Filled for each ticket from its order's live status when the reply is "
                "written, in the customer's language."
            ),
        )
