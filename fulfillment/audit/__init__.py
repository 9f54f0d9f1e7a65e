"""The fairness audit: did orders move in queue order, did each have a unit, and where not,
why?

Inversions. For every variant and each stage (`preparing`, `shipped`), a pair (A, B) is an
inversion when B has the later queue position but reached the stage strictly before A did
(A reached it later or not at all). Equal instants are not inversions: a batch moves
several orders at once. An inversion is justified by the first of these that held for A at
B's instant t:

  cancelled        A's order was cancelled, discarded or expired, or its reservation was
                   cancelled or expired (for good: every instant);
  late_submission  A's order form was not submitted yet (A.submitted_at > t, or never);
  not_ready        (shipped stage) A could not be handed over yet: it was not prepared
                   (A.preparing_at > t), or the launch embargo for its way of delivery
                   had not lifted (courier the day before launch, dawn at 18:00 the
                   evening before, festival on launch day:
                   fulfillment.services.embargo.embargo_lifts_at);
  on_hold          staff held A (placed_at <= t < released_at, or not released);
  no_unit          A's reservation held no unit (no allocation with allocated_at <= t <
                   released_at, or not released);
  queue_exception  (preparing stage) B was moved by staff with a recorded reason, a
                   QueueException row whose lowest passed position is at or below A's:
                   the door writes one when a staff move passes orders ready and waiting;

and is unexplained otherwise, whoever made B's move (a staff move past a ready order with
no recorded exception stays unexplained, and the listed pair says it was staff).

Stock exceptions (stock.py): an order past received without a unit, a lot that gave out
more units than it has, a variant whose orders past received outnumbered its arrived
units. They mean a move that should not have happened at all, so they are listed too, and
the report is fair only without unexplained inversions and without stock exceptions.

inversions.py says how the inversions stay fast at 100,000 orders; the stock exceptions are
one aggregate each.
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import TextChoices
from django.utils.translation import gettext_lazy as _

from preorder_shop.actors import ActorKind
from reservations.models import Campaign, Variant

from ..models import QueueException
from . import inversions, stock
from .stock import OrderWithoutUnit, OversoldLot, OversoldVariant, StockExceptions

__all__ = [
    "STAGES",
    "FairnessReport",
    "Inversion",
    "Justification",
    "OrderWithoutUnit",
    "OversoldLot",
    "OversoldVariant",
    "OvertakenOrder",
    "StockExceptions",
    "VariantFairness",
    "fairness_report",
    "stock_exceptions",
    "stuck_orders",
]


class Justification(TextChoices):
    CANCELLED = "cancelled", _("Cancelled or expired")
    LATE_SUBMISSION = "late_submission", _("Order form submitted later")
    NOT_READY = "not_ready", _("Not prepared yet, or its delivery embargo had not lifted")
    ON_HOLD = "on_hold", _("On hold")
    NO_UNIT = "no_unit", _("No unit allocated")
    QUEUE_EXCEPTION = "queue_exception", _("Staff exception with a recorded reason")


STAGES = ("preparing", "shipped")


@dataclass(frozen=True)
class VariantFairness:
    variant_id: int
    label: str
    positions: int  # reservations of the variant (each with its current order, if any)
    overtaken: int  # positions passed by a later one at either stage
    justified: dict[str, int]  # Justification value -> overtaken orders it justified
    unexplained: int  # overtaken orders with at least one unexplained inversion


@dataclass(frozen=True)
class Inversion:
    """An unexplained pair: `later` reached `stage` at `later_at`, before `earlier` did."""

    variant: str
    stage: str
    earlier_position: int
    earlier_reservation: str
    earlier_order: str | None
    earlier_status: str | None
    earlier_at: dt.datetime | None
    later_position: int
    later_order: str
    later_at: dt.datetime
    later_by: str = ""  # who made the later move, from its history row ("Staff ops")


@dataclass(frozen=True)
class FairnessReport:
    campaign: Campaign
    variants: list[VariantFairness]
    unexplained: list[Inversion]  # the first `limit` pairs, by variant, stage, positions
    stock: StockExceptions
    queue_exceptions: list[QueueException]  # recorded ones, by time: what justified some
    more_unexplained: bool = False  # more unexplained pairs exist than listed

    @property
    def unexplained_orders(self) -> int:
        return sum(v.unexplained for v in self.variants)

    @property
    def is_fair(self) -> bool:
        return self.unexplained_orders == 0 and self.stock.count == 0


@dataclass(frozen=True)
class OvertakenOrder:
    """A received order passed by a later position while it was already waiting."""

    order_id: int
    position: int
    submitted_at: dt.datetime
    overtaken_since: dt.datetime  # the first instant a later position passed it
    reasons: list[str] = field(default_factory=list)  # Justification values
    unexplained: bool = False


# The reasons in the column order of inversions.SUMMARY's counts and STUCK's flags.
REASONS = list(Justification)


def _labels(campaign_ids: list[int]) -> dict[int, str]:
    return {v.pk: str(v) for v in Variant.objects.filter(campaign_id__in=campaign_ids)}


def _movers(rows) -> list[str]:
    """Who made each later move, from its history row: the actor's kind, and the staff
    user's name or the worker's or courier's label."""
    users = get_user_model().objects.in_bulk({row[11] for row in rows if row[11]})
    return [
        f"{ActorKind(kind).label} {users[user].get_username() if user else label}".strip()
        if kind
        else ""
        for kind, user, label in (row[10:13] for row in rows)
    ]


