"""The forward-move doors: start preparing needs the order's own unit and no hold, and a
move past ready lower positions is staff's, with a reason, recorded; holds stop staff and
the pipeline but not a real courier's word, which is recorded and alerts; the staff cancel
gives the unit to the next in line at once. The database refuses a unit-less move too."""

import datetime as dt
import threading
import time

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from fulfillment.exceptions import NoUnitHeld, OrderOnHold, QueueExceptionNeedsStaff
from fulfillment.models import Allocation, CourierEventSource, HoldAlert, QueueException, StockLot
from fulfillment.services import (
    allocation,
    couriers,
    holds,
    moves,
    pipeline,
    simulator,
)
from fulfillment.services.courier_input import CourierInput
from fulfillment.tests.factories import StockLotFactory
from orders.exceptions import ReasonRequired
from orders.models import OrderStatus, OrderTransition
from orders.services import Actor, transition_many
from orders.tests.factories import give_unit, order_in, staff_user
from reservations.tests.factories import ReservationFactory, VariantFactory
from tests.concurrency import run_at_once

pytestmark = pytest.mark.django_db

S = OrderStatus
WORKER = Actor.worker("test-worker")


@pytest.fixture
def ops():
    return staff_user("ops")


def received_in_line(variant, count):
    """`count` received orders of `variant`, in queue order, each holding its unit."""
    orders = [
        order_in(S.RECEIVED, reservation=ReservationFactory(variant=variant)) for _ in range(count)
    ]
    StockLotFactory(variant=variant, quantity=count)
    allocation.allocate_variant(variant=variant)
    return orders


def constraint_of(error: IntegrityError) -> str:
    return error.__cause__.diag.constraint_name


# start preparing


def test_start_preparing_needs_the_orders_own_unit(ops):
    order = order_in(S.RECEIVED)
    with pytest.raises(NoUnitHeld):
        moves.start_preparing(order=order, actor=Actor.staff(ops), reason="urgent")
    order.refresh_from_db()
    assert order.status == S.RECEIVED

    give_unit(order.reservation)
    moved = moves.start_preparing(order=order, actor=WORKER)
    assert moved.status == S.PREPARING
    assert moves.start_preparing(order=order, actor=WORKER).status == S.PREPARING  # retried
    assert OrderTransition.objects.filter(order=order, to_status=S.PREPARING).count() == 1


def test_a_released_unit_does_not_count(ops):
    order = order_in(S.RECEIVED)
    unit = give_unit(order.reservation)
    Allocation.objects.filter(pk=unit.pk).update(
        released_at=timezone.now(), release_reason="reservation_ended"
    )
    with pytest.raises(NoUnitHeld):
        moves.start_preparing(order=order, actor=Actor.staff(ops), reason="urgent")


def test_start_preparing_refuses_a_held_order_for_anyone(ops):
    order = order_in(S.RECEIVED)
    give_unit(order.reservation)
    holds.place_hold(order=order, staff_user=ops, reason="address check")
    for actor in (WORKER, Actor.staff(ops)):
        with pytest.raises(OrderOnHold):
            moves.start_preparing(order=order, actor=actor, reason="go")
    assert pipeline.advance_batch(variant_id=order.reservation.variant_id, worker="t") == 0
    order.refresh_from_db()
    assert order.status == S.RECEIVED


def test_passing_a_ready_lower_position_is_staffs_with_a_reason_and_recorded(ops):
    variant = VariantFactory()
    first, second, third = received_in_line(variant, 3)

    with pytest.raises(QueueExceptionNeedsStaff):
        moves.start_preparing(order=third, actor=WORKER)
    with pytest.raises(ReasonRequired) as refused:
        moves.start_preparing(order=third, actor=Actor.staff(ops))
    assert f"#{first.reservation.position}" in refused.value.message
    assert not QueueException.objects.exists()

    now = timezone.now()
    moves.start_preparing(order=third, actor=Actor.staff(ops), reason="VIP replacement", now=now)

    exception = QueueException.objects.get()
    assert exception.order == third
    assert (exception.passed_position, exception.passed_count) == (first.reservation.position, 2)
    assert (exception.reason, exception.staff_user, exception.at) == ("VIP replacement", ops, now)
    row = OrderTransition.objects.get(order=third, to_status=S.PREPARING)
    assert (row.actor_user, row.reason) == (ops, "VIP replacement")

    # In queue order nobody is passed: no exception, no reason needed.
    moves.start_preparing(order=first, actor=WORKER)
    moves.start_preparing(order=second, actor=WORKER)
    assert QueueException.objects.count() == 1


