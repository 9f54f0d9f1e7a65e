import datetime as dt

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from preorder_shop.actors import Actor
from preorder_shop.admin_filters import CheckedFilters
from preorder_shop.identifiers import NumberSearch
from preorder_shop.models import OutboxMessage
from preorder_shop.personal_data import Disclosure
from preorder_shop.personal_data_admin import PersonalDataAdminMixin
from preorder_shop.phone import mask_phone, national_format

from . import services
from .exceptions import AddressNotChangeable, InvalidAddress, ReasonRequired
from .forms import StaffAddressForm
from .models import (
    ADDRESS_FIELDS,
    Order,
    OrderAddressChange,
    OrderStatus,
    OrderTransition,
    RatePlan,
)


@admin.register(RatePlan)
class RatePlanAdmin(CheckedFilters, admin.ModelAdmin):
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


def masked_details(values: dict) -> str:
    """Delivery details (an address history row's before or after) masked as the order's."""
    order = Order(**{name: values.get(name, "") for name in ADDRESS_FIELDS})
    return f"{order.masked_recipient} {order.masked_address}".strip() or "—"


class OrderAddressChangeInline(admin.TabularInline):
    model = OrderAddressChange
    fields = [
        "at",
        "masked_before",
        "masked_after",
        "actor_kind",
        "actor_user",
        "reason",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False  # through "Change delivery address", which records the row itself

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("before"))
    def masked_before(self, row: OrderAddressChange) -> str:
        return masked_details(row.before)

    @admin.display(description=_("after"))
    def masked_after(self, row: OrderAddressChange) -> str:
        return masked_details(row.after)


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


# What an order's "Show full details" reveals (recorded); the page itself stays masked.
PERSONAL_FIELDS = [*services.ADDRESS_FIELDS, "port_in_number"]
PHONE_FIELDS = {"recipient_phone", "port_in_number"}


@admin.register(Order)
class OrderAdmin(CheckedFilters, NumberSearch, PersonalDataAdminMixin, admin.ModelAdmin):
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
    # NumberSearch reads a typed order or reservation number first ("123-4567-8901",
    # full-width digits): either finds the order.
    search_fields = ["=number", "=reservation__number", "reservation__customer__phone__endswith"]
    search_help_text = _(
        "Order number, reservation number, or the last 4 digits of the customer's mobile number."
    )
    ordering = ["-submitted_at"]
    show_full_result_count = False
    inlines = [OrderTransitionInline, OrderAddressChangeInline]
    change_form_template = "admin/orders/order_change_form.html"

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path(
                "<path:object_id>/delivery-address/",
                self.admin_site.admin_view(self.change_address_view),
                name="orders_order_change_address",
            ),
            *super().get_urls(),
        ]

    def has_change_address_permission(self, request, obj=None) -> bool:
        return self.has_view_permission(request, obj) and request.user.has_perm(
            "orders.add_orderaddresschange"
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        may_change = (
            obj is not None
            and self.has_change_address_permission(request, obj)
            and services.address_change_refusal(obj) is None
        )
        extra_context = {**(extra_context or {}), "can_change_address": may_change}
        return super().change_view(request, object_id, form_url, extra_context)

    def change_address_view(self, request, object_id):
        """The same door as the customer's (orders.services.address), as staff with a
        reason: the current details masked, the new ones typed in whole."""
        order = self.get_object(request, unquote(object_id))
        if order is None:
            raise Http404
        if not self.has_change_address_permission(request, order):
            raise PermissionDenied
        change_url = reverse("admin:orders_order_change", args=[order.pk])
        refusal = services.address_change_refusal(order)
        if refusal is not None:
            self.message_user(request, refusal.message, messages.ERROR)
            return redirect(change_url)
        form = StaffAddressForm(request.POST if request.method == "POST" else None)
        if request.method == "POST":
            form.full_clean()
            try:
                changed = services.change_delivery_address(
                    order=order,
                    actor=Actor.staff(request.user),
                    reason=request.POST.get("reason", ""),
                    **{name: request.POST.get(name, "") for name in ADDRESS_FIELDS},
                )
            except InvalidAddress as exc:
                for name, errors in exc.errors.items():
                    if name not in form.errors:
                        form.add_error(name, errors)
            except ReasonRequired as exc:
                form.add_error("reason", exc.message)
            except AddressNotChangeable as exc:
                self.message_user(request, exc.message, messages.ERROR)
                return redirect(change_url)
            else:
                said = (
                    _("Nothing changed: the order already has this delivery address.")
                    if changed is None
                    else _("The delivery address is changed; the customer gets a text message.")
                )
                self.message_user(request, said, messages.SUCCESS)
                return redirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": order,
            "title": _("Change delivery address of %(order)s") % {"order": order},
            "change_url": change_url,
            "current": self.masked_address(order),
            "form": form,
        }
        return TemplateResponse(request, "admin/orders/order_address.html", context)

    def get_fields(self, request, obj=None):
        return [
            "number",
            "status",
            "reservation_link",
            "masked_customer",
            "plan",
            "join_type",
            "port_in_carrier",
            "masked_port_in_number",
            "masked_address",
            "courier",
            "tracking_number",
            "created_at",
            "submitted_at",
            "preparing_at",
            "shipped_at",
            "delivered_at",
            "closed_at",
            "notifications",
        ]

    def get_readonly_fields(self, request, obj=None):
        # Everything is read-only: status changes only through the forward-move actions
        # fulfilment adds (fulfillment/order_admin.py), each a door with its rules.
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

    @admin.display(description=_("number to move"))
    def masked_port_in_number(self, obj: Order) -> str:
        return mask_phone(obj.port_in_number) if obj.port_in_number else "—"

    def disclosure(self, obj: Order) -> Disclosure:
        return Disclosure(
            customer=obj.reservation.customer,
            reference=f"order {obj.number or '#' + str(obj.pk)}",
            fields=[
                (
                    name,
                    Order._meta.get_field(name).verbose_name,
                    national_format(value) if name in PHONE_FIELDS else value,
                )
                for name in PERSONAL_FIELDS
                if (value := getattr(obj, name))
            ],
        )

    def call_target(self, obj: Order) -> tuple[str, str]:
        """The delivery's recipient; before the order form has one, the customer."""
        if obj.recipient_phone:
            return "recipient_phone", obj.recipient_phone
        return "customer.phone", obj.reservation.customer.phone

    @admin.display(description=_("notifications"))
    def notifications(self, obj: Order) -> str:
        rows = OutboxMessage.objects.filter(reference=f"order:{obj.pk}").order_by("created_at")
        if not rows:
            return "—"
        return format_html_join(
            "",
            # The template key, which the outbox list filters by, as the row's tooltip.
            '<div title="{}">{} · {} · {} · {}</div>',
            (
                (
                    m.template_key,
                    # In Seoul time and the page's format, like every other time in admin.
                    formats.date_format(timezone.localtime(m.created_at), "SHORT_DATETIME_FORMAT"),
                    _notice_label(m.template_key),
                    m.get_channel_display(),
                    m.get_status_display(),
                )
                for m in rows
            ),
        )


def _notice_label(template_key: str) -> str:
    """ "order.preparing" in words: the status the message told the customer about."""
    status = template_key.removeprefix("order.")
    if status == "address_changed":
        return _("Delivery address change notice")
    if status in OrderStatus.values:
        return _("%(status)s notice") % {"status": OrderStatus(status).label}
    return template_key
