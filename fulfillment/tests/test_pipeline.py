"""The pipeline moves ready orders to preparing in queue order, per variant, in batches."""

import datetime as dt
import itertools

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from fulfillment.demo import submit_synthetic_orders
from fulfillment.models import OrderHold, StockLot
from fulfillment.services import allocation, pipeline
from orders.exceptions import ActorNotAllowed
from orders.models import Order, OrderStatus, OrderTransition
from orders.services import Actor, transition_many
from orders.tests.factories import RatePlanFactory
from preorder_shop.customer_session import SESSION_KEY
from preorder_shop.models import OutboxMessage
from reservations.demo import ensure_synthetic_reservations
from reservations.tests.factories import CampaignFactory, VariantFactory

pytestmark = pytest.mark.django_db

S = OrderStatus


@pytest.fixture
def campaign():
    campaign = CampaignFactory()
    RatePlanFactory(campaign=campaign)
    return campaign


def stock(variant, quantity, *, reference="L1", arrives_at=None):
    return StockLot.objects.create(
        variant=variant,
        quantity=quantity,
        arrives_at=arrives_at or timezone.now() - dt.timedelta(hours=1),
        reference=reference,
    )


def orders_by_position(variant):
    return list(
        Order.objects.filter(reservation__variant=variant).order_by("reservation__position")
    )


def setup_variant(campaign, *, reservations, orders, units):
    variant = VariantFactory(campaign=campaign)
    ensure_synthetic_reservations(campaign, reservations)
    # ensure_synthetic_reservations spreads customers over all variants; keep it simple:
    # this campaign has one variant until the test adds another.
    submit_synthetic_orders(campaign, orders)
    if units:
        stock(variant, units)
    allocation.allocate_variant(variant=variant)
    return variant


def test_ready_orders_move_in_queue_order_in_batches(campaign):
    variant = setup_variant(campaign, reservations=30, orders=30, units=25)

    assert pipeline.advance_batch(variant_id=variant.pk, worker="t", limit=10) == 10
    moved = [o for o in orders_by_position(variant) if o.status == S.PREPARING]
    assert moved == orders_by_position(variant)[:10]

    assert pipeline.advance_variant(variant_id=variant.pk, worker="t", batch=7) == 15
    statuses = [o.status for o in orders_by_position(variant)]
    assert statuses == [S.PREPARING] * 25 + [S.RECEIVED] * 5  # the last 5 have no unit
    times = [o.preparing_at for o in orders_by_position(variant)[:25]]
    assert times == sorted(times)  # never a later position before an earlier one


def test_each_moved_order_gets_one_history_row_and_one_notification(campaign):
    variant = setup_variant(campaign, reservations=12, orders=12, units=12)
    pipeline.advance_variant(variant_id=variant.pk, worker="celery@test")
    pipeline.advance_variant(variant_id=variant.pk, worker="celery@test")  # a repeat

    for order in orders_by_position(variant):
        rows = OrderTransition.objects.filter(order=order, to_status=S.PREPARING)
        assert [(r.from_status, r.actor_kind, r.actor_label) for r in rows] == [
            (S.RECEIVED, "worker", "celery@test")
        ]
        messages = OutboxMessage.objects.filter(
            reference=f"order:{order.pk}", template_key="order.preparing"
        )
        assert messages.count() == 1
        payload = messages.get().payload
        assert payload["order_number"] == order.number
        assert payload["variant"] == str(variant)
        assert payload["status_url"] == f"/my/orders/{order.number}/"


def test_held_orders_keep_their_place_and_do_not_move(campaign):
    variant = setup_variant(campaign, reservations=5, orders=5, units=5)
    held = orders_by_position(variant)[1]
    staff = get_user_model().objects.create_user("ops", is_staff=True)
    OrderHold.objects.create(order=held, reason="address check", placed_by=staff)

    pipeline.advance_variant(variant_id=variant.pk, worker="t")
    statuses = [o.status for o in orders_by_position(variant)]
    assert statuses == [S.PREPARING, S.RECEIVED, S.PREPARING, S.PREPARING, S.PREPARING]


def test_orders_without_a_unit_or_not_submitted_wait(campaign):
    variant = setup_variant(campaign, reservations=6, orders=4, units=3)
    pipeline.advance_variant(variant_id=variant.pk, worker="t")
    statuses = [o.status for o in orders_by_position(variant)]
    assert statuses == [S.PREPARING] * 3 + [S.RECEIVED]


def test_variants_are_independent(campaign):
    first = setup_variant(campaign, reservations=4, orders=4, units=4)
    other = VariantFactory(campaign=campaign)
    assert pipeline.variants_with_ready_orders() == [first.pk]
    assert pipeline.advance_variant(variant_id=other.pk, worker="t") == 0
    assert pipeline.advance_variant(variant_id=first.pk, worker="t") == 4


def test_transition_many_does_only_side_effect_free_moves_by_allowed_actors(campaign):
    variant = setup_variant(campaign, reservations=2, orders=2, units=2)
    ids = [o.pk for o in orders_by_position(variant)]
    with pytest.raises(ValueError, match="side effects"):
        transition_many(order_ids=ids, to=S.SHIPPED, actor=Actor.worker("t"))
    with pytest.raises(ActorNotAllowed):
        transition_many(order_ids=ids, to=S.PREPARING, actor=Actor.customer())
    assert transition_many(order_ids=ids, to=S.PREPARING, actor=Actor.worker("t")) == ids
    assert transition_many(order_ids=ids, to=S.PREPARING, actor=Actor.worker("t")) == []


def test_synthetic_order_numbers_do_not_follow_positions(campaign):
    variant = setup_variant(campaign, reservations=40, orders=40, units=0)
    numbers = [int(o.number) for o in orders_by_position(variant)]
    ascending = sum(a < b for a, b in itertools.pairwise(numbers))
    assert 5 < ascending < 34  # a random order, not sorted either way


def test_the_reservation_page_says_a_phone_is_reserved_only_when_it_is(client, campaign):
    variant = setup_variant(campaign, reservations=2, orders=0, units=1)
    first, second = variant.reservations.order_by("position")
    for reservation, expected in [(first, True), (second, False)]:
        session = client.session
        session[SESSION_KEY] = reservation.customer_id
        session.save()
        page = client.get(reverse("orders:reservation_detail", args=[reservation.number]))
        assert ("A phone is reserved for you." in page.content.decode()) is expected