def fairness_report(*, campaign: Campaign, limit: int | None = 50) -> FairnessReport:
    """Per-variant inversion counts of `campaign`, its first `limit` unexplained pairs and
    orders without a unit (all of them when `limit` is None), and its oversold lots and
    variants."""
    ids = [campaign.pk]
    labels = _labels(ids)
    with transaction.atomic(), connection.cursor() as cursor:
        inversions.prepare(cursor, ids, settings.TIME_ZONE)
        cursor.execute(inversions.SUMMARY, {"campaigns": ids})
        variants = [
            VariantFairness(
                variant_id=row[0],
                label=labels[row[0]],
                positions=row[1],
                overtaken=row[2],
                justified=dict(zip(REASONS, row[3:9], strict=True)),
                unexplained=row[9],
            )
            for row in cursor.fetchall()
        ]
        # One more than asked tells whether there are more.
        cursor.execute(inversions.UNEXPLAINED, {"limit": None if limit is None else limit + 1})
        rows = cursor.fetchall()
        cursor.execute(inversions.DROP)
        found = stock.find(cursor, campaign_ids=ids, labels=labels, limit=limit)
    unexplained = [
        Inversion(labels[row[0]], *row[1:10], later_by=mover)
        for row, mover in zip(rows, _movers(rows), strict=True)
    ]
    return FairnessReport(
        campaign=campaign,
        variants=variants,
        unexplained=unexplained[:limit],
        more_unexplained=limit is not None and len(unexplained) > limit,
        stock=found,
        queue_exceptions=list(
            QueueException.objects.filter(order__reservation__campaign=campaign)
            .select_related("order__reservation", "staff_user")
            .order_by("at", "pk")
        ),
    )


def stock_exceptions(*, campaigns: Iterable[Campaign], limit: int | None = 50) -> StockExceptions:
    """Orders past received without a unit (the first `limit`), oversold lots and variants."""
    ids = [c.pk for c in campaigns]
    with connection.cursor() as cursor:
        return stock.find(cursor, campaign_ids=ids, labels=_labels(ids), limit=limit)


def stuck_orders(*, campaigns: Iterable[Campaign]) -> list[OvertakenOrder]:
    """Received orders that a later position of their variant passed (moved to preparing)
    while they were already waiting, oldest submission first, with what justified it."""
    ids = [c.pk for c in campaigns]
    with transaction.atomic(), connection.cursor() as cursor:
        inversions.prepare(cursor, ids, settings.TIME_ZONE)
        cursor.execute(inversions.STUCK)
        rows = cursor.fetchall()
        cursor.execute(inversions.DROP)
    return [
        OvertakenOrder(
            order_id=row[0],
            position=row[1],
            submitted_at=row[2],
            overtaken_since=row[3],
            reasons=[r.value for r, flag in zip(REASONS, row[4:10], strict=True) if flag],
            unexplained=row[10],
        )
        for row in rows
    ]
