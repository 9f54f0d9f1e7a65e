from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy

from orders.models import Order
from preorder_shop.admin_filters import CheckedFilters
from preorder_shop.exceptions import DomainError
from preorder_shop.identifiers import ORDER_NUMBER, IdentifierField, NumberSearch

from . import order_admin  # noqa: F401 (registers the order admin's moves)
from .audit_views import fairness_view, stuck_view
from .models import Allocation, HoldAlert, OrderHold, QueueException, StockLot
from .services import holds


class StockLotForm(forms.ModelForm):
    """Says plainly what the database would refuse: a lot cannot shrink below the units it
    has given out, nor move to another variant once used (trigger of migration 0003)."""

    class Meta:
        model = StockLot
        fields = ["variant", "quantity", "arrives_at", "reference"]

    def clean(self):
        cleaned = super().clean()
        lot = self.instance
        if lot.pk is None:
            return cleaned
        # By variant as well: the active-allocation index is (variant, lot).
        active = lot.allocations.filter(variant=lot.variant_id, released_at__isnull=True).count()
        if cleaned.get("quantity") is not None and cleaned["quantity"] < active:
            self.add_error(
                "quantity",
                _("%(count)d units of this lot are allocated; the quantity cannot go below that.")
                % {"count": active},
            )
        if cleaned.get("variant") not in (None, lot.variant) and lot.allocations.exists():
            self.add_error("variant", _("Units of this lot were allocated; its variant is fixed."))
        return cleaned


@admin.register(StockLot)
class StockLotAdmin(CheckedFilters, admin.ModelAdmin):
    form = StockLotForm
    list_display = ["reference", "variant", "quantity", "arrives_at"]
    list_filter = ["variant__campaign", "variant__model_name"]
    search_fields = ["reference"]
    ordering = ["arrives_at"]

    def has_delete_permission(self, request, obj=None):
        return False  # units of a lot may already be allocated


@admin.register(Allocation)
class AllocationAdmin(CheckedFilters, NumberSearch, admin.ModelAdmin):
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

    def get_urls(self):
        # The fairness audit reads allocations (and orders): whoever may view allocations
        # may see it.
        site = self.admin_site
        urls = [
            path(
                "fairness/",
                site.admin_view(lambda request: fairness_view(request, site)),
                name="fulfillment_fairness",
            ),
            path(
                "stuck/",
                site.admin_view(lambda request: stuck_view(request, site)),
                name="fulfillment_stuck_orders",
            ),
        ]
        return urls + super().get_urls()

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


# Holds, the fairness audit and stuck orders.


class HoldActiveFilter(admin.SimpleListFilter):
    title = _("hold")
    parameter_name = "active"

    def lookups(self, request, model_admin):
        # "Active" alone is a reservation's status (예약 완료); a hold is in force (보류 중).
        return [
            ("yes", pgettext_lazy("hold", "Active")),
            ("no", pgettext_lazy("hold", "Released")),
        ]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(released_at__isnull=True)
        if self.value() == "no":
            return queryset.filter(released_at__isnull=False)
        return queryset


class PlaceHoldForm(forms.Form):
    order_number = IdentifierField(kind=ORDER_NUMBER, label=_("Order number"))
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Kept with the hold; the audit shows it as the reason the order waited. A hold "
            "stops the pipeline and staff from preparing or handing over the order. It cannot "
            "stop a parcel a courier already has: if the courier reports a hand-over or a "
            "delivery, it is recorded as it happened and you get a hold alert."
        ),
    )

    def clean_order_number(self) -> Order:
        # The field has read the number with the identifier registry (a reservation number
        # is named as one); here only whether such an order exists.
        order = Order.objects.filter(number=self.cleaned_data["order_number"]).first()
        if order is None:
            raise forms.ValidationError(_("No order has this number."))
        return order


