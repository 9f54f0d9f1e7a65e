"""Staff holds: stop an order from moving on, with a reason, and let it go again.

A hold changes nothing about the order's place in line: its reservation keeps its queue
position and its unit; while the hold is active the pipeline, staff and the development
courier do not start or hand over the order, and the fairness audit counts the orders that
overtook it meanwhile as justified. A hold cannot stop a parcel a real courier already has:
a courier's hand-over or delivery of a held order is recorded as it happened (the courier's
word is the truth about the parcel) and raises a HoldAlert for staff (fulfillment.services.moves).
"""

import datetime as dt

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from orders.models import Order, OrderStatus
from preorder_shop.exceptions import DomainError

from ..models import HoldAlert, OrderHold
from .delivery_notices import notify_delivery_changed
from .moves import lock_variant_lane

HOLDABLE_STATUSES = [OrderStatus.RECEIVED, OrderStatus.PREPARING]
ONE_ACTIVE_INDEX = "hold_one_active_per_order"


class HoldReasonRequired(DomainError):
    default_message = _("Give a reason for the hold: it is kept with the order.")


class OrderNotHoldable(DomainError):
    default_message = _("Only an order that is received or being prepared can be put on hold.")


class AlreadyOnHold(DomainError):
    default_message = _("This order is already on hold. Release that hold first.")


class NotOnHold(DomainError):
    default_message = _("This order is not on hold.")


def active_hold(order: Order) -> OrderHold | None:
    return OrderHold.objects.filter(order=order, released_at__isnull=True).first()


def place_hold(
    *,
    order: Order,
    staff_user: AbstractBaseUser,
    reason: str,
    now: dt.datetime | None = None,
) -> OrderHold:
    """Put `order` on hold. Refused without a reason, for an order that is not received or
    preparing, and when the order already has an active hold."""
    reason = reason.strip()
    if not reason:
        raise HoldReasonRequired()
    now = now or timezone.now()
    with transaction.atomic():
        # The variant's pipeline lock first (a batch in flight finishes, or sees this hold),
        # then the order's row lock, which serialises holds, releases and transitions of this
        # order: the status checked here is the status the hold is placed on.
        lock_variant_lane(order.reservation.variant_id)
        locked = Order.objects.select_for_update(of=("self",)).get(pk=order.pk)
        if locked.status not in HOLDABLE_STATUSES:
            raise OrderNotHoldable(
                _("An order that is “%(status)s” cannot be put on hold.")
                % {"status": locked.get_status_display()}
            )
        if OrderHold.objects.filter(order=locked, released_at__isnull=True).exists():
            raise AlreadyOnHold()
        try:
            with transaction.atomic():
                hold = OrderHold.objects.create(
                    order=locked, reason=reason, placed_by=staff_user, placed_at=now
                )
        except IntegrityError as exc:
            # The partial unique index is the last word (a writer that did not lock the order).
            if ONE_ACTIVE_INDEX in str(exc):
                raise AlreadyOnHold() from exc
            raise
        # A held unit's expected delivery is no longer set (services.expected).
        notify_delivery_changed(reservation_ids=[locked.reservation_id], cause=f"hold:{hold.pk}")
        return hold


def release_hold(
    *, order: Order, staff_user: AbstractBaseUser, now: dt.datetime | None = None
) -> OrderHold:
    """End the active hold of `order`, recording who released it and when."""
    now = now or timezone.now()
    with transaction.atomic():
        lock_variant_lane(order.reservation.variant_id)
        locked = Order.objects.select_for_update(of=("self",)).get(pk=order.pk)
        hold = (
            OrderHold.objects.select_for_update()
            .filter(order=locked, released_at__isnull=True)
            .first()
        )
        if hold is None:
            raise NotOnHold()
        hold.released_at = max(now, hold.placed_at)
        hold.released_by = staff_user
        hold.save(update_fields=["released_at", "released_by"])
        notify_delivery_changed(
            reservation_ids=[locked.reservation_id], cause=f"hold:{hold.pk}:released"
        )
        return hold


def resolve_alert(
    *, alert: HoldAlert, staff_user: AbstractBaseUser, now: dt.datetime | None = None
) -> HoldAlert:
    """Staff have dealt with a courier event on a held order; say who and when. Resolving
    twice keeps the first resolution."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = HoldAlert.objects.select_for_update().get(pk=alert.pk)
        if locked.resolved_at is None:
            locked.resolved_at = max(now, locked.raised_at)
            locked.resolved_by = staff_user
            locked.save(update_fields=["resolved_at", "resolved_by"])
        return locked
