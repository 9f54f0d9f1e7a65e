"""Every write to reservations: accept one (FCFS), cancel one."""

import datetime as dt
import uuid

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from preorder_shop.actors import Actor
from preorder_shop.identifiers import RESERVATION_NUMBER

from .exceptions import (
    FulfilmentNotOffered,
    LimitReached,
    NotCancellable,
    ReservationsClosed,
    ReservationsNotOpen,
)
from .history import record_change
from .models import (
    Campaign,
    CancelledBy,
    ChangedField,
    Reservation,
    ReservationStatus,
    Variant,
    Window,
)

# Constraint names (see models.py and migration 0002) and what each one means here.
_IDEMPOTENCY = "reservation_idempotency_key_unique"
_SLOT = "reservation_customer_slot_unique"
_NUMBER = "reservations_reservation_number_key"
_WINDOW = "reservation_inside_window"
_LIMIT = "reservation_within_customer_limit"
_FULFILMENT = "reservation_fulfilment_offered"
# The name an upper app's guard raises when a reservation it still holds (an order form or
# an order) must not end on its own; the upper app ends both in one transaction instead.
IN_USE = "reservation_in_use"
IN_USE_MESSAGE = _(
    "This reservation has an order form or an order. Cancel it from the order instead."
)
# The variant's queue lock (advisory lock (1, variant id)): intake draws positions under it
# shared (migration 0003); whatever reads the whole line in order takes it exclusively.
QUEUE_LOCK = 1
_REFUSALS = {
    _WINDOW: ReservationsClosed,
    _LIMIT: LimitReached,
    _FULFILMENT: FulfilmentNotOffered,
}


def _violated_constraint(exc: IntegrityError) -> str | None:
    diag = getattr(exc.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None)


def _made_with_key(customer_id: int, key: uuid.UUID) -> Reservation | None:
    return Reservation.objects.filter(customer_id=customer_id, idempotency_key=key).first()


def _check_window(campaign: Campaign, now: dt.datetime) -> None:
    window = campaign.reservation_window(now)
    if window == Window.NOT_OPEN:
        raise ReservationsNotOpen()
    if window == Window.CLOSED:
        raise ReservationsClosed()


def reserve(
    *,
    customer_id: int,
    variant: Variant,
    fulfilment: str,
    idempotency_key: uuid.UUID,
    now: dt.datetime | None = None,
) -> Reservation:
    """Accept a reservation of `variant` (its campaign loaded), or return the one this
    idempotency key already made.

    Built for launch hour: the common case is one INSERT and nothing else. The queue
    position comes from the database sequence in that INSERT. The window and the offered
    fulfilment options are checked here for clear messages; the database enforces them
    again with the per-customer limit and the variant's campaign, and it is the database
    that decides between concurrent requests.
    """
    campaign = variant.campaign
    now = now or timezone.now()
    _check_window(campaign, now)
    if fulfilment not in dict(campaign.fulfilment_choices()):
        raise FulfilmentNotOffered()

    # Try the first slot straight away. A conflict on the key, or on a slot taken by a
    # concurrent twin of this request (a double click), means the reservation made with
    # this key is the answer. Otherwise pick a free slot, if the limit leaves one. A few
    # rounds at most: another request of the customer may take the slot we picked, or a
    # random number may collide with an existing one.
    slot = 1
    for _attempt in range(campaign.per_customer_limit + 3):
        try:
            return _insert(
                campaign=campaign,
                variant=variant,
                customer_id=customer_id,
                fulfilment=fulfilment,
                number=RESERVATION_NUMBER.generate(),
                slot=slot,
                idempotency_key=idempotency_key,
                created_at=now,
            )
        except IntegrityError as exc:
            constraint = _violated_constraint(exc)
            if constraint in (_IDEMPOTENCY, _SLOT) and (
                existing := _made_with_key(customer_id, idempotency_key)
            ):
                return existing
            if constraint == _SLOT:
                slot = _free_slot(campaign, customer_id)
            elif constraint != _NUMBER:
                if constraint in _REFUSALS:
                    raise _REFUSALS[constraint]() from exc
                raise
    raise LimitReached()


def _insert(**fields) -> Reservation:
    if connection.in_atomic_block:
        # Inside a caller's transaction a failed INSERT must not poison it: savepoint.
        with transaction.atomic():
            return Reservation.objects.create(**fields)
    return Reservation.objects.create(**fields)  # one statement: atomic on its own


def _free_slot(campaign: Campaign, customer_id: int) -> int:
    taken = set(
        Reservation.objects.holding()
        .filter(campaign=campaign, customer_id=customer_id)
        .values_list("slot", flat=True)
    )
    free = [s for s in range(1, campaign.per_customer_limit + 1) if s not in taken]
    if not free:
        raise LimitReached()
    return free[0]


def cancel_reservation(
    *,
    reservation: Reservation,
    by: CancelledBy,
    staff_user: AbstractBaseUser | None = None,
    now: dt.datetime | None = None,
) -> Reservation:
    """Cancel an active reservation; records who and when. Its queue place is given up (and
    a unit held for it is released by the same UPDATE, a trigger of the app that holds units).

    The variant's queue lock comes first, the reservation's row second: the order in which
    the festival draw takes them, and the lock that trigger takes anyway, so the two never
    wait for each other crosswise."""
    if (by == CancelledBy.STAFF) != (staff_user is not None):
        raise ValueError("staff cancellations name the staff user; customer ones do not")
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, %s)", [QUEUE_LOCK, reservation.variant_id]
            )
        locked = Reservation.objects.select_for_update().get(pk=reservation.pk)
        if not locked.can_cancel():
            raise NotCancellable()
        now = now or timezone.now()
        previous = locked.status
        locked.status = ReservationStatus.CANCELLED
        locked.cancelled_at = now
        locked.cancelled_by = by
        locked.cancelled_by_user = staff_user
        try:
            with transaction.atomic():
                locked.save(
                    update_fields=["status", "cancelled_at", "cancelled_by", "cancelled_by_user"]
                )
        except IntegrityError as exc:
            # An upper app's guard: something it holds still hangs on this reservation and
            # must be ended through that app's service.
            if _violated_constraint(exc) == IN_USE:
                raise NotCancellable(IN_USE_MESSAGE) from exc
            raise
        record_change(
            reservation=locked,
            field=ChangedField.STATUS,
            from_value=previous,
            to_value=locked.status,
            actor=Actor.staff(staff_user) if staff_user else Actor.customer(),
            at=now,
        )
    return locked
