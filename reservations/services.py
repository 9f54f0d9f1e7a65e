"""Every write to reservations: accept one (FCFS), cancel one."""

import datetime as dt
import uuid

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from preorder_shop.identifiers import RESERVATION_NUMBER
from preorder_shop.models import Customer

from .exceptions import (
    FulfilmentNotOffered,
    LimitReached,
    NotCancellable,
    ReservationsClosed,
    ReservationsNotOpen,
    UnknownVariant,
)
from .models import Campaign, CancelledBy, Reservation, ReservationStatus, Variant

# Constraint names (see models.py and migration 0002) and what each one means here.
_IDEMPOTENCY = "reservation_idempotency_key_unique"
_SLOT = "reservation_customer_slot_unique"
_NUMBER = "reservations_reservation_number_key"
_WINDOW = "reservation_inside_window"
_LIMIT = "reservation_within_customer_limit"
_FULFILMENT = "reservation_fulfilment_offered"
_VARIANT = "reservation_variant_in_campaign"
HAS_LIVE_ORDER = _(
    "This reservation has an order form or an order. Cancel it from the order instead."
)
_REFUSALS = {
    _WINDOW: ReservationsClosed,
    _LIMIT: LimitReached,
    _FULFILMENT: FulfilmentNotOffered,
    _VARIANT: UnknownVariant,
}


def _violated_constraint(exc: IntegrityError) -> str | None:
    diag = getattr(exc.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None)


def _made_with_key(customer: Customer, key: uuid.UUID) -> Reservation | None:
    return Reservation.objects.filter(customer=customer, idempotency_key=key).first()


def _check_window(campaign: Campaign, now: dt.datetime) -> None:
    if now < campaign.reservation_opens_at:
        raise ReservationsNotOpen()
    if now >= campaign.reservation_closes_at:
        raise ReservationsClosed()


def reserve(
    *,
    customer: Customer,
    campaign: Campaign,
    variant: Variant,
    fulfilment: str,
    idempotency_key: uuid.UUID,
    now: dt.datetime | None = None,
) -> Reservation:
    """Accept a reservation, or return the one this idempotency key already made.

    The queue position comes from the database sequence in the INSERT itself. The
    per-customer limit, the window, the offered fulfilment options and the variant's campaign
    are checked here for clear messages and enforced again by the database, which is what
    decides between concurrent requests.
    """
    now = now or timezone.now()
    _check_window(campaign, now)
    if fulfilment not in dict(campaign.fulfilment_choices()):
        raise FulfilmentNotOffered()
    if variant.campaign_id != campaign.pk:
        raise UnknownVariant()

    # A resubmitted form (same key) is recognised by the database: its insert conflicts on
    # the key, or, once the customer's slots are full, finds no free slot; either way the
    # reservation made with that key is the answer. A few rounds at most: another request
    # of the same customer may take the slot we picked, or (rarely) a random number may
    # collide with an existing one.
    for _attempt in range(campaign.per_customer_limit + 3):
        taken = set(
            Reservation.objects.holding()
            .filter(campaign=campaign, customer=customer)
            .values_list("slot", flat=True)
        )
        free = [s for s in range(1, campaign.per_customer_limit + 1) if s not in taken]
        if not free:
            if existing := _made_with_key(customer, idempotency_key):
                return existing
            raise LimitReached()
        try:
            with transaction.atomic():
                reservation = Reservation.objects.create(
                    campaign=campaign,
                    variant=variant,
                    customer=customer,
                    fulfilment=fulfilment,
                    number=RESERVATION_NUMBER.generate(),
                    slot=free[0],
                    idempotency_key=idempotency_key,
                    created_at=now,
                )
        except IntegrityError as exc:
            constraint = _violated_constraint(exc)
            if constraint in (_IDEMPOTENCY, _SLOT, _NUMBER):
                if existing := _made_with_key(customer, idempotency_key):
                    return existing
                continue
            if constraint in _REFUSALS:
                raise _REFUSALS[constraint]() from exc
            raise
        return reservation
    raise LimitReached()


def cancel_reservation(
    *,
    reservation: Reservation,
    by: CancelledBy,
    staff_user: AbstractBaseUser | None = None,
    now: dt.datetime | None = None,
) -> Reservation:
    """Cancel an active reservation; records who and when. Its queue place is given up."""
    if (by == CancelledBy.STAFF) != (staff_user is not None):
        raise ValueError("staff cancellations name the staff user; customer ones do not")
    with transaction.atomic():
        locked = Reservation.objects.select_for_update().get(pk=reservation.pk)
        if not locked.can_cancel():
            raise NotCancellable()
        locked.status = ReservationStatus.CANCELLED
        locked.cancelled_at = now or timezone.now()
        locked.cancelled_by = by
        locked.cancelled_by_user = staff_user
        try:
            with transaction.atomic():
                locked.save(
                    update_fields=["status", "cancelled_at", "cancelled_by", "cancelled_by_user"]
                )
        except IntegrityError as exc:
            # The orders app's guard: an order form or order still hangs on this reservation
            # and must be discarded or cancelled through the orders service.
            if _violated_constraint(exc) == "reservation_has_live_order":
                raise NotCancellable(HAS_LIVE_ORDER) from exc
            raise
    return locked
