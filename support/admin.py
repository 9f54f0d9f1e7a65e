"""Tickets in admin: read-only, personal data masked. A ticket's status, messages and history
change only through support.services (the staff queue and reply tools are issue 15's), so
this page has no editable field, no add and no delete."""

from django.contrib import admin
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from preorder_shop import outbox
from preorder_shop.admin_filters import CheckedFilters
from preorder_shop.identifiers import NumberSearch
from preorder_shop.models import OutboxChannel, OutboxMessage

from .models import Ticket, TicketHistory, TicketMessage


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class TicketMessageInline(ReadOnlyInline):
    """The whole conversation, internal notes included (staff only ever see this page)."""

    model = TicketMessage
    fields = ["created_at", "author_kind", "staff_user", "internal", "body"]


class TicketHistoryInline(ReadOnlyInline):
    model = TicketHistory
    fields = [
        "at",
        "change",
        "from_status",
        "to_status",
        "actor_kind",
        "actor_user",
        "actor_label",
        "note",
    ]


@admin.register(Ticket)
class TicketAdmin(CheckedFilters, NumberSearch, admin.ModelAdmin):
    list_display = [
        "number",
        "category",
        "status",
        "verified",
        "masked_contact",
        "reservation_number",
        "order_number",
        "created_at",
        "status_changed_at",
    ]
    list_filter = ["status", "category", "verified"]
    list_select_related = ["customer", "reservation", "order"]
    # NumberSearch reads a typed ticket, reservation or order number first ("t123-456-789").
    search_fields = [
        "=number",
        "=reservation__number",
        "=order__number",
        "customer__phone__endswith",
        "contact_phone__endswith",
    ]
    search_help_text = _(
        "Ticket, reservation or order number, or the last 4 digits of the mobile number."
    )
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    show_full_result_count = False
    inlines = [TicketMessageInline, TicketHistoryInline]
    fields = [
        "number",
        "status",
        "category",
        "verified",
        "masked_contact",
        "masked_email",
        "language",
        "reservation_link",
        "order_link",
        "created_at",
        "status_changed_at",
        "solved_at",
        "notifications",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False  # customers open tickets (support.services)

    def has_change_permission(self, request, obj=None):
        return False  # status moves through support.services only

    def has_delete_permission(self, request, obj=None):
        return False  # a ticket is the record of what the customer asked and was told

    @admin.display(description=_("customer"))
    def masked_contact(self, obj: Ticket) -> str:
        return obj.masked_contact

    @admin.display(description=_("e-mail for replies"))
    def masked_email(self, obj: Ticket) -> str:
        if not obj.reply_email:
            return "—"
        return outbox.mask_recipient(OutboxChannel.EMAIL, obj.reply_email)

    @admin.display(description=_("reservation"), ordering="reservation__number")
    def reservation_number(self, obj: Ticket) -> str:
        return obj.reservation.number if obj.reservation_id else "—"

    @admin.display(description=_("order"), ordering="order__number")
    def order_number(self, obj: Ticket) -> str:
        return (obj.order.number or "—") if obj.order_id else "—"

    @admin.display(description=_("reservation"))
    def reservation_link(self, obj: Ticket) -> str:
        if not obj.reservation_id:
            return "—"
        url = reverse("admin:reservations_reservation_change", args=[obj.reservation_id])
        return format_html('<a href="{}">{}</a>', url, obj.reservation.number)

    @admin.display(description=_("order"))
    def order_link(self, obj: Ticket) -> str:
        if not obj.order_id:
            return "—"
        url = reverse("admin:orders_order_change", args=[obj.order_id])
        return format_html('<a href="{}">{}</a>', url, obj.order.number or f"#{obj.order_id}")

    @admin.display(description=_("notifications"))
    def notifications(self, obj: Ticket) -> str:
        rows = OutboxMessage.objects.filter(reference=f"ticket:{obj.pk}").order_by("created_at")
        if not rows:
            return "—"
        return format_html_join(
            "",
            "<div>{} · {} · {} · {}</div>",
            (
                (
                    formats.date_format(timezone.localtime(m.created_at), "SHORT_DATETIME_FORMAT"),
                    m.template_key,
                    m.get_channel_display(),
                    m.get_status_display(),
                )
                for m in rows
            ),
        )
