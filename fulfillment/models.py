from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class StockLot(models.Model):
    """Devices of one variant arriving together (stock arrives in waves)."""

    variant = models.ForeignKey(
        "reservations.Variant",
        on_delete=models.PROTECT,
        related_name="lots",
        verbose_name=_("variant"),
    )
    quantity = models.PositiveIntegerField(_("quantity"))
    arrives_at = models.DateTimeField(_("arrives at"))
    reference = models.CharField(
        _("shipment reference"), max_length=64, help_text=_("The supplier's shipment reference.")
    )
    created_at = models.DateTimeField(_("recorded"), default=timezone.now)

    class Meta:
        verbose_name = _("stock lot")
        verbose_name_plural = _("stock lots")
        ordering = ["arrives_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="stock_lot_quantity_positive"
            ),
            models.UniqueConstraint(
                fields=["variant", "reference"], name="stock_lot_reference_unique"
            ),
            # What an allocation's (lot, variant) foreign key refers to.
            models.UniqueConstraint(fields=["id", "variant"], name="stock_lot_id_variant_key"),
        ]

    def __str__(self) -> str:
        return f"{self.reference}: {self.quantity} x {self.variant}"


class ReleaseReason(models.TextChoices):
    RESERVATION_ENDED = "reservation_ended", _("The reservation was cancelled or expired")
    ORDER_DEADLINE = "order_deadline", _("No order form by the order-form deadline")


class Allocation(models.Model):
    """One unit of a lot given to one reservation, in queue order. Never deleted: a released
    unit keeps its row (when and why), and goes to the next in line as a new row.

    Allocation writes these rows by the million, and every index and foreign-key check is
    paid on every row. So the variant and lot keys, searched only for active rows
    (allocation_active_idx), have no index of their own (deleting a lot or a variant, which
    PROTECT refuses anyway once used, scans the table); and the foreign keys are two composite
    ones, (reservation, variant) and (lot, variant) (migration 0005), that also keep the
    variant column that of the reservation and of the lot: two checks per row instead of three
    plus a trigger comparing variants.
    """

    variant = models.ForeignKey(
        "reservations.Variant",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("variant"),
        db_index=False,
        db_constraint=False,  # composite foreign keys instead (see above)
    )
    reservation = models.ForeignKey(
        "reservations.Reservation",
        on_delete=models.PROTECT,
        related_name="allocations",
        verbose_name=_("reservation"),
        db_constraint=False,  # composite foreign keys instead (see above)
    )
    lot = models.ForeignKey(
        StockLot,
        on_delete=models.PROTECT,
        related_name="allocations",
        verbose_name=_("lot"),
        db_index=False,
        db_constraint=False,  # composite foreign keys instead (see above)
    )
    allocated_at = models.DateTimeField(_("allocated at"))
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)
    release_reason = models.CharField(
        _("release reason"), max_length=32, choices=ReleaseReason.choices, blank=True
    )

    class Meta:
        verbose_name = _("allocation")
        verbose_name_plural = _("allocations")
        ordering = ["allocated_at", "pk"]
        indexes = [
            models.Index(
                fields=["variant", "lot"],
                condition=Q(released_at__isnull=True),
                name="allocation_active_idx",
            ),
        ]
        constraints = [
            # A reservation holds at most one unit at a time.
            models.UniqueConstraint(
                fields=["reservation"],
                condition=Q(released_at__isnull=True),
                name="allocation_one_active_per_reservation",
            ),
            models.CheckConstraint(
                condition=(Q(released_at__isnull=True) & Q(release_reason=""))
                | (Q(released_at__gte=F("allocated_at")) & ~Q(release_reason="")),
                name="allocation_release_recorded",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lot.reference} → {self.reservation.number}"


class OrderHold(models.Model):
    """Staff stop an order from moving on, with a reason; it keeps its place in line."""

    order = models.ForeignKey(
        "orders.Order", on_delete=models.PROTECT, related_name="holds", verbose_name=_("order")
    )
    reason = models.TextField(_("reason"))
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("placed by"),
    )
    placed_at = models.DateTimeField(_("placed at"), default=timezone.now)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("released by"),
    )
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)

    class Meta:
        verbose_name = _("hold")
        verbose_name_plural = _("holds")
        ordering = ["-placed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["order"],
                condition=Q(released_at__isnull=True),
                name="hold_one_active_per_order",
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="hold_has_reason"),
            models.CheckConstraint(
                condition=(Q(released_at__isnull=True) & Q(released_by__isnull=True))
                | (Q(released_at__gte=F("placed_at")) & Q(released_by__isnull=False)),
                name="hold_release_recorded",
            ),
        ]

    def __str__(self) -> str:
        return f"hold on {self.order}"


class CourierEventKind(models.TextChoices):
    HANDED_OVER = "handed_over", _("Handed to the courier")
    DELIVERED = "delivered", _("Delivered")


class CourierEventSource(models.TextChoices):
    FILE = "file", _("Tracking file")
    WEBHOOK = "webhook", _("Courier webhook")
    SIMULATOR = "simulator", _("Development simulator")


