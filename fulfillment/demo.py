"""Demo stock and orders for the demo campaign (seed_demo), in bulk."""

import datetime as dt
import random

from django.db import connection, transaction
from django.utils import timezone

from preorder_shop.actors import Actor
from preorder_shop.identifiers import ORDER_NUMBER
from reservations.history import record_changes
from reservations.models import Campaign, ChangedField, ReservationStatus

from .models import StockLot


def ensure_demo_lots(campaign: Campaign) -> int:
    """Two waves per variant: one already arrived, one arriving an hour after the first
    seeding (so the demo shows a wave coming in and the queue moving)."""
    waves = [
        ("W1", campaign.reservation_opens_at, 30),
        ("W2", timezone.now() + dt.timedelta(hours=1), 20),
    ]
    created = 0
    for variant in campaign.variants.all():
        for wave, arrives_at, quantity in waves:
            _lot, made = StockLot.objects.get_or_create(
                variant=variant,
                reference=f"DEMO-{wave}-{variant.pk}",
                defaults={"quantity": quantity, "arrives_at": arrives_at},
            )
            created += made
    return created


def submit_synthetic_orders(campaign: Campaign, count: int, *, seed: int = 7) -> int:
    """Give up to `count` active reservations of the campaign (lowest positions first) a
    submitted order (status received, with its history row), in bulk: demo screens,
    pipeline tests and benchmarks. Submission times are shuffled, as in real life.
    Festival-pickup reservations only once the campaign's draw is published, the rule every
    order form obeys (fulfillment migration 0005)."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not security
    plan = campaign.rate_plans.order_by("monthly_fee_krw").first()
    if plan is None:
        raise ValueError("the campaign needs a rate plan first (seed_demo makes some)")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO orders_order
                   (reservation_id, status, plan_id, join_type, port_in_carrier,
                    port_in_number, recipient_name, recipient_phone, postcode, address_line1,
                    address_line2, delivery_note, courier, tracking_number, created_at,
                    updated_at)
            SELECT r.id, 'draft', %(plan)s, 'new_line', '', '', c.name, c.phone, '04524',
                   '서울특별시 중구 세종대로 110', '', '', '', '', r.created_at, r.created_at
              FROM reservations_reservation r
              JOIN preorder_shop_customer c ON c.id = r.customer_id
             WHERE r.campaign_id = %(campaign)s AND r.status = 'active'
               AND (r.fulfilment <> 'festival'
                    OR EXISTS (SELECT 1 FROM fulfillment_festivaldraw d
                                WHERE d.campaign_id = r.campaign_id
                                  AND d.revealed_at IS NOT NULL))
               AND NOT EXISTS (SELECT 1 FROM orders_order o WHERE o.reservation_id = r.id
                                  AND o.status NOT IN ('cancelled', 'discarded', 'expired'))
             ORDER BY r.position
             LIMIT %(count)s
            RETURNING id, reservation_id, created_at
            """,
            {"plan": plan.pk, "campaign": campaign.pk, "count": count},
        )
        rows = cursor.fetchall()
        if not rows:
            return 0
        cursor.execute("SELECT number FROM orders_order WHERE number IS NOT NULL")
        taken = {row[0] for row in cursor.fetchall()}
        fresh: set[str] = set()
        while len(fresh) < len(rows):
            number = ORDER_NUMBER.generate()
            if number not in taken:
                fresh.add(number)
        numbers = list(fresh)
        rng.shuffle(numbers)  # random numbers, in no relation to queue positions
        # Never in the future: a later move (the pipeline's, now) must not predate it.
        now = timezone.now()
        submitted = [
            min(created + dt.timedelta(minutes=rng.randint(1, 600)), now)
            for _id, _r, created in rows
        ]
        ids = [row[0] for row in rows]
        cursor.execute(
            """
            UPDATE orders_order o
               SET status = 'received', number = x.number, submitted_at = x.at,
                   updated_at = x.at
              FROM unnest(%s::bigint[], %s::text[], %s::timestamptz[]) AS x(id, number, at)
             WHERE o.id = x.id
            """,
            [ids, numbers, submitted],
        )
        cursor.execute(
            """
            INSERT INTO orders_ordertransition
                   (order_id, from_status, to_status, at, actor_kind, actor_user_id,
                    actor_label, reason)
            SELECT id, 'draft', 'received', submitted_at, 'customer', NULL, '', ''
              FROM orders_order WHERE id = ANY(%s)
            """,
            [ids],
        )
        reservation_ids = [row[1] for row in rows]
        cursor.execute(
            "UPDATE reservations_reservation SET status = 'ordered' WHERE id = ANY(%s)",
            [reservation_ids],
        )
        record_changes(
            reservation_ids=reservation_ids,
            field=ChangedField.STATUS,
            from_value=ReservationStatus.ACTIVE,
            to_value=ReservationStatus.ORDERED,
            actor=Actor.customer(),
            at=timezone.now(),
        )
    return len(rows)
