from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import Allocation, StockLot


@admin.register(StockLot)
class StockLotAdmin(admin.ModelAdmin):
    list_display = ["reference", "variant", "quantity", "arrives_at"]
    list_filter = ["variant__campaign", "variant__model_name"]
    search_fields = ["reference"]
    ordering = ["arrives_at"]

    def has_delete_permission(self, request, obj=None):
        return False  # units of a lot may already be allocated


@admin.register(Allocation)
class AllocationAdmin(admin.ModelAdmin):
    list_display = [
        "reservation_number",
        "position",
        "variant",
        "lot",
        "allocated_at",
        "released_at",
        "release_reason",
    ]
    list_filter = ["release_reason", "variant__model_name"]
    list_select_related = ["reservation", "variant", "lot"]
    search_fields = ["=reservation__number", "=lot__reference"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False  # units are allocated by the FCFS allocation run only

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("reservation"), ordering="reservation__number")
    def reservation_number(self, obj: Allocation) -> str:
        return obj.reservation.number

    @admin.display(description=_("queue position"), ordering="reservation__position")
    def position(self, obj: Allocation) -> int:
        return obj.reservation.position
