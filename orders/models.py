from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from preorder_shop.models import ActedBy
from preorder_shop.phone import E164_MOBILE_PATTERN, mask_name, mask_phone


class RatePlan(models.Model):
    campaign = models.ForeignKey(
        "reservations.Campaign",
        on_delete=models.PROTECT,
        related_name="rate_plans",
        verbose_name=_("campaign"),
    )
    name = models.CharField(_("name"), max_length=100)
    monthly_fee_krw = models.PositiveIntegerField(_("monthly fee (KRW)"))
    data_allowance_gb = models.PositiveIntegerField(
        _("data per month (GB)"), null=True, blank=True, help_text=_("Empty means unlimited.")
    )
    is_active = models.BooleanField(_("offered"), default=True)

    class Meta:
        verbose_name = _("rate plan")
        verbose_name_plural = _("rate plans")
        ordering = ["campaign", "monthly_fee_krw"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "name"], name="rate_plan_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def data_label(self) -> str:
        if self.data_allowance_gb is None:
            return str(_("Unlimited data"))
        return str(_("%(gb)d GB data") % {"gb": self.data_allowance_gb})


class OrderStatus(models.TextChoices):
    DRAFT = "draft", _("Order form in progress")
    RECEIVED = "received", _("Received")
    PREPARING = "preparing", _("Preparing")
    SHIPPED = "shipped", _("Shipped")
    DELIVERED = "delivered", _("Delivered")
    CANCELLED = "cancelled", _("Cancelled")
    DISCARDED = "discarded", _("Order form discarded")
    EXPIRED = "expired", _("Order form expired")


# Statuses in which an order is over; every other status is "live" (at most one per reservation).
CLOSED_STATUSES = [OrderStatus.CANCELLED, OrderStatus.DISCARDED, OrderStatus.EXPIRED]
# Statuses reached by submitting: these carry an order number.
SUBMITTED_STATUSES = [
    OrderStatus.RECEIVED,
    OrderStatus.PREPARING,
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
    OrderStatus.CANCELLED,
]


class JoinType(models.TextChoices):
    NEW_LINE = "new_line", _("New line")
    PORT_IN = "port_in", _("Keep my number (move from another carrier)")
    DEVICE_CHANGE = "device_change", _("Device change (stay with us)")


class Carrier(models.TextChoices):
    """Carriers a number can be moved from (the campaign's own carrier is not one of them)."""

    KT = "kt", "KT"
    LGU = "lgu", "LG U+"
    MVNO = "mvno", _("Budget carrier (MVNO)")


# Where and to whom a courier delivers: asked only for courier and dawn delivery (the order
# form asks them; orders.services.address changes them while the order is received).
ADDRESS_FIELDS = [
    "recipient_name",
    "recipient_phone",
    "postcode",
    "address_line1",
    "address_line2",
    "delivery_note",
]
DRAFT_FIELDS = ["plan", "join_type", "port_in_carrier", "port_in_number", *ADDRESS_FIELDS]


class OrderQuerySet(models.QuerySet):
    def live(self):
        return self.exclude(status__in=CLOSED_STATUSES)


