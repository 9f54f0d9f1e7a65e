"""Reads that pages, the admin and later the order pages share."""

import datetime as dt
import threading
import time
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from preorder_shop.actors import ActorKind
from preorder_shop.models import Customer

from . import lines
from .models import (
    HOLDING_STATUSES,
    Campaign,
    ChangedField,
    Fulfilment,
    Reservation,
    ReservationChange,
    ReservationStatus,
    Variant,
    Window,
)


@dataclass(frozen=True)
class QueueStanding:
    """Place in line among the reservations still holding a place for the same variant."""

    place: int
    total: int
    # When the total was counted; None when it was counted just now (issue 13: the total is
    # a counter refreshed every few seconds, so polling does not count the whole line).
    total_at: dt.datetime | None = None


def queue_standing(reservation: Reservation) -> QueueStanding | None:
    """Where a holding reservation stands in its variant's line; None once it left the line.
    Read from the line's counters (reservations.lines), not by counting the line."""
    if reservation.status not in HOLDING_STATUSES:
        return None
    place, total, total_at = lines.standing(
        variant_id=reservation.variant_id, position=reservation.position
    )
    return QueueStanding(place=place, total=total, total_at=total_at)


@dataclass(frozen=True)
class HistoryStep:
    label: str
    at: dt.datetime


def reservation_timeline(reservation: Reservation) -> list[HistoryStep]:
    """The reservation's history in the customer's words: when it was made, then each
    recorded change (reservations.history), oldest first."""
    steps = [HistoryStep(_("Reserved"), reservation.created_at)]
    for change in reservation.changes.all():  # oldest first (Meta.ordering); as prefetched
        steps.append(HistoryStep(_change_label(change), change.at))
    return steps


def _change_label(change: ReservationChange) -> str:
    if change.field == ChangedField.FESTIVAL_DRAW:
        return _("Drawn for pickup at the launch festival")
    if change.field == ChangedField.FULFILMENT:
        if change.from_value == Fulfilment.FESTIVAL:
            return _("Not drawn for festival pickup: your phone comes by courier")
        return _("Now received by: %(way)s") % {"way": Fulfilment(change.to_value).label}
    match change.to_value:
        case ReservationStatus.ORDERED:
            return _("Order form submitted")
        case ReservationStatus.CANCELLED if change.actor_kind == ActorKind.STAFF:
            return _("Cancelled by our staff")
        case ReservationStatus.CANCELLED:
            return _("Cancelled by you")
        case _:
            return _("Expired: no order form was submitted by the deadline")


def customer_reservations(customer: Customer) -> list[tuple[Reservation, QueueStanding | None]]:
    reservations = (
        Reservation.objects.filter(customer=customer)
        .select_related("campaign", "variant")
        .order_by("-created_at")
    )
    return [(r, queue_standing(r)) for r in reservations]


def variants_with_counts(campaign: Campaign) -> QuerySet[Variant]:
    return campaign.variants.annotate(
        reserved=Count("reservations", filter=Q(reservations__status__in=HOLDING_STATUSES))
    ).order_by("model_name", "capacity_gb", "colour")


@dataclass(frozen=True)
class ReserveAvailability:
    allowed: bool
    reason: str = ""
    needs_sign_in: bool = False


def reserve_availability(
    *, campaign: Campaign, customer: Customer | None, now: dt.datetime
) -> ReserveAvailability:
    """What the customer can do on the campaign page right now, and if nothing, why."""
    window = campaign.reservation_window(now)
    if window == Window.NOT_OPEN:
        when = formats.date_format(
            timezone.localtime(campaign.reservation_opens_at), "DATETIME_FORMAT"
        )
        return ReserveAvailability(False, _("Reservations open on %(when)s.") % {"when": when})
    if window == Window.CLOSED:
        when = formats.date_format(
            timezone.localtime(campaign.reservation_closes_at), "DATETIME_FORMAT"
        )
        return ReserveAvailability(False, _("Reservations closed on %(when)s.") % {"when": when})
    if customer is None:
        return ReserveAvailability(
            False, _("Sign in with your mobile number to reserve."), needs_sign_in=True
        )
    held = Reservation.objects.holding().filter(campaign=campaign, customer=customer).count()
    if held >= campaign.per_customer_limit:
        return ReserveAvailability(
            False,
            ngettext(
                "You already hold %(count)d reservation for this campaign, the most it allows.",
                "You already hold %(count)d reservations for this campaign, the most it allows.",
                held,
            )
            % {"count": held},
        )
    return ReserveAvailability(True)


class _IntakeCatalogue:
    """Each web process keeps a campaign's variants (with the campaign) for a few seconds,
    so launch-hour intake validates the posted variant without a query.

    Safe to be briefly stale: the database trigger checks the window, the limit, the offered
    fulfilment and the variant's campaign again on every INSERT; an edit in admin shows in
    intake messages within TTL seconds.
    """

    TTL = 5.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, dict[int, Variant]]] = {}

    def variants(self, slug: str) -> dict[int, Variant]:
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(slug)
        if entry is not None and entry[0] > now:
            return entry[1]
        variants = {
            v.pk: v for v in Variant.objects.select_related("campaign").filter(campaign__slug=slug)
        }
        with self._lock:
            self._entries[slug] = (now + self.TTL, variants)
        return variants

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


intake_catalogue = _IntakeCatalogue()
