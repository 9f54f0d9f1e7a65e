"""The order state machine: the TRANSITIONS table and its one executor, transition().

Migration 0002 (and 0005, which rewrote its check) holds the same table in the database,
which refuses any other move whoever writes; a test keeps the two sets equal. Policies
about when a forward move may happen (a unit held, no hold, queue order, the launch
embargo) are fulfilment's doors (fulfillment.services.moves), which call transition().
"""

import datetime as dt
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from preorder_shop.actors import Actor, ActorKind
from preorder_shop.identifiers import ORDER_NUMBER
from reservations.history import record_change
from reservations.models import (
    CancelledBy,
    ChangedField,
    Reservation,
    ReservationStatus,
)

from ..exceptions import (
    ActorNotAllowed,
    IllegalTransition,
    MoveBeforePrevious,
    ReasonRequired,
    ReservationNotActive,
    ShippingDetailsRequired,
)
from ..models import Order, OrderStatus, OrderTransition
from . import notices

S = OrderStatus


@dataclass(frozen=True)
class Move:
    actors: frozenset[ActorKind]
    stamp: str  # the timestamp field set by the move
    reason_from: frozenset[ActorKind] = field(default_factory=frozenset)


CUSTOMER, STAFF, WORKER, COURIER = (
    ActorKind.CUSTOMER,
    ActorKind.STAFF,
    ActorKind.WORKER,
    ActorKind.COURIER,
)

# The whole state machine. Staff always give a reason; customers cancel only before
# preparation starts; nobody cancels after shipping; delivery needs the courier's word
# (or staff recording it, with a reason).
TRANSITIONS: dict[tuple[str, str], Move] = {
    (S.DRAFT, S.RECEIVED): Move(frozenset({CUSTOMER}), "submitted_at"),
    (S.DRAFT, S.DISCARDED): Move(frozenset({CUSTOMER}), "closed_at"),
    (S.DRAFT, S.EXPIRED): Move(frozenset({WORKER}), "closed_at"),
    (S.RECEIVED, S.PREPARING): Move(
        frozenset({WORKER, STAFF}), "preparing_at", frozenset({STAFF})
    ),
    (S.RECEIVED, S.CANCELLED): Move(frozenset({CUSTOMER, STAFF}), "closed_at", frozenset({STAFF})),
    (S.PREPARING, S.SHIPPED): Move(
        frozenset({WORKER, COURIER, STAFF}), "shipped_at", frozenset({STAFF})
    ),
    (S.PREPARING, S.CANCELLED): Move(frozenset({STAFF}), "closed_at", frozenset({STAFF})),
    (S.SHIPPED, S.DELIVERED): Move(
        frozenset({COURIER, STAFF}), "delivered_at", frozenset({STAFF})
    ),
}


def allowed_targets(status: str, actor_kind: ActorKind) -> list[str]:
    """The statuses `actor_kind` may move an order in `status` to: what buttons to show."""
    return [
        to
        for (frm, to), move in TRANSITIONS.items()
        if frm == status and actor_kind in move.actors
    ]


