"""The launch-festival pickup lottery: commit to a secret seed, draw, reveal, verify.

Why commit-reveal: the SHA-256 of the seed is published on the campaign page while
reservations are still open, before anyone (including us) knows who the entrants will be.
The seed itself stays outside the database until the reveal (the FestivalDraw row may not
hold it before then), so nobody with database access can compute the outcome early, and
the operator cannot pick a seed that favours someone: it was fixed before the entrants were.

The rule itself, small enough to recompute anywhere, is lottery_rule's.

A customer can compute their own ticket from the published seed and their reservation
number; `manage.py verify_festival_draw` recomputes everything from the recorded entrant
list and compares.

At the reveal those not drawn switch to courier delivery; their queue position never
changes. Everyone is told the result through the outbox, in the same transaction.
"""

import datetime as dt
import json
import re
import secrets
from dataclasses import dataclass, field

from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from preorder_shop.actors import Actor
from preorder_shop.exceptions import DomainError
from preorder_shop.operations import record_operation
from preorder_shop.outbox import queue_from_select
from reservations.history import record_changes
from reservations.models import (
    Campaign,
    ChangedField,
    Fulfilment,
    Reservation,
    ReservationStatus,
)

from ..models import FestivalDraw, FestivalEntry
from .allocation import QUEUE_LOCK
from .lottery_rule import commitment, draw_winners

SEED_PATTERN = re.compile(r"^[0-9a-f]{64}$")


class LotteryError(DomainError):
    """The lottery refused; nothing was changed. Messages are for ops (commands)."""


