"""Every write to orders: the one transition function, and the customer's order-form steps.

The state machine is the TRANSITIONS table below; migration 0002 holds the same table in
the database, which refuses any other move whoever writes.
"""

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from preorder_shop.identifiers import ORDER_NUMBER
from preorder_shop.models import Customer, OutboxChannel
from preorder_shop.outbox import queue_from_select, queue_message
from reservations import services as reservation_services
from reservations.models import (
    Campaign,
    CancelledBy,
    Fulfilment,
    Reservation,
    ReservationStatus,
    Variant,
)

from .exceptions import (
    ActorNotAllowed,
    EmbargoActive,
    FestivalDrawPending,
    IllegalTransition,
    IncompleteOrder,
    NotYourReservation,
    OrderNotCancellable,
    OrderWindowClosed,
    OrderWindowNotOpen,
    ReasonRequired,
    ReservationNotActive,
    ShippingDetailsRequired,
)
from .models import ActorKind, Order, OrderStatus, OrderTransition

S = OrderStatus


@dataclass(frozen=True)
class Actor:
    """Who makes a change: the customer, a staff user, a worker or a courier (by name)."""

    kind: ActorKind
    user: AbstractBaseUser | None = None
    label: str = ""

    @classmethod
    def customer(cls) -> "Actor":
        return cls(ActorKind.CUSTOMER)

    @classmethod
    def staff(cls, user: AbstractBaseUser) -> "Actor":
        return cls(ActorKind.STAFF, user=user)

    @classmethod
    def worker(cls, label: str) -> "Actor":
        return cls(ActorKind.WORKER, label=label)

    @classmethod
    def courier(cls, label: str) -> "Actor":
        return cls(ActorKind.COURIER, label=label)


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
    now = now or timezone.now()
    reason = reason.strip()
    with transaction.atomic():
        locked = (
            Order.objects.select_for_update(of=("self",))
            .select_related(
                "reservation__customer", "reservation__variant", "reservation__campaign"
            )
            .get(pk=order.pk)
        )
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
        _check_embargo(locked, to, now)
        if to == S.SHIPPED:
            if not (courier.strip() and tracking_number.strip()):
                raise ShippingDetailsRequired()
            locked.courier, locked.tracking_number = courier.strip(), tracking_number.strip()
        if to == S.RECEIVED:
            _assign_number(locked)
            _set_reservation_status(locked.reservation, ReservationStatus.ORDERED)
        from_status = locked.status
        locked.status = to
        setattr(locked, move.stamp, now)
        locked.updated_at = max(now, locked.updated_at)
        locked.save()
        if to == S.CANCELLED:
            _cancel_reservation(locked.reservation, actor, now)
        OrderTransition.objects.create(
            order=locked,
            from_status=from_status,
            to_status=to,
            at=now,
            actor_kind=actor.kind,
            actor_user=actor.user,
            actor_label=actor.label,
            reason=reason,
        )
        if notify:
            _notify(locked, reason)
    return locked


def embargo_lifts_at(reservation: Reservation, to: str) -> dt.datetime | None:
    """The launch embargo: nothing is delivered before the launch date (00:00 in Seoul).
    Courier parcels may be handed over from the day before, dawn deliveries from 18:00 the
    evening before, festival pickups only on launch day. None when `to` is not embargoed."""
    launch = dt.datetime.combine(
        reservation.campaign.launch_date, dt.time(0, 0), tzinfo=timezone.get_default_timezone()
    )
    if to == S.DELIVERED:
        return launch
    if to != S.SHIPPED:
        return None
    if reservation.fulfilment == Fulfilment.COURIER:
        return launch - dt.timedelta(days=1)
    if reservation.fulfilment == Fulfilment.DAWN:
        return launch - dt.timedelta(hours=6)
    return launch


