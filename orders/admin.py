import datetime as dt

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from preorder_shop.admin import PERSONAL_DATA_PERMISSION
from preorder_shop.exceptions import DomainError
from preorder_shop.models import OutboxMessage

from . import services
from .models import Order, OrderStatus, OrderTransition, RatePlan


@admin.register(RatePlan)
class RatePlanAdmin(admin.ModelAdmin):
    list_display = ["name", "campaign", "monthly_fee_krw", "data_allowance_gb", "is_active"]
    list_filter = ["campaign", "is_active"]


class OrderTransitionInline(admin.TabularInline):
    model = OrderTransition
    fields = [
        "at",
        "from_status",
        "to_status",
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


class AgeFilter(admin.SimpleListFilter):
    title = _("age since submission")
    parameter_name = "age"
    age_choices = [("1", _("over 1 day")), ("3", _("over 3 days")), ("7", _("over 7 days"))]

    def lookups(self, request, model_admin):
        return self.age_choices

    def queryset(self, request, queryset):
        if self.value() in dict(self.age_choices):
            cutoff = timezone.now() - dt.timedelta(days=int(self.value()))
            return queryset.filter(submitted_at__lte=cutoff)
        return queryset


class TransitionForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))
    courier = forms.CharField(label=_("Courier"), required=False, max_length=50)
    tracking_number = forms.CharField(label=_("Tracking number"), required=False, max_length=50)


PERSONAL_FIELDS = [*services.ADDRESS_FIELDS, "port_in_number"]


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = [
        "number",
        "reservation_number",
        "variant",
        "status",
        "masked_customer",
        "submitted_at",
    ]
    list_filter = ["status", AgeFilter, "reservation__variant__model_name", "reservation__variant"]
    list_select_related = ["reservation__variant", "reservation__customer"]
    search_fields = ["=number", "=reservation__number", "reservation__customer__phone__endswith"]
    search_help_text = _(
        "Order number, reservation number, or the last 4 digits of the customer's mobile number."
    )
    ordering = ["-submitted_at"]
    show_full_result_count = False
    inlines = [OrderTransitionInline]
    actions = ["to_preparing", "to_shipped", "to_delivered", "to_cancelled"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_fields(self, request, obj=None):
        personal = (
            PERSONAL_FIELDS
            if request.user.has_perm(PERSONAL_DATA_PERMISSION)
            else ["masked_address"]
        )
        return [
            "number",
            "status",
            "reservation_link",
            "masked_customer",
            "plan",
            "join_type",
            "port_in_carrier",
            *personal,
            "courier",
            "tracking_number",
            "created_at",
            "submitted_at",
            "preparing_at",
            "shipped_at",
            "delivered_at",
            "closed_at",
            "notifications",
            "hold_link",
        ]

    def get_readonly_fields(self, request, obj=None):
        # Everything is read-only: status changes only through the actions below.
        return self.get_fields(request, obj)

    @admin.display(description=_("reservation"), ordering="reservation__number")
    def reservation_number(self, obj: Order) -> str:
        return obj.reservation.number

    @admin.display(description=_("variant"))
    def variant(self, obj: Order) -> str:
        return str(obj.reservation.variant)

    @admin.display(description=_("customer"))
    def masked_customer(self, obj: Order) -> str:
        return str(obj.reservation.customer)

    @admin.display(description=_("reservation"))
    def reservation_link(self, obj: Order) -> str:
        url = reverse("admin:reservations_reservation_change", args=[obj.reservation_id])
        return format_html('<a href="{}">{}</a>', url, obj.reservation.number)

    @admin.display(description=_("delivery address"))
    def masked_address(self, obj: Order) -> str:
        if not obj.recipient_name:
            return "—"
        return f"{obj.masked_recipient} {obj.masked_address}"

    @admin.display(description=_("hold"))
    def hold_link(self, obj: Order) -> str:
        """Holds belong to fulfilment (above this app): link to its form by URL name."""
        if not obj.number or obj.status not in (OrderStatus.RECEIVED, OrderStatus.PREPARING):
            return "—"
        url = reverse("admin:fulfillment_orderhold_place") + f"?order={obj.number}"
        return format_html('<a href="{}">{}</a>', url, _("Put this order on hold"))

    @admin.display(description=_("notifications"))
    def notifications(self, obj: Order) -> str:
        rows = OutboxMessage.objects.filter(reference=f"order:{obj.pk}").order_by("created_at")
        if not rows:
            return "—"
        return format_html_join(
            "",
            "<div>{} · {} · {} · {}</div>",
            (
                (
                    m.created_at.strftime("%Y-%m-%d %H:%M"),
                    m.template_key,
                    m.channel,
                    m.get_status_display(),
                )
                for m in rows
            ),
        )

    def _transition_action(self, request, queryset, to: str, title: str):
        form = TransitionForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            done, refused = 0, []
            for order in queryset:
                try:
                    services.transition(
                        order=order,
                        to=to,
                        actor=services.Actor.staff(request.user),
                        reason=form.cleaned_data["reason"],
                        courier=form.cleaned_data["courier"],
                        tracking_number=form.cleaned_data["tracking_number"],
                    )
                except DomainError as exc:
                    refused.append(f"{order}: {exc.message}")
                else:
                    done += 1
            if done:
                self.message_user(
                    request,
                    ngettext("%(n)d order moved.", "%(n)d orders moved.", done) % {"n": done},
                    messages.SUCCESS,
                )
            for line in refused:
                self.message_user(request, line, messages.ERROR)
            return None
        return TemplateResponse(
            request,
            "admin/orders/order/transition.html",
            {
                **self.admin_site.each_context(request),
                "title": title,
                "orders": queryset,
                "form": form,
                "action": request.POST["action"],
                "needs_tracking": to == OrderStatus.SHIPPED,
                "opts": self.model._meta,
            },
        )

    @admin.action(description=_("Move to preparing"), permissions=["transition"])
    def to_preparing(self, request, queryset):
        return self._transition_action(
            request, queryset, OrderStatus.PREPARING, _("Move to preparing")
        )

    @admin.action(description=_("Hand to courier (shipped)"), permissions=["transition"])
    def to_shipped(self, request, queryset):
        return self._transition_action(
            request, queryset, OrderStatus.SHIPPED, _("Hand to courier")
        )

    @admin.action(
        description=_("Record courier's delivery confirmation"), permissions=["transition"]
    )
    def to_delivered(self, request, queryset):
        return self._transition_action(
            request, queryset, OrderStatus.DELIVERED, _("Record delivery confirmation")
        )

    @admin.action(description=_("Cancel orders"), permissions=["transition"])
    def to_cancelled(self, request, queryset):
        return self._transition_action(
            request, queryset, OrderStatus.CANCELLED, _("Cancel orders")
        )

    def has_transition_permission(self, request) -> bool:
        return request.user.has_perm("orders.transition_order")