def when(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S %Z")


def _check_seed(seed: str) -> str:
    seed = seed.strip()
    if not SEED_PATTERN.match(seed):
        raise LotteryError("A seed is 64 lowercase hexadecimal characters.")
    return seed


# -- commit --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Commitment:
    draw: FestivalDraw
    seed: str  # the secret: handed to the operator once, never stored before the reveal


def commit_draw(
    *,
    campaign: Campaign,
    actor: Actor,
    seed: str | None = None,
    now: dt.datetime | None = None,
) -> Commitment:
    """Fix the campaign's secret seed and publish its SHA-256.

    Only while reservations are still open: once the entrant list is known, a seed could be
    chosen to favour someone. `seed` is for tests; production draws it from `secrets`.
    The returned seed is not kept anywhere: the operator must keep it for the reveal.
    """
    now = now or timezone.now()
    seed = _check_seed(seed) if seed is not None else secrets.token_hex(32)
    if not campaign.offers_festival_pickup:
        raise LotteryError(f"Campaign '{campaign.slug}' does not offer festival pickup.")
    existing = FestivalDraw.objects.filter(campaign_id=campaign.pk).first()
    if existing is not None:
        raise _already_committed(campaign, existing)
    if now >= campaign.reservation_closes_at:
        raise LotteryError(
            f"Reservations for '{campaign.slug}' closed at "
            f"{when(campaign.reservation_closes_at)}: the entrants are known, "
            "so a seed committed now would prove nothing. Commit before reservations close."
        )
    try:
        with transaction.atomic():
            draw = FestivalDraw.objects.create(
                campaign=campaign, seed_hash=commitment(seed), seed="", committed_at=now
            )
            record_operation(
                action="fulfillment.festival_draw.commit",
                actor=actor,
                reference=campaign.slug,
                summary={"seed_hash": draw.seed_hash},
                at=now,
            )
    except IntegrityError as exc:  # a concurrent commit won: the one-to-one index decides
        raise _already_committed(campaign, FestivalDraw.objects.get(campaign=campaign)) from exc
    return Commitment(draw=draw, seed=seed)


def _already_committed(campaign: Campaign, draw: FestivalDraw) -> LotteryError:
    return LotteryError(
        f"Campaign '{campaign.slug}' already has a festival draw, committed at "
        f"{when(draw.committed_at)} (SHA-256 {draw.seed_hash}). "
        "A commitment is never replaced."
    )


# -- reveal --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Revealed:
    draw: FestivalDraw
    entrants: int
    winners: int
    changed: bool  # False: the draw had already been revealed, nothing was touched


NOTIFY = """
SELECT 'sms', c.phone,
       CASE WHEN e.won THEN 'festival.won' ELSE 'festival.not_drawn' END,
       c.language,
       jsonb_build_object(
           'reservation_number', r.number, 'customer_name', c.name,
           'variant', %(labels)s::jsonb ->> r.variant_id::text,
           'campaign', %(campaign)s::text, 'launch_date', %(launch)s::text,
           'status_url', replace(%(status_url)s::text, '00000000', r.number),
           'campaign_url', %(campaign_url)s::text),
       'festival:' || e.id, 'reservation:' || r.id
  FROM fulfillment_festivalentry e
  JOIN reservations_reservation r ON r.id = e.reservation_id
  JOIN preorder_shop_customer c ON c.id = r.customer_id
 WHERE e.draw_id = %(draw)s
"""


def reveal_draw(
    *, campaign: Campaign, seed: str | None, actor: Actor, now: dt.datetime | None = None
) -> Revealed:
    """Draw the winners, record every entry, publish the seed, switch those not drawn to
    courier delivery and notify everyone, in one transaction.

    `seed` is the one handed out by commit_draw (it may be None only for a draw already
    revealed). Idempotent: once revealed, a second call changes nothing and returns the
    recorded result. Refused before reservations close (the entrant list is not final), without a
    commitment, or with a seed that does not match the published hash.
    """
    now = now or timezone.now()
    with transaction.atomic():
        draw = FestivalDraw.objects.select_for_update().filter(campaign_id=campaign.pk).first()
        if draw is None:
            raise LotteryError(
                f"Campaign '{campaign.slug}' has no committed festival draw: run "
                "`draw_festival --campaign SLUG commit` first."
            )
        if draw.revealed_at is not None:
            return _recorded(draw, changed=False)
        # No key update: the capacity holds still during the draw, inserts may reference it.
        campaign = Campaign.objects.select_for_update(no_key=True).get(pk=campaign.pk)
        draw.campaign = campaign
        if not campaign.offers_festival_pickup:
            raise LotteryError(f"Campaign '{campaign.slug}' no longer offers festival pickup.")
        if now < campaign.reservation_closes_at:
            raise LotteryError(
                f"Reservations for '{campaign.slug}' are open until "
                f"{when(campaign.reservation_closes_at)}: the entrant list "
                "is not final. Reveal after they close."
            )
        if seed is None:
            raise LotteryError("The reveal needs the seed handed out at the commit.")
        seed = _check_seed(seed)
        if commitment(seed) != draw.seed_hash:
            raise LotteryError(
                "This seed does not match the published commitment "
                f"(SHA-256 of the seed is {commitment(seed)}, published {draw.seed_hash})."
            )

        # Sequence order is not commit order: wait for any intake still in flight on the
        # campaign's variants (it holds the queue lock shared until it commits).
        variant_ids = sorted(campaign.variants.values_list("pk", flat=True))
        with connection.cursor() as cursor:
            for variant_id in variant_ids:
                cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [QUEUE_LOCK, variant_id])
        # Locked, so a cancellation racing the draw waits for it (and then ends an entry).
        entrants = list(
            Reservation.objects.select_for_update()
            .filter(campaign=campaign, fulfilment=Fulfilment.FESTIVAL)
            .holding()
            .order_by("position")
            .values_list("pk", "number")
        )
        won = draw_winners(seed, [number for _, number in entrants], campaign.festival_capacity)
        FestivalEntry.objects.bulk_create(
            FestivalEntry(draw=draw, reservation_id=pk, entrant_index=i, won=i in won)
            for i, (pk, _) in enumerate(entrants)
        )
        not_drawn = [pk for i, (pk, _) in enumerate(entrants) if i not in won]
        Reservation.objects.filter(pk__in=not_drawn).update(fulfilment=Fulfilment.COURIER)
        _record_outcome(won=[entrants[i][0] for i in sorted(won)], not_drawn=not_drawn, now=now)
        record_operation(
            action="fulfillment.festival_draw.reveal",
            actor=actor,
            reference=campaign.slug,
            summary={"entrants": len(entrants), "winners": len(won), "not_drawn": len(not_drawn)},
            at=now,
        )
        draw.seed = seed
        draw.revealed_at = now
        draw.save(update_fields=["seed", "revealed_at"])
        # The draw's outcome on the campaign's own row, for the apps below (order forms).
        Campaign.objects.filter(pk=campaign.pk).update(festival_draw_published_at=now)
        if entrants:
            queue_from_select(
                NOTIFY,
                {
                    "draw": draw.pk,
                    "labels": _variant_labels(campaign),
                    "campaign": campaign.name,
                    "launch": campaign.launch_date.isoformat(),
                    "status_url": reverse(
                        "orders:reservation_detail", kwargs={"number": "00000000"}
                    ),
                    "campaign_url": campaign.get_absolute_url(),
                },
            )
    return Revealed(draw=draw, entrants=len(entrants), winners=len(won), changed=True)


