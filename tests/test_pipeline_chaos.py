"""The chaos test: real Celery workers move 5,000 orders while being killed with SIGKILL.

Each kill lands mid-batch (small batches, kills at random moments); a batch is one
transaction, so PostgreSQL rolls a killed one back, and the re-dispatched task continues
from the lowest ready position. At the end every order has moved, in queue order per
variant, with exactly one history row and one notification each.
"""

import datetime as dt
import itertools
import random
import signal
import time
import uuid
from pathlib import Path

import pytest
from django.db.models import Count
from django.utils import timezone

from fulfillment.demo import submit_synthetic_orders
from fulfillment.models import StockLot
from fulfillment.services import allocation
from fulfillment.tasks import advance_variant
from orders.models import Order, OrderStatus, OrderTransition
from orders.tests.factories import RatePlanFactory
from preorder_shop.models import OutboxMessage
from reservations.demo import ensure_synthetic_reservations
from reservations.tests.factories import CampaignFactory, VariantFactory
from tests.processes import start_worker

pytestmark = pytest.mark.django_db(transaction=True)

ORDERS = 5000
VARIANTS = 4
ROOT = Path(__file__).resolve().parent.parent


def dispatch(queue: str, variant_ids: list[int]) -> None:
    """What beat's advance_pipeline does, on the test's own queue."""
    for variant_id in variant_ids:
        advance_variant.apply_async(args=[variant_id], queue=queue)


def received_count() -> int:
    return Order.objects.filter(status=OrderStatus.RECEIVED).count()


def test_killed_workers_lose_nothing_skip_nobody_and_send_each_notice_once():
    campaign = CampaignFactory()
    RatePlanFactory(campaign=campaign)
    variants = [VariantFactory(campaign=campaign) for _ in range(VARIANTS)]
    ensure_synthetic_reservations(campaign, ORDERS)
    assert submit_synthetic_orders(campaign, ORDERS) == ORDERS
    for variant in variants:
        StockLot.objects.create(
            variant=variant,
            quantity=ORDERS,
            arrives_at=timezone.now() - dt.timedelta(hours=1),
            reference="CHAOS",
        )
        allocation.allocate_variant(variant=variant)
    variant_ids = [v.pk for v in variants]

    queue = f"chaos-{uuid.uuid4().hex[:8]}"
    workers = [start_worker(queue, f"w{i}") for i in range(2)]
    rng = random.Random(20261122)
    kills = 0
    try:
        dispatch(queue, variant_ids)
        deadline = time.monotonic() + 240
        while received_count() and time.monotonic() < deadline:
            if kills < 4 and received_count() < ORDERS:  # mid-run: some batches done
                time.sleep(rng.uniform(0.05, 0.4))
                victim = rng.randrange(len(workers))
                workers[victim].send_signal(signal.SIGKILL)
                workers[victim].wait(timeout=10)
                kills += 1
                workers[victim] = start_worker(queue, f"w{victim}-{kills}")
                dispatch(queue, variant_ids)  # beat would do this within 15 s
            else:
                time.sleep(0.5)
                dispatch(queue, variant_ids)
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=10)

    assert kills == 4
    assert received_count() == 0, "orders were lost or left behind"
    orders = Order.objects.filter(reservation__campaign=campaign)
    assert orders.filter(status=OrderStatus.PREPARING).count() == ORDERS

    # Queue order per variant: preparing times never go down as positions go up.
    for variant in variants:
        times = list(
            orders.filter(reservation__variant=variant)
            .order_by("reservation__position")
            .values_list("preparing_at", flat=True)
        )
        inversions = sum(a > b for a, b in itertools.pairwise(times))
        assert inversions == 0

    # One history row and one notification per move: nothing twice, nothing missing.
    history = (
        OrderTransition.objects.filter(order__in=orders, to_status=OrderStatus.PREPARING)
        .values("order")
        .annotate(n=Count("pk"))
    )
    assert len(history) == ORDERS
    assert {row["n"] for row in history} == {1}
    notices = (
        OutboxMessage.objects.filter(template_key="order.preparing")
        .values("reference")
        .annotate(n=Count("pk"))
    )
    assert len(notices) == ORDERS
    assert {row["n"] for row in notices} == {1}