class Order(models.Model):
    """The order form of one reservation, from draft to delivery. Status changes only through
    orders.services.transition (and the database refuses any move its table does not allow).
    """

    reservation = models.ForeignKey(
        "reservations.Reservation",
        on_delete=models.PROTECT,
        related_name="orders",
        verbose_name=_("reservation"),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=OrderStatus.choices, default=OrderStatus.DRAFT
    )
    # Unique through Meta, not unique=True, which on PostgreSQL adds a LIKE-pattern index
    # too: every index costs the pipeline on each status change (status is indexed, so no
    # update is HOT), and order numbers are only ever looked up whole. Null until submitted
    # (unique ignores nulls; an empty string would not).
    number = models.CharField(_("order number"), max_length=11, null=True, blank=True)  # noqa: DJ001

    # No index of its own, for the same reason: nothing looks orders up by plan (deleting a
    # plan, which PROTECT refuses once used, scans the table).
    plan = models.ForeignKey(
        RatePlan,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("rate plan"),
        db_index=False,
    )
    join_type = models.CharField(
        _("join type"), max_length=16, choices=JoinType.choices, blank=True
    )
    port_in_carrier = models.CharField(
        _("current carrier"), max_length=8, choices=Carrier.choices, blank=True
    )
    port_in_number = models.CharField(_("number to move"), max_length=16, blank=True)
    recipient_name = models.CharField(_("recipient"), max_length=50, blank=True)
    recipient_phone = models.CharField(_("recipient's mobile number"), max_length=16, blank=True)
    postcode = models.CharField(_("postcode"), max_length=5, blank=True)
    address_line1 = models.CharField(_("address"), max_length=200, blank=True)
    address_line2 = models.CharField(_("address details"), max_length=200, blank=True)
    delivery_note = models.CharField(_("delivery note"), max_length=200, blank=True)

    courier = models.CharField(_("courier"), max_length=50, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=50, blank=True)

    created_at = models.DateTimeField(_("started"), default=timezone.now)
    updated_at = models.DateTimeField(_("last saved"), default=timezone.now)
    submitted_at = models.DateTimeField(_("received at"), null=True, blank=True)
    preparing_at = models.DateTimeField(_("preparing since"), null=True, blank=True)
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    objects = OrderQuerySet.as_manager()

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-created_at"]
        permissions = [("transition_order", _("Can move orders through their states"))]
        indexes = [
            models.Index(fields=["status", "submitted_at"], name="order_status_age_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["number"], name="order_number_unique"),
            # One live order per reservation: so at most one draft, and "Write order form"
            # always resumes it.
            models.UniqueConstraint(
                fields=["reservation"],
                condition=~Q(status__in=CLOSED_STATUSES),
                name="order_one_live_per_reservation",
            ),
            models.CheckConstraint(
                condition=Q(status__in=OrderStatus.values), name="order_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(number__isnull=True) | Q(number__regex=r"^[1-9][0-9]{10}$"),
                name="order_number_format",
            ),
            models.CheckConstraint(
                condition=(
                    Q(status__in=SUBMITTED_STATUSES)
                    & Q(number__isnull=False)
                    & Q(submitted_at__isnull=False)
                )
                | (
                    ~Q(status__in=SUBMITTED_STATUSES)
                    & Q(number__isnull=True)
                    & Q(submitted_at__isnull=True)
                ),
                name="order_number_iff_submitted",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=[OrderStatus.SHIPPED, OrderStatus.DELIVERED])
                | (~Q(courier="") & ~Q(tracking_number="") & Q(shipped_at__isnull=False)),
                name="order_shipped_has_courier_and_tracking",
            ),
            models.CheckConstraint(
                condition=~Q(status=OrderStatus.DELIVERED) | Q(delivered_at__isnull=False),
                name="order_delivered_has_time",
            ),
            models.CheckConstraint(
                condition=Q(recipient_phone="") | Q(recipient_phone__regex=E164_MOBILE_PATTERN),
                name="order_recipient_phone_e164",
            ),
            models.CheckConstraint(
                condition=Q(port_in_number="") | Q(port_in_number__regex=E164_MOBILE_PATTERN),
                name="order_port_in_number_e164",
            ),
            models.CheckConstraint(
                condition=Q(postcode="") | Q(postcode__regex=r"^[0-9]{5}$"),
                name="order_postcode_5_digits",
            ),
            models.CheckConstraint(
                condition=Q(updated_at__gte=F("created_at")), name="order_updated_after_created"
            ),
        ]

    def __str__(self) -> str:
        return self.number or _("draft for %(reservation)s") % {
            "reservation": self.reservation.number
        }

    @property
    def is_live(self) -> bool:
        return self.status not in CLOSED_STATUSES

    @property
    def masked_recipient(self) -> str:
        if not self.recipient_name:
            return ""
        phone = mask_phone(self.recipient_phone) if self.recipient_phone else ""
        return f"{mask_name(self.recipient_name)} {phone}".strip()

    @property
    def masked_address(self) -> str:
        return f"{self.postcode} {self.address_line1[:6]}…" if self.address_line1 else ""


class OrderTransition(ActedBy):
    """One row per status change: the order's history. Append-only (the database refuses
    updates and deletes)."""

    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="transitions", verbose_name=_("order")
    )
    from_status = models.CharField(_("from"), max_length=16, choices=OrderStatus.choices)
    to_status = models.CharField(_("to"), max_length=16, choices=OrderStatus.choices)
    at = models.DateTimeField(_("at"), default=timezone.now)
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")
        ordering = ["at", "pk"]
        constraints = [
            # Each status is entered at most once: the machine has no cycles.
            models.UniqueConstraint(
                fields=["order", "to_status"], name="order_transition_once_per_status"
            ),
            models.CheckConstraint(
                condition=~Q(from_status=F("to_status")), name="order_transition_changes_status"
            ),
            *ActedBy.constraints("order_transition"),
        ]

    def __str__(self) -> str:
        # The labels, not the stored values: admin shows this on every history row.
        return f"{self.get_from_status_display()} → {self.get_to_status_display()}"


class OrderAddressChange(ActedBy):
    """One row per change of a received order's delivery address (orders.services.address):
    which fields changed, the delivery details before and after, by whom and why. Personal
    data: admin shows them masked. Append-only, and the database refuses an address change
    once preparation has started (migration 0010)."""

    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="address_changes", verbose_name=_("order")
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    changed = ArrayField(
        models.CharField(max_length=32), verbose_name=_("changed fields"), default=list
    )
    before = models.JSONField(_("before"))
    after = models.JSONField(_("after"))
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        verbose_name = _("delivery address change")
        verbose_name_plural = _("delivery address changes")
        ordering = ["at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(changed__len__gt=0), name="order_address_change_changes"
            ),
            models.CheckConstraint(
                condition=Q(actor_kind__in=["customer", "staff"]),
                name="order_address_change_by_customer_or_staff",
            ),
            *ActedBy.constraints("order_address_change"),
        ]

    def __str__(self) -> str:
        # The fields' labels, not their names: admin shows this on every history row.
        labels = ", ".join(str(Order._meta.get_field(name).verbose_name) for name in self.changed)
        return f"{self.order}: {labels}"
