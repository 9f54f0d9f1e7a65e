"""Callbacks instead of hang-ups (issue 15, section 4): staff offer 30-minute slots, each
with a capacity; a signed-in customer books one for their own ticket and an agent calls
them back and records how it went.

The database keeps the rules (migration 0005): a slot starts on :00 or :30; `booked` is the
number of bookings holding a place (kept up by a trigger on the bookings, never written by
code) and cannot pass `capacity`; a ticket has at most one booking still to be called; a
booking's slot and ticket never change and its status moves only from booked.
"""

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Extract, Mod
from django.db.models.lookups import Exact
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .tickets import Ticket

SLOT_MINUTES = 30


class CallbackSlot(models.Model):
    """Half an hour in which agents call customers back, and how many they can call."""

    starts_at = models.DateTimeField(_("starts at"))
    capacity = models.PositiveIntegerField(
        _("capacity"),
        default=0,
        help_text=_("How many customers the agents can call in this half hour; 0 offers none."),
    )
    booked = models.PositiveIntegerField(
        _("booked"),
        default=0,
        editable=False,
        help_text=_("Places taken by bookings (counted by the database)."),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("callback slot")
        verbose_name_plural = _("callback slots")
        ordering = ["starts_at"]
        constraints = [
            models.UniqueConstraint(fields=["starts_at"], name="callback_slot_starts_at_unique"),
            # On :00 or :30 to the second (true in the desk's zone: Seoul is UTC+9:00).
            models.CheckConstraint(
                condition=Exact(Mod(Extract("starts_at", "epoch"), SLOT_MINUTES * 60), 0),
                name="callback_slot_aligned",
            ),
            models.CheckConstraint(condition=Q(capacity__gte=0), name="callback_slot_capacity"),
            models.CheckConstraint(
                condition=Q(booked__gte=0) & Q(booked__lte=F("capacity")),
                name="callback_slot_not_overbooked",
            ),
        ]

    def __str__(self) -> str:
        return f"{timezone.localtime(self.starts_at):%Y-%m-%d %H:%M}"

    @property
    def ends_at(self) -> dt.datetime:
        return self.starts_at + dt.timedelta(minutes=SLOT_MINUTES)

    @property
    def free(self) -> int:
        return self.capacity - self.booked


class CallbackStatus(models.TextChoices):
    # Exactly these values: the figures count "callbacks kept" from them (section 5).
    BOOKED = "booked", _("Booked")
    KEPT = "kept", _("Kept")
    MISSED = "missed", _("Missed")
    CANCELLED = "cancelled", _("Cancelled")


# What an agent records after the slot: the call was made and answered, or not reached.
OUTCOMES = (CallbackStatus.KEPT, CallbackStatus.MISSED)


class CallbackBooking(models.Model):
    """A customer's request to be called about their ticket in one slot. A cancelled
    booking gives its place back; a kept or missed one keeps it (the half hour was spent)."""

    slot = models.ForeignKey(
        CallbackSlot, on_delete=models.PROTECT, related_name="bookings", verbose_name=_("slot")
    )
    ticket = models.ForeignKey(
        Ticket, on_delete=models.PROTECT, related_name="callbacks", verbose_name=_("ticket")
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=CallbackStatus.choices,
        default=CallbackStatus.BOOKED,
    )
    booked_at = models.DateTimeField(_("booked at"), default=timezone.now)
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    outcome_at = models.DateTimeField(_("outcome recorded at"), null=True, blank=True)
    outcome_note = models.TextField(_("outcome note"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )

    class Meta:
        verbose_name = _("callback booking")
        verbose_name_plural = _("callback bookings")
        ordering = ["slot__starts_at", "booked_at", "pk"]
        indexes = [
            # The reminder task's scan: bookings still to be called that were not reminded.
            models.Index(
                fields=["slot"],
                condition=Q(status=CallbackStatus.BOOKED, reminded_at__isnull=True),
                name="callback_to_remind_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=CallbackStatus.values), name="callback_status_valid"
            ),
            # One call still to come per ticket; after it (kept, missed) or a cancel, another.
            models.UniqueConstraint(
                fields=["ticket"],
                condition=Q(status=CallbackStatus.BOOKED),
                name="callback_one_live_per_ticket",
            ),
            models.CheckConstraint(
                condition=Q(status=CallbackStatus.CANCELLED, cancelled_at__isnull=False)
                | (~Q(status=CallbackStatus.CANCELLED) & Q(cancelled_at__isnull=True)),
                name="callback_cancelled_at_iff_cancelled",
            ),
            models.CheckConstraint(
                condition=Q(
                    status__in=OUTCOMES, outcome_at__isnull=False, recorded_by__isnull=False
                )
                | (
                    ~Q(status__in=OUTCOMES)
                    & Q(outcome_at__isnull=True, recorded_by__isnull=True, outcome_note="")
                ),
                name="callback_outcome_iff_recorded",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket} @ {self.slot}"
