"""Every forward move of an order, one door each: start preparing, hand over to a courier,
confirm delivery, and the staff cancel. Admin actions, the pipeline (its batch path shares
READY below), courier files, the webhook, the simulator and commands call these and nothing
else; each door checks its policy and then runs the one executor, orders.services.transition,
which locks the row, stamps it and writes the history row and the notification.

Lock order, the same in every writer that can change whether a received order is ready:
the variant's pipeline lock (advisory lock (2, variant id)), then the order's row. The
pipeline's batches, holds and start_preparing take it, so a hold placed while a batch runs
is either seen by the batch or waits for it, never slips under it.
"""

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from orders.exceptions import ReasonRequired
from orders.models import Order, OrderStatus
from orders.services import Actor, transition
from preorder_shop.actors import ActorKind

from ..exceptions import NoUnitHeld, OrderOnHold, QueueExceptionNeedsStaff
from ..models import CourierEvent, HoldAlert, OrderHold, QueueException
from . import allocation
from .embargo import check_embargo

S = OrderStatus
PIPELINE_LOCK = 2

# The one definition of "ready to start preparing", over an order `o` and its reservation
# `r`: received, holding an active unit of its own variant, and not on hold. The pipeline's
# batch query, variants_with_ready_orders and start_preparing all use it.
READY = """
o.status = 'received'
AND EXISTS (SELECT 1 FROM fulfillment_allocation a
             WHERE a.reservation_id = o.reservation_id AND a.variant_id = r.variant_id
               AND a.released_at IS NULL)
AND NOT EXISTS (SELECT 1 FROM fulfillment_orderhold h
                 WHERE h.order_id = o.id AND h.released_at IS NULL)
"""

# Ready orders of a variant below a position: who a move out of queue order would pass.
READY_BELOW = f"""
SELECT count(*), min(r.position)
  FROM orders_order o JOIN reservations_reservation r ON r.id = o.reservation_id
 WHERE r.variant_id = %(variant)s AND r.position < %(position)s AND {READY}
"""  # noqa: S608 (constants only)


