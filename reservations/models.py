import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from preorder_shop.models import ActedBy


class Fulfilment(models.TextChoices):
    COURIER = "courier", _("Courier delivery")
    DAWN = "dawn", _("Dawn delivery on launch morning")
    FESTIVAL = "festival", _("Pickup at the launch festival")


class Window(models.TextChoices):
    """Where a moment falls in one of a campaign's windows."""

    NOT_OPEN = "not_open", _("not open yet")
    OPEN = "open", _("open")
    CLOSED = "closed", _("closed")

    @classmethod
    def at(cls, moment, opens_at, closes_at) -> "Window":
        if moment < opens_at:
            return cls.NOT_OPEN
        return cls.OPEN if moment < closes_at else cls.CLOSED


class Campaign(models.Model):
    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("slug"), unique=True)
    device_line = models.CharField(_("device line"), max_length=100)
    reservation_opens_at = models.DateTimeField(_("reservations open"))
    reservation_closes_at = models.DateTimeField(_("reservations close"))
    order_opens_at = models.DateTimeField(_("order forms open"))
    order_closes_at = models.DateTimeField(_("order forms close"))
    launch_date = models.DateField(_("launch date"))
    per_customer_limit = models.PositiveSmallIntegerField(
        _("reservations per customer"), default=1
    )
    offers_courier = models.BooleanField(_("courier delivery"), default=True)
    offers_dawn_delivery = models.BooleanField(_("dawn delivery"), default=True)
    offers_festival_pickup = models.BooleanField(_("festival pickup"), default=False)
    festival_capacity = models.PositiveIntegerField(_("festival pickup capacity"), default=0)
    # Written by the festival draw's reveal (fulfillment.services.lottery), which decides this
    # campaign's festival pickups: order forms of festival reservations wait for it.
    festival_draw_published_at = models.DateTimeField(
        _("festival draw published"), null=True, blank=True, editable=False
    )

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-reservation_opens_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(reservation_closes_at__gt=F("reservation_opens_at")),
                name="campaign_reservation_window_ordered",
                violation_error_message=_("Reservations must close after they open."),
            ),
            models.CheckConstraint(
                condition=Q(order_closes_at__gt=F("order_opens_at")),
                name="campaign_order_window_ordered",
                violation_error_message=_("Order forms must close after they open."),
            ),
            models.CheckConstraint(
                condition=Q(order_opens_at__gte=F("reservation_opens_at")),
                name="campaign_orders_open_after_reservations",
                violation_error_message=_("Order forms cannot open before reservations do."),
            ),
            models.CheckConstraint(
                condition=Q(per_customer_limit__gte=1, per_customer_limit__lte=10),
                name="campaign_per_customer_limit_1_to_10",
                violation_error_message=_("The per-customer limit is between 1 and 10."),
            ),
            models.CheckConstraint(
                condition=Q(offers_courier=True)
                | Q(offers_dawn_delivery=True)
                | Q(offers_festival_pickup=True),
                name="campaign_offers_some_fulfilment",
                violation_error_message=_("Offer at least one way to receive the phone."),
            ),
            models.CheckConstraint(
                condition=Q(offers_festival_pickup=False, festival_capacity=0)
                | Q(offers_festival_pickup=True, festival_capacity__gt=0),
                name="campaign_festival_capacity_matches_offer",
                violation_error_message=_(
                    "Festival pickup needs a capacity above zero, and only festival pickup "
                    "has one."
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("reservations:campaign_detail", kwargs={"slug": self.slug})

    # The campaign's two windows, each half-open [opens, closes): the one place services,
    # selectors and views ask where a moment falls. Database checks and set-based SQL say
    # the same with the same columns.

    def reservation_window(self, moment) -> "Window":
        return Window.at(moment, self.reservation_opens_at, self.reservation_closes_at)

    def order_window(self, moment) -> "Window":
        return Window.at(moment, self.order_opens_at, self.order_closes_at)

    def next_moment(self, after: dt.datetime) -> dt.datetime | None:
        """The first of the campaign's own times after `after` (a window opens or closes,
        launch day or the festival draw begins): what a page shows of the campaign may
        change then with no write (preorder_shop.kept_answers). None: all have passed."""
        moments = [
            getattr(self, field.attname)
            for field in self._meta.concrete_fields
            if isinstance(field, models.DateTimeField)
        ]
        days = [
            getattr(self, field.attname)
            for field in self._meta.concrete_fields
            if isinstance(field, models.DateField) and not isinstance(field, models.DateTimeField)
        ]
        zone = timezone.get_current_timezone()
        moments += [dt.datetime.combine(day, dt.time(), zone) for day in days if day is not None]
        return min((m for m in moments if m is not None and m > after), default=None)

    def reservations_open_at(self, moment) -> bool:
        return self.reservation_window(moment) == Window.OPEN

    def order_forms_open_at(self, moment) -> bool:
        return self.order_window(moment) == Window.OPEN

    def fulfilment_choices(self) -> list[tuple[str, str]]:
        offered = {
            Fulfilment.COURIER: self.offers_courier,
            Fulfilment.DAWN: self.offers_dawn_delivery,
            Fulfilment.FESTIVAL: self.offers_festival_pickup,
        }
        return [(choice.value, choice.label) for choice, on in offered.items() if on]


class Variant(models.Model):
    campaign = models.ForeignKey(
        Campaign, on_delete=models.PROTECT, related_name="variants", verbose_name=_("campaign")
    )
    model_name = models.CharField(_("model"), max_length=100)
    capacity_gb = models.PositiveIntegerField(_("capacity (GB)"))
    colour = models.CharField(_("colour"), max_length=50)
    price_krw = models.PositiveIntegerField(_("price (KRW)"))

    class Meta:
        verbose_name = _("variant")
        verbose_name_plural = _("variants")
        ordering = ["campaign", "model_name", "capacity_gb", "colour"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "model_name", "capacity_gb", "colour"],
                name="variant_unique_in_campaign",
            ),
            models.CheckConstraint(condition=Q(price_krw__gt=0), name="variant_price_positive"),
            models.CheckConstraint(
                condition=Q(capacity_gb__gt=0), name="variant_capacity_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.model_name} {self.capacity_label} {self.colour}"

    @property
    def capacity_label(self) -> str:
        if self.capacity_gb >= 1024 and self.capacity_gb % 1024 == 0:
            return f"{self.capacity_gb // 1024} TB"
        return f"{self.capacity_gb} GB"


class ReservationStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    ORDERED = "ordered", _("Order form submitted")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired")


HOLDING_STATUSES = [ReservationStatus.ACTIVE, ReservationStatus.ORDERED]


class CancelledBy(models.TextChoices):
    CUSTOMER = "customer", _("Customer")
    STAFF = "staff", _("Staff")


class ReservationQuerySet(models.QuerySet):
    def holding(self):
        """Reservations that still hold their place in the queue."""
        return self.filter(status__in=HOLDING_STATUSES)


class Reservation(models.Model):
    campaign = models.ForeignKey(
        Campaign, on_delete=models.PROTECT, related_name="reservations", verbose_name=_("campaign")
    )
    variant = models.ForeignKey(
        Variant, on_delete=models.PROTECT, related_name="reservations", verbose_name=_("variant")
    )
    customer = models.ForeignKey(
        "preorder_shop.Customer",
        on_delete=models.PROTECT,
        related_name="reservations",
        verbose_name=_("customer"),
    )
    fulfilment = models.CharField(_("fulfilment"), max_length=16, choices=Fulfilment.choices)
    number = models.CharField(_("reservation number"), max_length=8, unique=True, editable=False)
    # Drawn from a PostgreSQL sequence by the INSERT that accepts the reservation (the
    # trigger of migration 0003 assigns it, whatever the INSERT said).
    position = models.BigIntegerField(
        _("queue position"), db_default=0, unique=True, editable=False
    )
    # Which of the customer's per-campaign slots (1..limit) this reservation occupies; a
    # partial unique index on it is what makes the limit hold under concurrency.
    slot = models.PositiveSmallIntegerField(_("slot"), editable=False)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=ReservationStatus.choices,
        default=ReservationStatus.ACTIVE,
    )
    idempotency_key = models.UUIDField(_("idempotency key"), editable=False)
    created_at = models.DateTimeField(_("reserved at"), default=timezone.now, editable=False)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancelled_by = models.CharField(
        _("cancelled by"), max_length=16, choices=CancelledBy.choices, blank=True
    )
    cancelled_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("cancelled by staff member"),
    )

    objects = ReservationQuerySet.as_manager()

    class Meta:
        verbose_name = _("reservation")
        verbose_name_plural = _("reservations")
        ordering = ["position"]
        indexes = [
            models.Index(
                fields=["variant", "position"],
                condition=Q(status__in=HOLDING_STATUSES),
                name="reservation_holding_queue_idx",
            ),
            models.Index(fields=["customer", "campaign"], name="reservation_customer_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "idempotency_key"], name="reservation_idempotency_key_unique"
            ),
            # What an allocation's (reservation, variant) foreign key refers to, so that the
            # database keeps an allocation's variant that of its reservation.
            models.UniqueConstraint(fields=["id", "variant"], name="reservation_id_variant_key"),
            models.UniqueConstraint(
                fields=["campaign", "customer", "slot"],
                condition=Q(status__in=HOLDING_STATUSES),
                name="reservation_customer_slot_unique",
            ),
            models.CheckConstraint(condition=Q(slot__gte=1), name="reservation_slot_positive"),
            models.CheckConstraint(
                condition=Q(number__regex=r"^[1-9][0-9]{7}$"), name="reservation_number_format"
            ),
            models.CheckConstraint(
                condition=Q(fulfilment__in=Fulfilment.values), name="reservation_fulfilment_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=ReservationStatus.values), name="reservation_status_valid"
            ),
            models.CheckConstraint(
                condition=(
                    Q(status=ReservationStatus.CANCELLED)
                    & Q(cancelled_at__isnull=False)
                    & ~Q(cancelled_by="")
                )
                | (
                    ~Q(status=ReservationStatus.CANCELLED)
                    & Q(cancelled_at__isnull=True)
                    & Q(cancelled_by="")
                ),
                name="reservation_cancellation_recorded",
            ),
            models.CheckConstraint(
                condition=Q(cancelled_by_user__isnull=True) | Q(cancelled_by=CancelledBy.STAFF),
                name="reservation_cancelling_user_is_staff",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    def can_cancel(self) -> bool:
        return self.status == ReservationStatus.ACTIVE


class ChangedField(models.TextChoices):
    STATUS = "status", _("status")
    FULFILMENT = "fulfilment", _("way of receiving")
    FESTIVAL_DRAW = "festival_draw", _("festival draw")


class ReservationChange(ActedBy):
    """One row per change of a reservation's status or of how it is received, and the
    festival draw's outcome: its history, shown as a timeline. Append-only; the database
    requires the row of every status and fulfilment change at commit (migration 0006)."""

    reservation = models.ForeignKey(
        Reservation,
        on_delete=models.PROTECT,
        related_name="changes",
        verbose_name=_("reservation"),
    )
    field = models.CharField(_("what changed"), max_length=16, choices=ChangedField.choices)
    from_value = models.CharField(_("from"), max_length=16, blank=True)
    to_value = models.CharField(_("to"), max_length=16)
    at = models.DateTimeField(_("at"))
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        verbose_name = _("reservation change")
        verbose_name_plural = _("reservation changes")
        ordering = ["at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(from_value=F("to_value")), name="reservation_change_changes"
            ),
            *ActedBy.constraints("reservation_change"),
        ]

    def value_label(self, value: str) -> str:
        """A stored from/to value in words: admin shows these on every history row."""
        if not value:
            return "—"
        if self.field == ChangedField.FESTIVAL_DRAW:
            return _("won a pickup slot") if value == "won" else value
        choices = ReservationStatus if self.field == ChangedField.STATUS else Fulfilment
        return choices(value).label if value in choices.values else value

    def __str__(self) -> str:
        return (
            f"{self.reservation}: {self.get_field_display()} "
            f"{self.value_label(self.from_value)} → {self.value_label(self.to_value)}"
        )
