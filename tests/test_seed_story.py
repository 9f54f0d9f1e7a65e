"""The FCFS story end to end: customers reserve in a known order, submit their order forms
in a different order, stock arrives in two waves; the pipeline and the couriers move
orders in queue order per variant, and the fairness audit finds nothing unexplained."""

import datetime as dt
import itertools
import uuid

import pytest
from django.core.management import call_command
from django.utils import timezone

from fulfillment.models import StockLot
from fulfillment.services import allocation, pipeline, simulator
from orders import services as order_services
from orders.models import Order, OrderStatus
from orders.tests.factories import COMPLETE_ANSWERS, RatePlanFactory
from preorder_shop.tests.factories import CustomerFactory
from reservations import services as reservation_services
from reservations.tests.factories import CampaignFactory, VariantFactory

pytestmark = pytest.mark.django_db

S = OrderStatus


def advance_everything(campaign, now):
    for variant in campaign.variants.all():
        allocation.allocate_variant(variant=variant, now=now)
        pipeline.advance_batch(variant_id=variant.pk, worker="story", limit=1000, now=now)
    simulator.run(now=now + dt.timedelta(minutes=5))  # hand over what has been packed
    simulator.run(now=now + dt.timedelta(minutes=30))  # deliver what was handed over


def in_queue_order(orders, field):
    times = [getattr(o, field) for o in orders if getattr(o, field) is not None]
    return all(a <= b for a, b in itertools.pairwise(times))


def test_two_waves_ship_in_queue_order_and_the_audit_is_clean(capsys):
    campaign = CampaignFactory()
    plan = RatePlanFactory(campaign=campaign)
    variants = [VariantFactory(campaign=campaign) for _ in range(2)]
    customers = [CustomerFactory() for _ in range(12)]

    # Reserve in a known order, alternating variants.
    reservations = [
        reservation_services.reserve(
            customer_id=customer.pk,
            variant=variants[i % 2],
            fulfilment="courier",
            idempotency_key=uuid.uuid4(),
        )
        for i, customer in enumerate(customers)
    ]
    assert [r.position for r in reservations] == sorted(r.position for r in reservations)

    # Submit order forms in the reverse order, a minute apart; the earliest reserver last.
    start = timezone.now()
    for minute, reservation in enumerate(reversed(reservations)):
        draft = order_services.open_draft(reservation=reservation, customer=reservation.customer)
        order_services.submit_order(
            order=draft,
            customer=reservation.customer,
            values={**COMPLETE_ANSWERS, "plan": plan},
            now=start + dt.timedelta(minutes=minute),
        )

    # Wave 1: 2 units per variant, already here. Wave 2: 3 more each, in two hours.
    for variant in variants:
        StockLot.objects.create(
            variant=variant, quantity=2, arrives_at=start - dt.timedelta(hours=1), reference="W1"
        )
        StockLot.objects.create(
            variant=variant, quantity=3, arrives_at=start + dt.timedelta(hours=2), reference="W2"
        )

    advance_everything(campaign, start + dt.timedelta(minutes=20))
    for variant in variants:
        orders = list(
            Order.objects.filter(reservation__variant=variant).order_by("reservation__position")
        )
        assert [o.status for o in orders] == [S.DELIVERED] * 2 + [S.RECEIVED] * 4

    advance_everything(campaign, start + dt.timedelta(hours=3))
    for variant in variants:
        orders = list(
            Order.objects.filter(reservation__variant=variant).order_by("reservation__position")
        )
        assert [o.status for o in orders] == [S.DELIVERED] * 5 + [S.RECEIVED]
        for field in ("preparing_at", "shipped_at", "delivered_at"):
            assert in_queue_order(orders, field), field

    call_command("fairness_report", "--campaign", campaign.slug)  # exits 0 when fair
    assert "unexplained" in capsys.readouterr().out.lower()