def transition(
    *,
    order: Order,
    to: str,
    actor: Actor,
    reason: str = "",
    courier: str = "",
    tracking_number: str = "",
    now: dt.datetime | None = None,
    notify: bool = True,
) -> Order:
    """Move `order` to `to`, or do nothing if it is already there (a retried request).

    Locks the row, checks the move and the actor, sets the status and its timestamp, and
    writes the history row and the customer's notification, all in one transaction.
    `notify=False` is for a caller that sends that notification itself, later in the same
    transaction, once it can say the whole truth.
    """
    reason = reason.strip()
    with transaction.atomic():
        locked = (
            Order.objects.select_for_update(of=("self",))
            .select_related(
                "reservation__customer", "reservation__variant", "reservation__campaign"
            )
            .get(pk=order.pk)
        )
        # Read once the row is locked, so a move that waited behind another change (an
        # address change, another move) is never stamped before it.
        now = now or timezone.now()
        if to not in S.values:
            raise IllegalTransition()
        if locked.status == to:
            return locked
        move = TRANSITIONS.get((locked.status, to))
        if move is None:
            raise IllegalTransition(_illegal_message(locked.get_status_display(), S(to).label))
        if actor.kind not in move.actors:
            raise ActorNotAllowed()
        if actor.kind in move.reason_from and not reason:
            raise ReasonRequired()
        if to == S.SHIPPED:
            if not (courier.strip() and tracking_number.strip()):
                raise ShippingDetailsRequired()
            locked.courier, locked.tracking_number = courier.strip(), tracking_number.strip()
        if to == S.RECEIVED:
            _assign_number(locked)
            _set_reservation_status(locked.reservation, ReservationStatus.ORDERED, actor, now)
        _check_moves_forward(locked, now)
        from_status = locked.status
        locked.status = to
        setattr(locked, move.stamp, now)
        locked.updated_at = max(now, locked.updated_at)
        locked.save()
        if to == S.CANCELLED:
            _cancel_reservation(locked.reservation, actor, reason, now)
        OrderTransition.objects.create(
            order=locked,
            from_status=from_status,
            to_status=to,
            at=now,
            reason=reason,
            **OrderTransition.fields_for(actor),
        )
        if notify:
            notices.notify(locked, reason)
    return locked


def _check_moves_forward(order: Order, now: dt.datetime) -> None:
    """A move may not be dated before the order's previous step (the database holds the
    same rule for the history rows, orders migration 0009)."""
    stamps = [order.submitted_at, order.preparing_at, order.shipped_at, order.delivered_at]
    previous = max((t for t in stamps if t is not None), default=None)
    if previous is not None and now < previous:
        raise MoveBeforePrevious(
            _("This change is dated %(when)s, before the order's previous step (%(previous)s).")
            % {
                "when": timezone.localtime(now).strftime("%Y-%m-%d %H:%M:%S"),
                "previous": timezone.localtime(previous).strftime("%Y-%m-%d %H:%M:%S"),
            }
        )


def _illegal_message(current: str, target: str) -> str:
    return _("An order that is “%(current)s” cannot become “%(target)s”.") % {
        "current": current,
        "target": target,
    }


def _assign_number(order: Order) -> None:
    """A random 11-digit order number not yet taken. Two concurrent submits drawing the same
    number out of 9*10^9 would meet the unique index; that is not worth a retry loop."""
    for _attempt in range(5):
        candidate = ORDER_NUMBER.generate()
        if not Order.objects.filter(number=candidate).exists():
            order.number = candidate
            return
    raise RuntimeError("could not draw a free order number")  # 5 collisions in 9*10^9


def _set_reservation_status(
    reservation: Reservation, status: str, actor: Actor, now: dt.datetime
) -> None:
    updated = Reservation.objects.filter(
        pk=reservation.pk, status=ReservationStatus.ACTIVE
    ).update(status=status)
    if not updated:
        raise ReservationNotActive()
    record_change(
        reservation=reservation,
        field=ChangedField.STATUS,
        from_value=ReservationStatus.ACTIVE,
        to_value=status,
        actor=actor,
        at=now,
    )


def _cancel_reservation(
    reservation: Reservation, actor: Actor, reason: str, now: dt.datetime
) -> None:
    """Cancelling an order gives up its reservation too: the unit goes to the next in line."""
    by = CancelledBy.CUSTOMER if actor.kind == CUSTOMER else CancelledBy.STAFF
    previous = Reservation.objects.values_list("status", flat=True).get(pk=reservation.pk)
    if previous == ReservationStatus.CANCELLED:
        return
    Reservation.objects.filter(pk=reservation.pk).update(
        status=ReservationStatus.CANCELLED,
        cancelled_at=now,
        cancelled_by=by,
        cancelled_by_user=actor.user if by == CancelledBy.STAFF else None,
    )
    record_change(
        reservation=reservation,
        field=ChangedField.STATUS,
        from_value=previous,
        to_value=ReservationStatus.CANCELLED,
        actor=actor,
        at=now,
        reason=reason,
    )