def _record_outcome(*, won: list[int], not_drawn: list[int], now: dt.datetime) -> None:
    """Each entrant's history says what the draw decided for it."""
    draw = Actor.worker("festival-draw")
    record_changes(
        reservation_ids=won,
        field=ChangedField.FESTIVAL_DRAW,
        from_value="",
        to_value="won",
        actor=draw,
        at=now,
    )
    record_changes(
        reservation_ids=not_drawn,
        field=ChangedField.FULFILMENT,
        from_value=Fulfilment.FESTIVAL,
        to_value=Fulfilment.COURIER,
        actor=draw,
        at=now,
    )


def _variant_labels(campaign: Campaign) -> str:
    return json.dumps({str(v.pk): str(v) for v in campaign.variants.all()})


def _recorded(draw: FestivalDraw, *, changed: bool) -> Revealed:
    entries = draw.entries.all()
    return Revealed(
        draw=draw,
        entrants=entries.count(),
        winners=entries.filter(won=True).count(),
        changed=changed,
    )


# -- verify --------------------------------------------------------------------------------


@dataclass
class Verification:
    draw: FestivalDraw
    entrants: int = 0
    winners: int = 0
    differences: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences


def verify_draw(*, campaign: Campaign) -> Verification:
    """Recompute the commitment from the published seed and the winners from the recorded
    entrant list (numbers in entrant_index order, the campaign's capacity), and say exactly
    what differs from what was recorded. The recorded `won` column is only compared with,
    never used to decide. Also checks the list itself: indexes 0..n-1 in queue order, no
    entrant that had cancelled before the draw, no holding festival reservation left out.
    """
    draw = FestivalDraw.objects.select_related("campaign").filter(campaign_id=campaign.pk).first()
    if draw is None:
        raise LotteryError(f"Campaign '{campaign.slug}' has no festival draw.")
    if draw.revealed_at is None:
        raise LotteryError(
            f"The festival draw of '{campaign.slug}' is committed (SHA-256 {draw.seed_hash}) "
            "but not revealed yet: there is nothing to verify."
        )
    result = Verification(draw=draw)
    differences = result.differences
    seed = draw.seed
    if not seed.isascii():
        differences.append("the published seed is not ASCII text, so no rule can use it")
        return result
    if commitment(seed) != draw.seed_hash:
        differences.append(
            f"commitment: SHA-256 of the published seed is {commitment(seed)}, "
            f"but the published commitment is {draw.seed_hash}"
        )
    rows = list(
        draw.entries.order_by("entrant_index").values_list(
            "entrant_index",
            "won",
            "reservation__number",
            "reservation__position",
            "reservation__status",
            "reservation__cancelled_at",
        )
    )
    result.entrants = len(rows)
    indexes = [row[0] for row in rows]
    if indexes != list(range(len(rows))):
        differences.append(f"entrant indexes are not 0..{len(rows) - 1} without gaps")
    positions = [row[3] for row in rows]
    if positions != sorted(positions):
        differences.append("the entrant list is not in queue-position order")
    for _, _, number, _, status, cancelled_at in rows:
        if status == ReservationStatus.CANCELLED and cancelled_at < draw.revealed_at:
            differences.append(f"reservation {number} was cancelled before the draw")
    left_out = (
        Reservation.objects.holding()
        .filter(
            campaign_id=draw.campaign_id,
            fulfilment=Fulfilment.FESTIVAL,
            created_at__lt=draw.revealed_at,
            festival_entry__isnull=True,
        )
        .values_list("number", flat=True)
    )
    differences.extend(f"reservation {number} was left out of the draw" for number in left_out)

    expected = draw_winners(seed, [row[2] for row in rows], draw.campaign.festival_capacity)
    result.winners = len(expected)
    outcome = {True: "won", False: "not drawn"}
    for i, (index, won, number, *_) in enumerate(rows):
        if won != (i in expected):
            differences.append(
                f"reservation {number} (entrant {index}): recorded {outcome[won]}, "
                f"recomputed {outcome[i in expected]}"
            )
    return result
