from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .actors import Actor, ActorKind
from .phone import E164_MOBILE_PATTERN, mask_name, mask_phone


class Customer(models.Model):
    """A person known by a verified Korean mobile number. No password: one-time codes only."""

    phone = models.CharField(_("mobile number"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=50)
    # The language of the customer's last sign-in: notifications are written in it.
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default="ko", db_default="ko"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    last_signed_in_at = models.DateTimeField(_("last signed in"), null=True, blank=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        permissions = [
            ("view_personal_data", _("Can see unmasked names, phones and addresses")),
            # Separate from viewing: the recorded call link and the courier manifest
            # (preorder_shop.personal_data) use a number without showing it on a page.
            ("call_customer", _("Can call customers through the recorded call link")),
            ("export_personal_data", _("Can export names, phones and addresses")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(phone__regex=E164_MOBILE_PATTERN),
                name="customer_phone_is_e164_kr_mobile",
            ),
            models.CheckConstraint(condition=~Q(name=""), name="customer_name_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{mask_name(self.name)} {mask_phone(self.phone)}"

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    @property
    def masked_name(self) -> str:
        return mask_name(self.name)


class OneTimeCode(models.Model):
    """A 6-digit sign-in code, stored only as a keyed hash. Single use, short-lived."""

    phone = models.CharField(_("mobile number"), max_length=16)
    code_hash = models.CharField(_("code hash"), max_length=64)
    created_at = models.DateTimeField(_("sent at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("one-time code")
        verbose_name_plural = _("one-time codes")
        indexes = [models.Index(fields=["phone", "-created_at"], name="otp_phone_recent_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=F("created_at")), name="otp_expires_after_creation"
            ),
            models.CheckConstraint(
                condition=Q(used_at__isnull=True) | Q(used_at__gte=F("created_at")),
                name="otp_used_after_creation",
            ),
        ]

    def __str__(self) -> str:
        # Admin's title and breadcrumb for the row: in the page's language, and without a
        # time (the list's columns show the times, in Seoul time).
        return _("code for %(phone)s") % {"phone": mask_phone(self.phone)}


class OutboxChannel(models.TextChoices):
    SMS = "sms", _("SMS")
    EMAIL = "email", _("E-mail")


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class OutboxMessage(models.Model):
    """A notification that must not be lost: written in the transaction that caused it,
    sent after commit by a task, swept up by beat if that task never ran."""

    channel = models.CharField(_("channel"), max_length=16, choices=OutboxChannel.choices)
    recipient = models.CharField(_("recipient"), max_length=254)
    template_key = models.CharField(_("template"), max_length=64)
    language = models.CharField(_("language"), max_length=8, default="ko")
    payload = models.JSONField(_("payload"), default=dict, blank=True)
    # Secrets (one-time codes) are wiped from the payload once the message is final.
    redact_when_final = models.BooleanField(_("redact when final"), default=False)
    # Unique and indexed through Meta rather than unique=/db_index=, which on PostgreSQL add
    # a second LIKE-pattern index per column: nothing searches these by prefix, and batch
    # queuing (a million allocation notices) pays for every index on every row.
    idempotency_key = models.CharField(_("idempotency key"), max_length=200)
    # What the message is about, e.g. "order:42", so staff see the messages of an order.
    reference = models.CharField(_("about"), max_length=64, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["reference"], name="outbox_reference_idx"),
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending"),
                name="outbox_due_idx",
            ),
            models.Index(
                fields=["claimed_at"], condition=Q(status="sending"), name="outbox_sending_idx"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["idempotency_key"], name="outbox_idempotency_key_unique"
            ),
            models.CheckConstraint(
                condition=Q(status__in=OutboxStatus.values), name="outbox_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(channel__in=OutboxChannel.values), name="outbox_channel_valid"
            ),
            models.CheckConstraint(
                condition=(Q(status="sent") & Q(sent_at__isnull=False))
                | (~Q(status="sent") & Q(sent_at__isnull=True)),
                name="outbox_sent_at_iff_sent",
            ),
            models.CheckConstraint(
                condition=~Q(status="sending") | Q(claimed_at__isnull=False),
                name="outbox_sending_is_claimed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.template_key} via {self.channel} ({self.status})"


class ActedBy(models.Model):
    """Who made a change, for the product's histories and its operations log: the kind of
    actor (preorder_shop.actors), the staff user when staff, else a label (the worker,
    courier or operator by name)."""

    actor_kind = models.CharField(_("by"), max_length=16, choices=ActorKind.choices)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("staff member"),
    )
    actor_label = models.CharField(_("worker, courier or operator"), max_length=100, blank=True)

    class Meta:
        abstract = True

    @staticmethod
    def fields_for(actor: Actor) -> dict:
        return {"actor_kind": actor.kind, "actor_user": actor.user, "actor_label": actor.label}

    @staticmethod
    def constraints(prefix: str) -> list[models.CheckConstraint]:
        """A user only for staff, and staff always named; `prefix` names the constraints."""
        return [
            models.CheckConstraint(
                condition=Q(actor_user__isnull=True) | Q(actor_kind="staff"),
                name=f"{prefix}_user_is_staff",
            ),
            models.CheckConstraint(
                condition=~Q(actor_kind="staff") | Q(actor_user__isnull=False),
                name=f"{prefix}_staff_named",
            ),
        ]


class Operation(ActedBy):
    """One operator action on the campaign (an allocation run, a festival draw's commit or
    reveal, a stock or tracking import): what was done, by whom (a staff user, a worker, or
    an operator running a command) and what it changed. Append-only (migration)."""

    action = models.CharField(_("action"), max_length=64, db_index=True)
    reference = models.CharField(
        _("on"), max_length=200, blank=True, help_text=_("The campaign, file or object.")
    )
    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    summary = models.JSONField(_("summary"), default=dict, blank=True)

    class Meta:
        verbose_name = _("operation")
        verbose_name_plural = _("operations log")
        ordering = ["-at", "-pk"]
        constraints = ActedBy.constraints("operation")

    def __str__(self) -> str:
        return f"{self.action} {self.reference}".strip()


class AccessKind(models.TextChoices):
    VIEW = "view", _("Viewed")
    CALL = "call", _("Called")
    EXPORT = "export", _("Exported")


class AccessReason(models.TextChoices):
    CUSTOMER_CALLED = "customer_called", _("The customer called")
    DELIVERY_PROBLEM = "delivery_problem", _("Delivery problem")
    PORT_IN_PROBLEM = "port_in_problem", _("Number transfer problem")
    COURIER_MANIFEST = "courier_manifest", _("Courier manifest")
    OTHER = "other", _("Other")


class PersonalDataAccess(models.Model):
    """One look at (or use of) a customer's full personal data by a staff member: a reveal
    on a change page, a recorded call, an export. Append-only (migration); written by
    preorder_shop.personal_data.record_access in the request that used the data."""

    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    staff_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("staff member"),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=AccessKind.choices)
    # Whose data: one customer for a view or a call; an export names its count instead.
    customer = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("customer"),
    )
    customer_count = models.PositiveIntegerField(_("customers"), default=1)
    fields = models.JSONField(_("fields"), default=list)
    # What was shown or exported: "order 12345678901", "customer 42", the orders of a file.
    reference = models.CharField(_("shown on"), max_length=200)
    objects_shown = models.JSONField(_("objects"), default=list, blank=True)
    reason_code = models.CharField(
        _("reason"), max_length=32, choices=AccessReason.choices, blank=True
    )
    reason = models.TextField(_("why"), blank=True)
    ip_address = models.GenericIPAddressField(_("request address"), null=True, blank=True)

    class Meta:
        verbose_name = _("personal data access")
        verbose_name_plural = _("personal data accesses")
        ordering = ["-at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=AccessKind.values), name="pd_access_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(reason_code="") | Q(reason_code__in=AccessReason.values),
                name="pd_access_reason_code_valid",
            ),
            models.CheckConstraint(
                condition=Q(kind="export") | (Q(customer__isnull=False) & Q(customer_count=1)),
                name="pd_access_one_customer_unless_export",
            ),
            # A reveal always says why, in words (preorder_shop.personal_data.MIN_REASON).
            models.CheckConstraint(
                condition=~Q(kind="view") | Q(reason__regex=r"\S.{8,}\S"),
                name="pd_access_view_has_reason",
            ),
            models.CheckConstraint(condition=~Q(fields=[]), name="pd_access_names_fields"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.reference}"


class ApiToken(models.Model):
    """A device's sign-in to the API (preorder_shop.tokens): only the SHA-256 of the random
    token is kept; the prefix lets the customer tell their devices apart in a list."""

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("customer")
    )
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True)
    prefix = models.CharField(_("prefix"), max_length=8)
    device = models.CharField(_("device"), max_length=60, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used"), default=timezone.now)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-pk"]
        indexes = [models.Index(fields=["customer", "-id"], name="api_token_customer_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(token_hash__regex=r"^[0-9a-f]{64}$"),  # noqa: S106 (a pattern)
                name="api_token_hash_is_sha256",
            ),
            models.CheckConstraint(
                condition=Q(last_used_at__gte=F("created_at")), name="api_token_used_after_created"
            ),
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True) | Q(revoked_at__gte=F("created_at")),
                name="api_token_revoked_after_created",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.prefix}… · {self.device or '-'}"
