from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from preorder_shop.admin_filters import CheckedFilters
from preorder_shop.exceptions import DomainError
from preorder_shop.identifiers import NumberSearch

from . import services
from .models import Campaign, CancelledBy, Reservation, ReservationChange, Variant


class VariantInline(admin.TabularInline):
    model = Variant
    extra = 1
    fields = ["model_name", "capacity_gb", "colour", "price_krw"]


@admin.register(Campaign)
class CampaignAdmin(CheckedFilters, admin.ModelAdmin):
    list_display = [
        "name",
        "slug",
        "reservation_opens_at",
        "reservation_closes_at",
        "launch_date",
        "per_customer_limit",
    ]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [VariantInline]
    fieldsets = [
        (None, {"fields": ["name", "slug", "device_line", "per_customer_limit"]}),
        (
            _("Windows"),
            {
                "fields": [
                    ("reservation_opens_at", "reservation_closes_at"),
                    ("order_opens_at", "order_closes_at"),
                    "launch_date",
                ]
            },
        ),
        (
            _("Fulfilment"),
            {
                "fields": [
                    "offers_courier",
                    "offers_dawn_delivery",
                    ("offers_festival_pickup", "festival_capacity"),
                ]
            },
        ),
    ]


@admin.register(Variant)
class VariantAdmin(CheckedFilters, admin.ModelAdmin):
    list_display = ["__str__", "campaign", "price_krw"]
    list_filter = ["campaign", "model_name"]
    search_fields = ["model_name", "colour"]


class ReservationChangeInline(admin.TabularInline):
    """The reservation's history, read-only, with stored values named in words."""

    model = ReservationChange
    fields = [
        "at",
        "field",
        "from_label",
        "to_label",
        "actor_kind",
        "actor_user",
        "actor_label",
        "reason",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("from"))
    def from_label(self, obj: ReservationChange) -> str:
        return obj.value_label(obj.from_value)

    @admin.display(description=_("to"))
    def to_label(self, obj: ReservationChange) -> str:
        return obj.value_label(obj.to_value)


@admin.register(Reservation)
class ReservationAdmin(CheckedFilters, NumberSearch, admin.ModelAdmin):
    list_display = [
        "number",
        "position",
        "variant",
        "fulfilment",
        "status",
        "masked_customer",
        "created_at",
    ]
    list_filter = ["status", "campaign", "fulfilment", "variant__model_name"]
    list_select_related = ["variant", "customer"]
    # NumberSearch reads a typed reservation number first ("1234-5678", full-width digits).
    # An order number finds nothing here: orders sit above reservations (the order list can).
    search_fields = ["=number", "customer__phone__endswith"]
    search_help_text = _("Search by reservation number or the last 4 digits of the mobile number.")
    ordering = ["position"]
    show_full_result_count = False
    actions = ["cancel_selected"]
    inlines = [ReservationChangeInline]
    fields = [
        "number",
        "position",
        "campaign",
        "variant",
        "fulfilment",
        "status",
        "masked_customer",
        "created_at",
        "cancelled_at",
        "cancelled_by",
        "cancelled_by_user",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False  # reservations are accepted only through the FCFS intake service

    def has_delete_permission(self, request, obj=None):
        return False  # a queue position is never reused; cancel instead

    @admin.display(description=_("customer"))
    def masked_customer(self, obj: Reservation) -> str:
        return str(obj.customer)

    @admin.action(description=_("Cancel selected reservations"), permissions=["change"])
    def cancel_selected(self, request, queryset):
        done, refused = 0, 0
        for reservation in queryset:
            try:
                services.cancel_reservation(
                    reservation=reservation, by=CancelledBy.STAFF, staff_user=request.user
                )
            except DomainError:
                refused += 1
            else:
                done += 1
        if done:
            self.message_user(
                request,
                ngettext("Cancelled %d reservation.", "Cancelled %d reservations.", done) % done,
                messages.SUCCESS,
            )
        if refused:
            self.message_user(
                request,
                ngettext(
                    "%d reservation was not active and was left as it is.",
                    "%d reservations were not active and were left as they are.",
                    refused,
                )
                % refused,
                messages.WARNING,
            )