def test_lower_positions_that_are_not_ready_are_not_passed(ops):
    variant = VariantFactory()
    no_unit, held, ready = (
        order_in(S.RECEIVED, reservation=ReservationFactory(variant=variant)) for _ in range(3)
    )
    give_unit(held.reservation)
    give_unit(ready.reservation)
    holds.place_hold(order=held, staff_user=ops, reason="address check")

    moves.start_preparing(order=ready, actor=WORKER)

    assert not QueueException.objects.exists()
    no_unit.refresh_from_db()
    assert no_unit.status == S.RECEIVED


# The database


def test_the_database_refuses_preparing_without_a_unit_for_any_writer():
    order = order_in(S.RECEIVED)
    with pytest.raises(IntegrityError) as refused, transaction.atomic(), connection.cursor() as c:
        c.execute(
            "UPDATE orders_order SET status = 'preparing', preparing_at = now() WHERE id = %s",
            [order.pk],
        )
    assert constraint_of(refused.value) == "order_preparing_needs_unit"

    # A unit of another variant does not count either.
    other = StockLot.objects.create(
        variant=VariantFactory(campaign=order.reservation.campaign),
        quantity=1,
        arrives_at=timezone.now(),
        reference="OTHER",
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Allocation.objects.create(
            variant=other.variant,
            reservation=order.reservation,
            lot=other,
            allocated_at=timezone.now(),
        )


def test_the_pipeline_batch_path_is_checked_by_the_database_too():
    order = order_in(S.RECEIVED)
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        transition_many(order_ids=[order.pk], to=S.PREPARING, actor=WORKER)
    assert constraint_of(refused.value) == "order_preparing_needs_unit"


# Holds and couriers


def courier_input(order, kind, *, event_id, at=None):
    return CourierInput(
        external_id=event_id,
        order_number=order.number,
        courier="CJ대한통운",
        tracking_number=order.tracking_number or "556677889900",
        kind=kind,
        occurred_at=at or timezone.now(),
    )


@pytest.mark.parametrize("source", [CourierEventSource.FILE, CourierEventSource.WEBHOOK])
def test_a_couriers_hand_over_of_a_held_order_is_recorded_and_alerts(ops, source):
    order = order_in(S.PREPARING)
    hold = holds.place_hold(order=order, staff_user=ops, reason="address check")

    result = couriers.record_courier_event(
        data=courier_input(order, "handed_over", event_id="E1"), source=source
    )

    assert result.outcome == couriers.Outcome.RECORDED
    order.refresh_from_db()
    assert order.status == S.SHIPPED  # the parcel moved: the status says so
    alert = HoldAlert.objects.get()
    assert (alert.hold, alert.courier_event, alert.resolved_at) == (hold, result.event, None)
    assert result.alert == alert

    delivered = couriers.record_courier_event(
        data=courier_input(order, "delivered", event_id="E2"), source=source
    )
    order.refresh_from_db()
    assert order.status == S.DELIVERED
    assert HoldAlert.objects.count() == 2 and delivered.alert is not None

    holds.resolve_alert(alert=alert, staff_user=ops)
    alert.refresh_from_db()
    assert alert.resolved_by == ops and alert.resolved_at is not None


def test_no_alert_without_a_hold():
    order = order_in(S.PREPARING)
    couriers.record_courier_event(
        data=courier_input(order, "handed_over", event_id="E1"), source=CourierEventSource.FILE
    )
    assert not HoldAlert.objects.exists()


def test_the_development_courier_leaves_a_held_order_alone(ops):
    order = order_in(S.PREPARING)
    holds.place_hold(order=order, staff_user=ops, reason="address check")
    later = timezone.now() + dt.timedelta(hours=1)

    # Its query skips held orders, and its event is refused under the lock as well.
    assert simulator.run(now=later, packing_time=dt.timedelta(0)).handed_over == 0
    with pytest.raises(couriers.HeldBySimulator):
        couriers.record_courier_event(
            data=courier_input(order, "handed_over", event_id="sim:1"),
            source=CourierEventSource.SIMULATOR,
            now=later,
        )
    order.refresh_from_db()
    assert order.status == S.PREPARING
    assert not HoldAlert.objects.exists()


def test_staff_and_workers_do_not_hand_over_a_held_order(ops):
    order = order_in(S.PREPARING)
    holds.place_hold(order=order, staff_user=ops, reason="address check")
    for actor in (WORKER, Actor.staff(ops)):
        with pytest.raises(OrderOnHold):
            moves.hand_over(
                order=order, actor=actor, reason="packed", courier="CJ", tracking_number="1"
            )
    order.refresh_from_db()
    assert order.status == S.PREPARING


# The staff cancel


def test_staff_cancel_gives_the_unit_to_the_next_in_line_at_once(ops):
    variant = VariantFactory()
    first, _second = received_in_line(variant, 2)
    waiting = order_in(S.RECEIVED, reservation=ReservationFactory(variant=variant))
    newcomer = ReservationFactory(variant=variant)  # active, later still: not next in line
    moves.start_preparing(order=first, actor=WORKER)
    hold = holds.place_hold(order=first, staff_user=ops, reason="suspected fraud")

    cancelled = moves.cancel_by_staff(order=first, staff_user=ops, reason="fraud confirmed")

    assert cancelled.status == S.CANCELLED
    hold.refresh_from_db()
    assert hold.released_by == ops  # the hold ends with the order
    released = Allocation.objects.get(reservation=first.reservation)
    assert released.released_at is not None
    given = Allocation.objects.get(reservation=waiting.reservation, released_at__isnull=True)
    assert given.lot_id == released.lot_id
    assert not Allocation.objects.filter(reservation=newcomer).exists()
    assert moves.cancel_by_staff(order=first, staff_user=ops, reason="again").status == (
        S.CANCELLED
    )


def test_staff_cancel_needs_a_reason(ops):
    order = order_in(S.PREPARING)
    with pytest.raises(ReasonRequired):
        moves.cancel_by_staff(order=order, staff_user=ops, reason="  ")
    order.refresh_from_db()
    assert order.status == S.PREPARING


@pytest.mark.django_db(transaction=True)
def test_a_hold_waits_for_a_batch_in_flight_of_its_variant():
    """Real connections: while a pipeline batch of the variant holds the lane (between its
    ready query and its update), placing a hold waits; the next batch sees the hold."""
    ops = staff_user("ops")
    order = order_in(S.RECEIVED)
    give_unit(order.reservation)
    variant_id = order.reservation.variant_id
    in_flight = threading.Event()
    finished = {}

    def batch():
        with transaction.atomic():
            moves.lock_variant_lane(variant_id)
            in_flight.set()
            time.sleep(0.5)  # the batch's ready query and update run here
            finished["batch"] = time.monotonic()

    def hold():
        in_flight.wait(timeout=10)
        holds.place_hold(order=order, staff_user=ops, reason="address check")
        finished["hold"] = time.monotonic()

    results = run_at_once([batch, hold])

    assert results == [None, None]
    assert finished["hold"] > finished["batch"]
    assert pipeline.advance_batch(variant_id=variant_id, worker="t") == 0
    order.refresh_from_db()
    assert order.status == S.RECEIVED