@admin.register(OrderHold)
class OrderHoldAdmin(CheckedFilters, NumberSearch, admin.ModelAdmin):
    """Holds are placed through the "Place a hold" form (holds.place_hold) and ended by the
    "Release" action (holds.release_hold); rows are never edited or deleted."""

    list_display = [
        "order_number",
        "order_status",
        "variant",
        "position",
        "reason",
        "placed_by",
        "placed_at",
        "released_by",
        "released_at",
    ]
    list_filter = [HoldActiveFilter, "order__status"]
    list_select_related = ["order__reservation__variant", "placed_by", "released_by"]
    search_fields = ["=order__number"]
    search_help_text = _("Search by order number, exactly.")
    ordering = ["-placed_at"]
    fields = readonly_fields = list_display  # the detail page shows the same, read-only
    actions = ["release"]

    def has_delete_permission(self, request, obj=None):
        return False  # a released hold stays as the record of why the order waited

    def get_urls(self):
        urls = [
            path(
                "place/",
                self.admin_site.admin_view(self.place_view),
                name="fulfillment_orderhold_place",
            ),
        ]
        return urls + super().get_urls()

    def add_view(self, request, form_url="", extra_context=None):
        # The model form cannot go through the service: "Add hold" opens the place form,
        # for whoever may place a hold (the place form checks again).
        if not self.has_add_permission(request):
            raise PermissionDenied
        return HttpResponseRedirect(reverse("admin:fulfillment_orderhold_place"))

    def place_view(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        initial = {"order_number": request.GET.get("order", "")}
        form = PlaceHoldForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            try:
                hold = holds.place_hold(
                    order=form.cleaned_data["order_number"],
                    staff_user=request.user,
                    reason=form.cleaned_data["reason"],
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(
                    request,
                    _("Order %(number)s is on hold. It keeps its place in line.")
                    % {"number": hold.order.number},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:fulfillment_orderhold_changelist"))
        return TemplateResponse(
            request,
            "admin/fulfillment/orderhold/place.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Put an order on hold"),
                "form": form,
                "opts": self.model._meta,
            },
        )

    @admin.action(description=_("Release"), permissions=["change"])
    def release(self, request, queryset):
        released = 0
        for hold in queryset.filter(released_at__isnull=True).select_related("order"):
            try:
                holds.release_hold(order=hold.order, staff_user=request.user)
            except DomainError as exc:
                self.message_user(request, f"{hold.order}: {exc.message}", messages.ERROR)
            else:
                released += 1
        self.message_user(
            request,
            ngettext("%(n)d hold released.", "%(n)d holds released.", released) % {"n": released},
            messages.SUCCESS if released else messages.WARNING,
        )

    @admin.display(description=_("order"), ordering="order__number")
    def order_number(self, obj: OrderHold) -> str:
        url = reverse("admin:orders_order_change", args=[obj.order_id])
        return format_html('<a href="{}">{}</a>', url, obj.order.number)

    @admin.display(description=_("order status"), ordering="order__status")
    def order_status(self, obj: OrderHold) -> str:
        return obj.order.get_status_display()

    @admin.display(description=_("variant"))
    def variant(self, obj: OrderHold) -> str:
        return str(obj.order.reservation.variant)

    @admin.display(description=_("queue position"), ordering="order__reservation__position")
    def position(self, obj: OrderHold) -> int:
        return obj.order.reservation.position


class AlertOpenFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "open"

    def lookups(self, request, model_admin):
        return [("yes", _("Open")), ("no", _("Resolved"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(resolved_at__isnull=True)
        if self.value() == "no":
            return queryset.filter(resolved_at__isnull=False)
        return queryset


def _order_link(order: Order) -> str:
    url = reverse("admin:orders_order_change", args=[order.pk])
    return format_html('<a href="{}">{}</a>', url, order.number)


@admin.register(HoldAlert)
class HoldAlertAdmin(CheckedFilters, NumberSearch, admin.ModelAdmin):
    """Courier events for orders on hold: recorded as they happened; staff resolve them."""

    list_display = [
        "order",
        "order_status",
        "event",
        "hold_reason",
        "raised_at",
        "resolved_by",
        "resolved_at",
    ]
    list_filter = [AlertOpenFilter]
    list_select_related = ["courier_event__order", "hold", "resolved_by"]
    search_fields = ["=courier_event__order__number", "=courier_event__tracking_number"]
    search_help_text = _("Search by order number or tracking number, exactly.")
    fields = readonly_fields = list_display
    actions = ["resolve"]

    def has_add_permission(self, request):
        return False  # raised by courier events only

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Mark as resolved"), permissions=["change"])
    def resolve(self, request, queryset):
        resolved = 0
        for alert in queryset.filter(resolved_at__isnull=True):
            holds.resolve_alert(alert=alert, staff_user=request.user)
            resolved += 1
        self.message_user(
            request,
            ngettext("%(n)d alert resolved.", "%(n)d alerts resolved.", resolved)
            % {"n": resolved},
            messages.SUCCESS if resolved else messages.WARNING,
        )

    @admin.display(description=_("order"))
    def order(self, obj: HoldAlert) -> str:
        return _order_link(obj.courier_event.order)

    @admin.display(description=_("order status"))
    def order_status(self, obj: HoldAlert) -> str:
        return obj.courier_event.order.get_status_display()

    @admin.display(description=_("courier event"))
    def event(self, obj: HoldAlert) -> str:
        e = obj.courier_event
        when = formats.date_format(timezone.localtime(e.occurred_at), "SHORT_DATETIME_FORMAT")
        return f"{e.get_kind_display()} · {e.courier} {e.tracking_number} · {when}"

    @admin.display(description=_("hold reason"))
    def hold_reason(self, obj: HoldAlert) -> str:
        return obj.hold.reason


@admin.register(QueueException)
class QueueExceptionAdmin(CheckedFilters, NumberSearch, admin.ModelAdmin):
    """Staff moves to preparing past ready lower positions, each with its reason."""

    list_display = [
        "order_number",
        "passed_position",
        "passed_count",
        "reason",
        "staff_user",
        "at",
    ]
    list_select_related = ["order", "staff_user"]
    search_fields = ["=order__number"]
    fields = readonly_fields = list_display

    def has_add_permission(self, request):
        return False  # written by fulfillment.services.moves.start_preparing only

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("order"), ordering="order__number")
    def order_number(self, obj: QueueException) -> str:
        return _order_link(obj.order)
