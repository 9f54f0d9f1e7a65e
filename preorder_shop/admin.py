from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import outbox
from .admin_filters import CheckedFilters
from .models import Customer, OneTimeCode, Operation, OutboxMessage, PersonalDataAccess
from .personal_data import masked_payload
from .personal_data_admin import PersonalDataAdminMixin, customer_disclosure
from .phone import mask_phone

# The shop's name on every admin page, not "Django administration".
admin.site.site_header = _("Pre-order administration")
admin.site.site_title = _("Pre-order administration")


@admin.register(Customer)
class CustomerAdmin(CheckedFilters, PersonalDataAdminMixin, admin.ModelAdmin):
    """Masked everywhere; full details only by a recorded reveal (preorder_shop.personal_data)."""

    list_display = ["masked_name", "masked_phone", "created_at", "last_signed_in_at"]
    search_fields = ["phone__endswith"]
    search_help_text = _("Search by the last 4 digits of the mobile number.")
    date_hierarchy = "created_at"
    ordering = ["-created_at"]

    fields = ["masked_name", "masked_phone", "created_at", "last_signed_in_at"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False  # customers exist only through verification of their number

    def has_delete_permission(self, request, obj=None):
        return False  # signed-in sessions and reservations refer to customers

    def disclosure(self, obj: Customer):
        return customer_disclosure(obj)

    def call_target(self, obj: Customer) -> tuple[str, str]:
        return "phone", obj.phone

    @admin.display(description=_("name"))
    def masked_name(self, obj: Customer) -> str:
        return obj.masked_name

    @admin.display(description=_("mobile number"))
    def masked_phone(self, obj: Customer) -> str:
        return obj.masked_phone


@admin.register(OneTimeCode)
class OneTimeCodeAdmin(CheckedFilters, admin.ModelAdmin):
    list_display = ["masked_phone", "created_at", "expires_at", "used_at"]
    fields = ["masked_phone", "created_at", "expires_at", "used_at"]
    readonly_fields = fields
    ordering = ["-created_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("mobile number"))
    def masked_phone(self, obj: OneTimeCode) -> str:
        return mask_phone(obj.phone)


@admin.register(OutboxMessage)
class OutboxMessageAdmin(CheckedFilters, admin.ModelAdmin):
    """Read-only: rows change only by being sent, or by "Retry now" through the outbox.
    Recipient and payload masked for everyone; the customer's page reveals, recorded."""

    list_display = [
        "template_key",
        "channel",
        "masked_recipient",
        "status",
        "attempts",
        "next_attempt_at",
        "created_at",
        "sent_at",
    ]
    list_filter = ["status", "channel", "template_key"]
    search_fields = ["=reference"]
    search_help_text = _("Search by what a message is about, exactly, e.g. order:42.")
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    actions = ["retry_now"]

    fields = [
        "template_key",
        "channel",
        "masked_recipient",
        "language",
        "reference",
        "idempotency_key",
        "status",
        "attempts",
        "next_attempt_at",
        "claimed_at",
        "last_error",
        "created_at",
        "sent_at",
        "shown_payload",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False  # messages are written by the services that cause them

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # the outbox is the record of what customers were told

    def has_retry_permission(self, request) -> bool:
        return request.user.has_perm("preorder_shop.change_outboxmessage")

    @admin.display(description=_("recipient"))
    def masked_recipient(self, obj: OutboxMessage) -> str:
        return outbox.mask_recipient(obj.channel, obj.recipient)

    @admin.display(description=_("payload"))
    def shown_payload(self, obj: OutboxMessage) -> dict:
        return masked_payload(obj.payload)

    @admin.action(description=_("Retry now"), permissions=["retry"])
    def retry_now(self, request, queryset):
        selected = list(queryset.values_list("pk", flat=True))
        retried = outbox.retry(selected)
        if retried:
            self.message_user(
                request,
                ngettext(
                    "%(count)d failed message will be sent again.",
                    "%(count)d failed messages will be sent again.",
                    retried,
                )
                % {"count": retried},
                messages.SUCCESS,
            )
        skipped = len(selected) - retried
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%(count)d message was left alone: only failed messages whose content "
                    "was kept can be retried.",
                    "%(count)d messages were left alone: only failed messages whose content "
                    "was kept can be retried.",
                    skipped,
                )
                % {"count": skipped},
                messages.WARNING,
            )


@admin.register(Operation)
class OperationAdmin(CheckedFilters, admin.ModelAdmin):
    """The operations log, read-only: rows are written by the operations themselves."""

    list_display = ["at", "action", "reference", "actor_kind", "who", "summary"]
    list_filter = ["action", "actor_kind"]
    search_fields = ["action", "reference", "actor_label", "actor_user__username"]
    date_hierarchy = "at"
    fields = ["at", "action", "reference", "actor_kind", "who", "summary"]
    readonly_fields = fields
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("who"))
    def who(self, obj: Operation) -> str:
        return obj.actor_user.get_username() if obj.actor_user else obj.actor_label


@admin.register(PersonalDataAccess)
class PersonalDataAccessAdmin(CheckedFilters, admin.ModelAdmin):
    """The personal data access log, read-only: rows are written by each reveal, call and
    export (preorder_shop.personal_data), and the database refuses changes."""

    list_display = ["at", "staff_user", "kind", "customer", "customer_count", "reference"]
    list_filter = ["kind", "reason_code"]
    list_select_related = ["staff_user", "customer"]
    search_fields = ["staff_user__username", "reference"]
    date_hierarchy = "at"
    fields = [
        "at",
        "staff_user",
        "kind",
        "customer",
        "customer_count",
        "fields",
        "reference",
        "objects_shown",
        "reason_code",
        "reason",
        "ip_address",
    ]
    readonly_fields = fields
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