class CourierEvent(models.Model):
    """What a courier told us about an order, kept before it moves the order: a repeated
    file row or webhook finds its event already there and changes nothing."""

    order = models.ForeignKey(
        "orders.Order",
        on_delete=models.PROTECT,
        related_name="courier_events",
        verbose_name=_("order"),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=CourierEventKind.choices)
    courier = models.CharField(_("courier"), max_length=50)
    tracking_number = models.CharField(_("tracking number"), max_length=50)
    occurred_at = models.DateTimeField(_("occurred at"))
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    source = models.CharField(_("source"), max_length=16, choices=CourierEventSource.choices)
    # Unique per courier (two couriers may number their events alike): see Meta.
    external_id = models.CharField(_("courier's event id"), max_length=100)

    class Meta:
        verbose_name = _("courier event")
        verbose_name_plural = _("courier events")
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(fields=["order", "kind"], name="courier_event_once_per_kind"),
            models.UniqueConstraint(
                fields=["courier", "external_id"], name="courier_event_id_unique_per_courier"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.courier} {self.tracking_number} {self.kind}"


class WebhookNonce(models.Model):
    """Each signed courier webhook carries a nonce used once: a replayed request is refused."""

    nonce = models.CharField(_("nonce"), max_length=64, unique=True)
    received_at = models.DateTimeField(_("received at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("webhook nonce")
        verbose_name_plural = _("webhook nonces")

    def __str__(self) -> str:
        return self.nonce


class FestivalDraw(models.Model):
    """The launch-festival lottery of a campaign: the seed's SHA-256 is published before the
    draw (commit), the seed after it (reveal), so anyone can recompute the winners."""

    campaign = models.OneToOneField(
        "reservations.Campaign",
        on_delete=models.PROTECT,
        related_name="festival_draw",
        verbose_name=_("campaign"),
    )
    seed_hash = models.CharField(_("SHA-256 of the seed"), max_length=64)
    seed = models.CharField(_("seed"), max_length=64, blank=True)
    committed_at = models.DateTimeField(_("committed at"), default=timezone.now)
    revealed_at = models.DateTimeField(_("revealed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("festival draw")
        verbose_name_plural = _("festival draws")
        constraints = [
            models.CheckConstraint(
                condition=(Q(revealed_at__isnull=True) & Q(seed=""))
                | (Q(revealed_at__isnull=False) & ~Q(seed="")),
                name="festival_seed_revealed_with_time",
            ),
        ]

    def __str__(self) -> str:
        return f"festival draw of {self.campaign}"


class FestivalEntry(models.Model):
    """One festival-pickup reservation in a draw: its place in the entrant list the draw
    used, and whether it won a pickup slot."""

    draw = models.ForeignKey(
        FestivalDraw, on_delete=models.PROTECT, related_name="entries", verbose_name=_("draw")
    )
    reservation = models.OneToOneField(
        "reservations.Reservation",
        on_delete=models.PROTECT,
        related_name="festival_entry",
        verbose_name=_("reservation"),
    )
    entrant_index = models.PositiveIntegerField(_("place in the entrant list"))
    won = models.BooleanField(_("won a pickup slot"))

    class Meta:
        verbose_name = _("festival entry")
        verbose_name_plural = _("festival entries")
        ordering = ["draw", "entrant_index"]
        constraints = [
            models.UniqueConstraint(
                fields=["draw", "entrant_index"], name="festival_entry_index_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reservation} ({'won' if self.won else 'not drawn'})"


class QueueException(models.Model):
    """A staff move of an order to preparing while a lower position of its variant was
    ready and waiting: allowed only with a reason, and recorded here in the same
    transaction. The fairness audit counts the inversions such a move caused as justified;
    a staff move out of queue order without this row is unexplained."""

    order = models.OneToOneField(
        "orders.Order",
        on_delete=models.PROTECT,
        related_name="queue_exception",
        verbose_name=_("order"),
    )
    passed_position = models.PositiveIntegerField(
        _("lowest position passed"),
        help_text=_("The lowest queue position that was ready and waiting at the time."),
    )
    passed_count = models.PositiveIntegerField(_("ready orders passed"))
    reason = models.TextField(_("reason"))
    staff_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("staff user"),
    )
    at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("queue exception")
        verbose_name_plural = _("queue exceptions")
        ordering = ["-at"]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="queue_exception_has_reason"),
            models.CheckConstraint(
                condition=Q(passed_count__gt=0), name="queue_exception_passes_someone"
            ),
        ]

    def __str__(self) -> str:
        return f"queue exception for {self.order}"


class HoldAlert(models.Model):
    """A courier reported a hand-over or delivery of an order staff had on hold. The
    courier's event is the truth about the parcel, so it was recorded and the order moved;
    staff are told here, and say when they have dealt with it."""

    hold = models.ForeignKey(
        OrderHold, on_delete=models.PROTECT, related_name="alerts", verbose_name=_("hold")
    )
    courier_event = models.OneToOneField(
        CourierEvent,
        on_delete=models.PROTECT,
        related_name="hold_alert",
        verbose_name=_("courier event"),
    )
    raised_at = models.DateTimeField(_("raised at"))
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("resolved by"),
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("hold alert")
        verbose_name_plural = _("hold alerts")
        ordering = ["-raised_at"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(resolved_at__isnull=True) & Q(resolved_by__isnull=True))
                | (Q(resolved_at__gte=F("raised_at")) & Q(resolved_by__isnull=False)),
                name="hold_alert_resolution_recorded",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.courier_event} while on hold"