def _check_embargo(order: Order, to: str, now: dt.datetime) -> None:
    lifts_at = embargo_lifts_at(order.reservation, to)
    if lifts_at is not None and now < lifts_at:
        raise EmbargoActive(
            _("Launch embargo: this order cannot become “%(target)s” before %(when)s.")
            % {
                "target": S(to).label,
                "when": timezone.localtime(lifts_at).strftime("%Y-%m-%d %H:%M"),
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


def _set_reservation_status(reservation: Reservation, status: str) -> None:
    updated = Reservation.objects.filter(
        pk=reservation.pk, status=ReservationStatus.ACTIVE
    ).update(status=status)
    if not updated:
        raise ReservationNotActive()


def _cancel_reservation(reservation: Reservation, actor: Actor, now: dt.datetime) -> None:
    """Cancelling an order gives up its reservation too: the unit goes to the next in line."""
    by = CancelledBy.CUSTOMER if actor.kind == CUSTOMER else CancelledBy.STAFF
    Reservation.objects.filter(pk=reservation.pk).exclude(
        status=ReservationStatus.CANCELLED
    ).update(
        status=ReservationStatus.CANCELLED,
        cancelled_at=now,
        cancelled_by=by,
        cancelled_by_user=actor.user if by == CancelledBy.STAFF else None,
    )


def _notify(order: Order, reason: str, **extra: Any) -> None:
    reservation = order.reservation
    customer = reservation.customer
    queue_message(
        channel=OutboxChannel.SMS,
        recipient=customer.phone,
        template_key=f"order.{order.status}",
        payload={
            "order_number": order.number,
            "reservation_number": reservation.number,
            "variant": str(reservation.variant),
            "customer_name": customer.name,
            "courier": order.courier,
            "tracking_number": order.tracking_number,
            "reason": reason,
            "status_url": order_page_path(order),
            **extra,
        },
        language=customer.language,
        idempotency_key=f"order:{order.pk}:{order.status}",
        reference=f"order:{order.pk}",
    )


def order_page_path(order: Order) -> str:
    if order.number:
        return reverse("orders:order_detail", kwargs={"number": order.number})
    return reverse("orders:reservation_detail", kwargs={"number": order.reservation.number})


# The customer's steps. Each checks that the reservation is the customer's own.


def _own(reservation: Reservation, customer: Customer) -> None:
    if reservation.customer_id != customer.pk:
        raise NotYourReservation()


def _check_order_window(reservation: Reservation, now: dt.datetime) -> None:
    campaign = reservation.campaign
    if now < campaign.order_opens_at:
        raise OrderWindowNotOpen()
    if now >= campaign.order_closes_at:
        raise OrderWindowClosed()


def open_draft(
    *, reservation: Reservation, customer: Customer, now: dt.datetime | None = None
) -> Order:
    """The reservation's live order: the draft to resume, the submitted order, or a new
    draft. Two tabs or a double click get the same one (partial unique index)."""
    _own(reservation, customer)
    now = now or timezone.now()
    with transaction.atomic():
        # Re-read the reservation under a lock: a concurrent cancel either waits for this
        # draft (and is then refused, the draft being live) or wins, and no draft opens.
        locked = (
            Reservation.objects.select_for_update(of=("self",))
            .select_related("campaign")
            .get(pk=reservation.pk)
        )
        live = Order.objects.live().filter(reservation=locked).first()
        if live is not None and live.status != S.DRAFT:
            return live  # already submitted: the caller shows the order
        if live is None and locked.status != ReservationStatus.ACTIVE:
            raise ReservationNotActive()
        _check_order_window(locked, now)  # a leftover draft opens only inside the window
        if live is not None:
            return live
        return Order.objects.create(reservation=locked, created_at=now, updated_at=now)


# Where and to whom a courier delivers: asked only for courier and dawn delivery.
ADDRESS_FIELDS = [
    "recipient_name",
    "recipient_phone",
    "postcode",
    "address_line1",
    "address_line2",
    "delivery_note",
]
DRAFT_FIELDS = ["plan", "join_type", "port_in_carrier", "port_in_number", *ADDRESS_FIELDS]


def save_draft(
    *, order: Order, customer: Customer, values: dict[str, Any], now: dt.datetime | None = None
) -> Order:
    """Store what the customer has typed so far (only fields named in DRAFT_FIELDS)."""
    unknown = set(values) - set(DRAFT_FIELDS)
    if unknown:
        raise ValueError(f"not draft fields: {sorted(unknown)}")
    now = now or timezone.now()
    with transaction.atomic():
        locked = (
            Order.objects.select_for_update(of=("self",))
            .select_related("reservation__campaign")
            .get(pk=order.pk)
        )
        _own(locked.reservation, customer)
        if locked.status != S.DRAFT:
            raise IllegalTransition(_illegal_message(locked.get_status_display(), S.DRAFT.label))
        _check_order_window(locked.reservation, now)
        for name, value in values.items():
            setattr(locked, name, value)
        locked.updated_at = max(now, locked.updated_at)
        locked.save(update_fields=[*values, "updated_at"])
    return locked


def submit_order(
    *,
    order: Order,
    customer: Customer,
    values: dict[str, Any],
    now: dt.datetime | None = None,
) -> Order:
    """Save the final answers and move the draft to `received`, with its order number.

    `values` must already be validated by the caller's form (OrderForm with complete=True);
    completeness is checked again here so no door can submit half a form. A repeated
    submit of an already submitted order returns it unchanged.
    """
    now = now or timezone.now()
    with transaction.atomic():
        # Lock first: of ten parallel submits, one moves the draft and the others find the
        # received order and return it.
        locked = (
            Order.objects.select_for_update(of=("self",))
            .select_related("reservation")
            .get(pk=order.pk)
        )
        _own(locked.reservation, customer)
        if locked.status in (S.DISCARDED, S.EXPIRED):
            raise IllegalTransition(
                _illegal_message(locked.get_status_display(), S.RECEIVED.label)
            )
        if locked.status != S.DRAFT:
            return locked
        _require_festival_draw(locked.reservation)
        saved = save_draft(order=locked, customer=customer, values=values, now=now)
        missing = missing_fields(saved)
        if missing:
            raise IncompleteOrder(missing)
        return transition(order=saved, to=S.RECEIVED, actor=Actor.customer(), now=now)


def _require_festival_draw(reservation: Reservation) -> None:
    """A festival-pickup order form waits for the festival draw: those not drawn switch to
    courier delivery, and their order form must then ask for an address. The reservation
    row is read again under FOR SHARE, which waits for a draw in progress (it locks the
    entrants FOR UPDATE), so the form is judged by the way of delivery the draw left. The
    database holds the same rule (fulfillment migration 0005)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT fulfilment FROM reservations_reservation WHERE id = %s FOR SHARE",
            [reservation.pk],
        )
        (reservation.fulfilment,) = cursor.fetchone()
    if reservation.fulfilment == Fulfilment.FESTIVAL and not festival_draw_published(
        reservation.campaign_id
    ):
        raise FestivalDrawPending()


def festival_draw_published(campaign_id: int) -> bool:
    """Written onto the campaign by the festival draw's reveal (fulfilment decides it)."""
    return Campaign.objects.filter(
        pk=campaign_id, festival_draw_published_at__isnull=False
    ).exists()


def missing_fields(order: Order) -> dict[str, list[str]]:
    """What a complete order form still lacks, per field, in the customer's words."""
    errors: dict[str, list[str]] = {}
    if order.plan_id is None:
        errors["plan"] = [_("Choose a rate plan.")]
    if not order.join_type:
        errors["join_type"] = [_("Choose how you join.")]
    if order.join_type == "port_in":
        if not order.port_in_carrier:
            errors["port_in_carrier"] = [_("Choose the carrier you are moving from.")]
        if not order.port_in_number:
            errors["port_in_number"] = [_("Enter the mobile number you are moving.")]
    if order.reservation.fulfilment in (Fulfilment.COURIER, Fulfilment.DAWN):
        delivery = {
            "recipient_name": _("Enter who receives the phone."),
            "recipient_phone": _("Enter the recipient's mobile number for the courier."),
            "postcode": _("Enter the 5-digit postcode."),
            "address_line1": _("Enter the delivery address."),
        }
        for name, message in delivery.items():
            if not getattr(order, name):
                errors[name] = [message]
    return errors


def discard_draft(*, order: Order, customer: Customer) -> Order:
    _own(order.reservation, customer)
    return transition(order=order, to=S.DISCARDED, actor=Actor.customer())


def cancel_by_customer(*, reservation: Reservation, customer: Customer) -> Reservation:
    """The customer's "Cancel": gives up the reservation, discarding a draft or cancelling a
    received order in the same transaction. Refused once preparation has started."""
    _own(reservation, customer)
    with transaction.atomic():
        live = Order.objects.live().filter(reservation=reservation).first()
        if live is not None and live.status not in (S.DRAFT, S.RECEIVED):
            raise OrderNotCancellable()
        if live is not None and live.status == S.DRAFT:
            # One message for both: "discarded, reservation cancelled" (not "still active").
            discarded = transition(
                order=live, to=S.DISCARDED, actor=Actor.customer(), notify=False
            )
            cancelled = reservation_services.cancel_reservation(
                reservation=reservation, by=CancelledBy.CUSTOMER
            )
            _notify(discarded, "", reservation_cancelled=True)
            return cancelled
        if live is not None:
            transition(order=live, to=S.CANCELLED, actor=Actor.customer())
            reservation.refresh_from_db()
            return reservation
        return reservation_services.cancel_reservation(
            reservation=reservation, by=CancelledBy.CUSTOMER
        )


def expire_drafts(*, now: dt.datetime | None = None, worker: str = "expire-drafts") -> int:
    """Drafts whose campaign's order-form window has closed expire; each customer is told.

    Few rows (only forms left unfinished), so one transition each keeps every history row
    and notification exact.
    """
    now = now or timezone.now()
    expired = 0
    ids = list(
        Order.objects.filter(
            status=S.DRAFT, reservation__campaign__order_closes_at__lte=now
        ).values_list("pk", flat=True)
    )
    for order in Order.objects.filter(pk__in=ids):
        try:
            transition(order=order, to=S.EXPIRED, actor=Actor.worker(worker), now=now)
        except IllegalTransition:
            continue  # submitted or discarded meanwhile
        expired += 1
    return expired


def close_order_window(*, campaign: Campaign, now: dt.datetime | None = None) -> int:
    """After the campaign's order-form deadline, reservations that never submitted an order
    expire (drafts first, each with its own history and message), and their customers are
    told; a unit held for them goes to the next in line. Idempotent. Returns how many
    reservations expired."""
    now = now or timezone.now()
    if now < campaign.order_closes_at:
        return 0
    expire_drafts(now=now, worker="order-deadline")
    expired = 0
    for variant in campaign.variants.all():
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                """
                UPDATE reservations_reservation SET status = 'expired'
                 WHERE variant_id = %s AND status = 'active'
                RETURNING id
                """,
                [variant.pk],
            )
            ids = [row[0] for row in cursor.fetchall()]
            expired += len(ids)
            queue_from_select(
                """
                SELECT 'sms', c.phone, 'reservation.expired', c.language,
                       jsonb_build_object('reservation_number', r.number,
                                          'customer_name', c.name, 'variant', %s::text),
                       'reservation:' || r.id || ':expired', 'reservation:' || r.id
                  FROM reservations_reservation r
                  JOIN preorder_shop_customer c ON c.id = r.customer_id
                 WHERE r.id = ANY(%s)
                """,
                [str(variant), ids],
            )
    return expired


# Moves the pipeline makes in batches: no side effects beyond status, stamp, history and
# notification, so one statement each can do them for many orders at once.
BATCH_MOVES = {S.PREPARING}

ADVANCE_BATCH = """
UPDATE orders_order
   SET status = %(to)s, {stamp} = %(now)s, updated_at = GREATEST(updated_at, %(now)s)
 WHERE id = ANY(%(ids)s) AND status = %(from)s
RETURNING id
"""

RECORD_BATCH = """
INSERT INTO orders_ordertransition
       (order_id, from_status, to_status, at, actor_kind, actor_user_id, actor_label, reason)
SELECT id, %(from)s, %(to)s, %(now)s, %(kind)s, NULL, %(label)s, ''
  FROM unnest(%(ids)s::bigint[]) AS moved(id)
"""

NOTIFY_BATCH = """
SELECT 'sms', c.phone, 'order.' || o.status, c.language,
       jsonb_build_object('order_number', o.number, 'reservation_number', r.number,
                          'variant', %(labels)s::jsonb ->> r.variant_id::text,
                          'customer_name', c.name, 'courier', o.courier,
                          'tracking_number', o.tracking_number, 'reason', '',
                          'status_url', %(url_prefix)s || o.number || %(url_suffix)s),
       'order:' || o.id || ':' || o.status, 'order:' || o.id
  FROM orders_order o
  JOIN reservations_reservation r ON r.id = o.reservation_id
  JOIN preorder_shop_customer c ON c.id = r.customer_id
 WHERE o.id = ANY(%(ids)s)
"""


def transition_many(
    *, order_ids: list[int], to: str, actor: Actor, now: dt.datetime | None = None
) -> list[int]:
    """transition() for a batch of orders, set-based: the same table, and for each order
    the same history row and notification, in one transaction. Orders no longer in the
    move's starting status are skipped, so a repeated batch changes nothing. Returns the
    ids moved. The caller chooses the order (the pipeline: queue position)."""
    if to not in BATCH_MOVES:
        raise ValueError(f"{to} has side effects; move orders there one by one")
    [(frm, move)] = [(f, m) for (f, t), m in TRANSITIONS.items() if t == to]
    if actor.kind not in move.actors or actor.kind in move.reason_from:
        raise ActorNotAllowed()
    now = now or timezone.now()
    params = {
        "ids": list(order_ids),
        "from": frm,
        "to": to,
        "now": now,
        "kind": actor.kind,
        "label": actor.label,
    }
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(ADVANCE_BATCH.format(stamp=move.stamp), params)  # stamp: a field name
        moved = [row[0] for row in cursor.fetchall()]
        if moved:
            cursor.execute(RECORD_BATCH, {**params, "ids": moved})
            # Each status is entered once (the table has no cycles; the history's unique
            # (order, to_status) says so too), so 'order:<id>:<to>' cannot be queued yet.
            queue_from_select(
                NOTIFY_BATCH, {"ids": moved, **_notify_batch_params(moved)}, keys_are_new=True
            )
    return moved


def _notify_batch_params(order_ids: list[int]) -> dict:
    marker = "00000000000"
    prefix, suffix = reverse("orders:order_detail", kwargs={"number": marker}).split(marker)
    # The ids as one array parameter: an ORM __in over thousands of ids built, sent and
    # parsed a placeholder each (measured: a tenth of a pipeline batch).
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT DISTINCT r.variant_id
              FROM orders_order o JOIN reservations_reservation r ON r.id = o.reservation_id
             WHERE o.id = ANY(%s)
            """,
            [order_ids],
        )
        variants = Variant.objects.filter(pk__in=[row[0] for row in cursor.fetchall()])
    return {
        "labels": json.dumps({str(v.pk): str(v) for v in variants}),
        "url_prefix": prefix,
        "url_suffix": suffix,
    }