def lock_variant_lane(variant_id: int) -> None:
    """Serialise with the pipeline's batches of this variant, until the transaction ends."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [PIPELINE_LOCK, variant_id])


def _locked(order: Order) -> Order:
    return (
        Order.objects.select_for_update(of=("self",))
        .select_related("reservation__variant", "reservation__campaign")
        .get(pk=order.pk)
    )


def _active_hold(order: Order) -> OrderHold | None:
    return OrderHold.objects.filter(order=order, released_at__isnull=True).first()


def _holds_unit(order: Order) -> bool:
    reservation = order.reservation
    return reservation.allocations.filter(
        variant_id=reservation.variant_id, released_at__isnull=True
    ).exists()


def start_preparing(
    *, order: Order, actor: Actor, reason: str = "", now: dt.datetime | None = None
) -> Order:
    """received -> preparing. The order must hold an active unit of its own variant and not
    be on hold. When lower positions of its variant are ready and waiting, only staff may
    move it, with a reason, and the move is recorded as a QueueException."""
    reason = reason.strip()
    with transaction.atomic():
        lock_variant_lane(order.reservation.variant_id)
        locked = _locked(order)
        now = now or timezone.now()  # once the locks are held: after whatever it waited for
        if locked.status == S.PREPARING:
            return locked  # a retried request
        if locked.status == S.RECEIVED:
            if not _holds_unit(locked):
                raise NoUnitHeld()
            if _active_hold(locked) is not None:
                raise OrderOnHold()
        passed, lowest = _ready_below(locked)
        if passed and actor.kind != ActorKind.STAFF:
            raise QueueExceptionNeedsStaff(
                _("%(count)d lower queue positions of this model are ready and waiting.")
                % {"count": passed}
            )
        if passed and not reason:
            raise ReasonRequired(
                _(
                    "Lower queue positions of this model are ready and waiting (the first "
                    "is #%(position)s): moving this order first needs a reason."
                )
                % {"position": lowest}
            )
        moved = transition(order=locked, to=S.PREPARING, actor=actor, reason=reason, now=now)
        if passed:
            QueueException.objects.create(
                order=moved,
                passed_position=lowest,
                passed_count=passed,
                reason=reason,
                staff_user=actor.user,
                at=now,
            )
    return moved


def _ready_below(order: Order) -> tuple[int, int | None]:
    if order.status != S.RECEIVED:
        return 0, None  # the executor refuses the move and says why
    with connection.cursor() as cursor:
        cursor.execute(
            READY_BELOW,
            {"variant": order.reservation.variant_id, "position": order.reservation.position},
        )
        return cursor.fetchone()


@dataclass(frozen=True)
class CourierMove:
    order: Order
    alert: HoldAlert | None  # the order was on hold when the courier reported the event


def hand_over(
    *,
    order: Order,
    actor: Actor,
    courier: str,
    tracking_number: str,
    reason: str = "",
    courier_event: CourierEvent | None = None,
    now: dt.datetime | None = None,
) -> CourierMove:
    """preparing -> shipped with the courier and tracking number (the executor checks them),
    once the launch embargo for the order's way of delivery has lifted (services.embargo).
    Staff and workers may not hand over a held order; a courier's own report
    (`courier_event`) is the truth about the parcel, so it is recorded even then, and raises
    a HoldAlert for staff."""
    with transaction.atomic():
        locked = _locked(order)
        now = now or timezone.now()  # once the row is locked: after whatever it waited for
        if locked.status == S.PREPARING:
            check_embargo(locked, S.SHIPPED, now)
        hold = _active_hold(locked) if locked.status == S.PREPARING else None
        if hold is not None and courier_event is None:
            raise OrderOnHold(
                _("This order is on hold (%(reason)s): release the hold before handing it over.")
                % {"reason": hold.reason}
            )
        moved = transition(
            order=locked,
            to=S.SHIPPED,
            actor=actor,
            reason=reason,
            courier=courier,
            tracking_number=tracking_number,
            now=now,
        )
        return CourierMove(moved, _alert(hold, courier_event, now))


def confirm_delivery(
    *,
    order: Order,
    actor: Actor,
    reason: str = "",
    courier_event: CourierEvent | None = None,
    now: dt.datetime | None = None,
) -> CourierMove:
    """shipped -> delivered: the courier's word, or staff recording it with a reason; not
    before launch day (the embargo; the executor checks actor and reason). A delivery reported
    for an order still on hold is recorded and raises a HoldAlert."""
    with transaction.atomic():
        locked = _locked(order)
        now = now or timezone.now()  # once the row is locked: after whatever it waited for
        if locked.status == S.SHIPPED:
            check_embargo(locked, S.DELIVERED, now)
        hold = _active_hold(locked) if courier_event is not None else None
        moved = transition(order=locked, to=S.DELIVERED, actor=actor, reason=reason, now=now)
        return CourierMove(moved, _alert(hold, courier_event, now))


def _alert(
    hold: OrderHold | None, event: CourierEvent | None, now: dt.datetime | None
) -> HoldAlert | None:
    if hold is None or event is None:
        return None
    raised_at = now or timezone.now()
    return HoldAlert.objects.create(hold=hold, courier_event=event, raised_at=raised_at)


def cancel_by_staff(
    *,
    order: Order,
    staff_user: AbstractBaseUser,
    reason: str,
    now: dt.datetime | None = None,
) -> Order:
    """Staff cancel a received or preparing order, with a reason; allowed while on hold (the
    hold ends with it). The reservation is cancelled with it, and its unit goes to the next
    in line in the same transaction."""
    with transaction.atomic():
        locked = _locked(order)
        now = now or timezone.now()  # once the row is locked: after whatever it waited for
        if locked.status == S.CANCELLED:
            return locked  # a retried request
        hold = _active_hold(locked)
        cancelled = transition(
            order=locked, to=S.CANCELLED, actor=Actor.staff(staff_user), reason=reason, now=now
        )
        if hold is not None:
            hold.released_at = max(now, hold.placed_at)
            hold.released_by = staff_user
            hold.save(update_fields=["released_at", "released_by"])
        allocation.allocate_variant(variant=cancelled.reservation.variant, now=now)
    return cancelled
