"""Staff holds: stop an order from moving on, with a reason, and let it go again.

A hold changes nothing about the order's place in line: its reservation keeps its queue
position and its unit, the pipeline only skips it while the hold is active, and the
fairness audit counts the orders that overtook it meanwhile as justified.
"""

import datetime as dt

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from orders.models import Order, OrderStatus
from preorder_shop.exceptions import DomainError

from .models import OrderHold

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
        # The order's row lock serialises holds, releases and transitions of this order: the
        # status checked here is the status the hold is placed on.
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
                return OrderHold.objects.create(
                    order=locked, reason=reason, placed_by=staff_user, placed_at=now
                )
        except IntegrityError as exc:
            # The partial unique index is the last word (a writer that did not lock the order).
            if ONE_ACTIVE_INDEX in str(exc):
                raise AlreadyOnHold() from exc
            raise


def release_hold(
    *, order: Order, staff_user: AbstractBaseUser, now: dt.datetime | None = None
) -> OrderHold:
    """End the active hold of `order`, recording who released it and when."""
    now = now or timezone.now()
    with transaction.atomic():
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
        return hold
