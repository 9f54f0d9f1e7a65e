"""Moves of many orders at once: drafts expiring when the order-form window closes, the
reservations that never ordered expiring with it, and the pipeline's set-based batch of
transition() (fulfillment.services.pipeline chooses the orders and their order)."""

import datetime as dt

from django.db import connection, transaction
from django.utils import timezone

from preorder_shop.outbox import queue_from_select
from reservations.history import record_changes
from reservations.models import Campaign, ChangedField, ReservationStatus, Window

from ..exceptions import ActorNotAllowed, IllegalTransition
from ..models import Order, OrderStatus
from .machine import TRANSITIONS, Actor, transition
from .notices import NOTIFY_BATCH, batch_params

S = OrderStatus


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
    if campaign.order_window(now) != Window.CLOSED:
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
            record_changes(
                reservation_ids=ids,
                field=ChangedField.STATUS,
                from_value=ReservationStatus.ACTIVE,
                to_value=ReservationStatus.EXPIRED,
                actor=Actor.worker("order-deadline"),
                at=now,
            )
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
                NOTIFY_BATCH, {"ids": moved, **batch_params(moved)}, keys_are_new=True
            )
    return moved
