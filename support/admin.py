"""Support in admin. Tickets: read-only, personal data masked; a ticket's status, messages
and history change only through support.services (the staff queue and reply tools are issue
15's), so that page has no editable field, no add and no delete. Help articles and notices:
written here by support agents; a notice's customers are messaged through
support.notice_messaging after a preview. Deflections: read only."""

import datetime as dt

from django.contrib import admin
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from orders.services import address_change_refusal
from preorder_shop import outbox
from preorder_shop.admin_filters import CheckedFilters
from preorder_shop.identifiers import NumberSearch
from preorder_shop.models import OutboxChannel, OutboxMessage

from . import admin_bulk, articles
from .admin_macros import MacroAdmin  # noqa: F401 (registers the canned replies)
from .admin_reply import reply_view
from .callback_admin import CallbackSlotAdmin  # noqa: F401 (registers slots and bookings)
from .figures_admin import url as figures_url
from .models import Deflection, HelpArticle, Ticket, TicketHistory, TicketMessage
from .notice_admin import NoticeAdmin  # noqa: F401 (registers the notices)
from .queue_admin import QueueTools
from .sla_admin import RoundTheClockAdmin, SlaPolicyAdmin  # noqa: F401 (registers them)


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
        "assignee",
        "note",
    ]


@admin.register(Ticket)
class TicketAdmin(QueueTools, CheckedFilters, NumberSearch, admin.ModelAdmin):
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
    # Agent tools (issue 15, support.admin_bulk): bulk reply and merge; filter by variant.
    list_filter = [*list_filter, admin_bulk.VariantFilter]
    actions = [admin_bulk.reply_in_bulk, admin_bulk.merge_duplicates]
    has_reply_permission = admin_bulk.has_reply_permission
    has_merge_permission = admin_bulk.has_merge_permission
    list_select_related = ["customer", "reservation", "order", "order__reservation"]
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
        "delivery_address",
        "reply",
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

    def get_urls(self):
        return [
            path(
                "<path:object_id>/reply/",
                self.admin_site.admin_view(lambda r, object_id: reply_view(self, r, object_id)),
                name="support_ticket_reply",
            ),
            figures_url(self.admin_site),
            *super().get_urls(),
        ]

    @admin.display(description=_("reply"))
    def reply(self, obj: Ticket) -> str:
        url = reverse("admin:support_ticket_reply", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Reply to the customer"))

    @admin.display(description=_("delivery address"))
    def delivery_address(self, obj: Ticket) -> str:
        """The agent's way to the order's address door (orders.services.address, the same as
        the customer's), or why it is closed."""
        if not obj.order_id or obj.order.number is None:
            return "—"
        refusal = address_change_refusal(obj.order)
        if refusal is not None:
            return str(refusal.message)
        url = reverse("admin:orders_order_change_address", args=[obj.order_id])
        return format_html('<a href="{}">{}</a>', url, _("Change delivery address"))

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


@admin.register(HelpArticle)
class HelpArticleAdmin(CheckedFilters, admin.ModelAdmin):
    """Support agents write and publish the ticket form's answers (drafts are shown to no
    one); deleting is an Administrator's."""

    list_display = ["title_ko", "category", "status", "display_order", "has_english", "updated_at"]
    list_filter = ["category", "status"]
    search_fields = ["title_ko", "title_en"]
    ordering = ["category", "display_order", "pk"]
    fields = [
        "category",
        "status",
        "display_order",
        "title_ko",
        "body_ko",
        "title_en",
        "body_en",
        "deflection_count",
        "created_at",
        "updated_at",
    ]
    readonly_fields = ["deflection_count", "created_at", "updated_at"]

    def save_model(self, request, obj: HelpArticle, form, change) -> None:
        obj.updated_at = timezone.now()
        super().save_model(request, obj, form, change)

    @admin.display(description=_("English"), boolean=True)
    def has_english(self, obj: HelpArticle) -> bool:
        return bool(obj.title_en)

    @admin.display(description=_("answered a question (times)"))
    def deflection_count(self, obj: HelpArticle) -> int:
        return obj.deflections.count() if obj.pk else 0


@admin.register(Deflection)
class DeflectionAdmin(CheckedFilters, admin.ModelAdmin):
    """ "This answered my question", one row per form attempt: read only (support.articles
    writes them). Customers masked."""

    list_display = ["at", "category", "article", "masked_customer"]
    list_filter = ["category"]
    list_select_related = ["article", "customer"]
    date_hierarchy = "at"
    ordering = ["-at"]
    show_full_result_count = False
    fields = readonly_fields = ["at", "category", "article", "masked_customer"]
    change_list_template = "support/admin/deflection_change_list.html"
    RATE_DAYS = 7

    def changelist_view(self, request, extra_context=None):
        since = timezone.now() - dt.timedelta(days=self.RATE_DAYS)
        rates = articles.deflection_rates(since=since)
        extra = {"rates": rates, "rate_days": self.RATE_DAYS, **(extra_context or {})}
        return super().changelist_view(request, extra_context=extra)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # the deflection rate is a record

    @admin.display(description=_("customer"))
    def masked_customer(self, obj: Deflection) -> str:
        return str(obj.customer) if obj.customer_id else _("signed out")
