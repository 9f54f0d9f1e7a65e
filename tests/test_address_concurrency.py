"""A delivery address change racing the move to preparing (orders.services.address against
fulfillment.services.moves.start_preparing): real threads, each with its own PostgreSQL
connection. Exactly one order of events wins, and an address is never changed, nor a change
recorded, on an order that is already being prepared.

The first two tests force each order with a lock as the gate (no sleeping): one side holds
its transaction open at an advisory lock while the other is started and waits for the
order's row. The third forces a move to wait while a change goes through, and checks the
stamps: each door reads its clock once it holds its locks, so a move that waited is never
dated before the change it waited for. The last runs both at once for many orders, in
whichever order they land: each ends in one of the two outcomes, stamped in that order."""

from collections.abc import Callable

import pytest
from django.db import transaction

from fulfillment.services import moves
from orders import services
from orders.exceptions import AddressBeingPrepared
from orders.models import ADDRESS_FIELDS, Order, OrderAddressChange, OrderStatus
from orders.tests.factories import give_unit, order_in
from preorder_shop.actors import Actor
from preorder_shop.models import OutboxMessage
from tests.concurrency import InThread, execute, run_at_once, until

pytestmark = pytest.mark.django_db(transaction=True)

S = OrderStatus
GATE = 7_114_014  # an advisory lock key of this test only
NEW_ADDRESS = {
    "recipient_name": "김영희",
    "recipient_phone": "+821098765432",
    "postcode": "06236",
    "address_line1": "서울특별시 강남구 테헤란로 152",
    "address_line2": "12층",
    "delivery_note": "",
}


def a_received_order_with_a_unit() -> Order:
    order = order_in(S.RECEIVED)
    give_unit(order.reservation)
    return order


def change(order_pk: int) -> Callable[[], object]:
    def call():
        order = Order.objects.select_related("reservation").get(pk=order_pk)
        return services.change_delivery_address(order=order, actor=Actor.customer(), **NEW_ADDRESS)

    return call


def prepare(order_pk: int) -> Callable[[], object]:
    def call():
        order = Order.objects.select_related("reservation").get(pk=order_pk)
        return moves.start_preparing(order=order, actor=Actor.worker("pipeline"))

    return call


def at_the_gate(call: Callable[[], object]) -> Callable[[], object]:
    """`call`, then wait at the gate before its transaction commits."""

    def held():
        with transaction.atomic():
            result = call()
            execute("SELECT pg_advisory_xact_lock(%s)", [GATE])
        return result

    return held


def race(first: Callable[[], object], second: Callable[[], object]) -> tuple[object, object]:
    """`first` does its work and is held open; `second` starts and waits for the order's
    row; then the gate opens."""
    execute("SELECT pg_advisory_lock(%s)", [GATE])
    try:
        held = InThread(at_the_gate(first))
        until(held.waiting_or_done, "the first reaches the gate")
        waiting = InThread(second)
        until(waiting.waiting_or_done, "the second waits for the order's row")
    finally:
        execute("SELECT pg_advisory_unlock(%s)", [GATE])
    return held.join(), waiting.join()


def address_of(order: Order) -> dict:
    return {name: getattr(order, name) for name in ADDRESS_FIELDS}


def assert_history_matches(order: Order) -> list[OrderAddressChange]:
    """The order's address is its last recorded change's (or the submitted one, with none),
    and each change sent one notice."""
    order.refresh_from_db()
    rows = list(OrderAddressChange.objects.filter(order=order))
    if rows:
        assert address_of(order) == rows[-1].after
    notices = OutboxMessage.objects.filter(
        reference=f"order:{order.pk}", template_key="order.address_changed"
    )
    assert notices.count() == len(rows)
    return rows


def test_a_change_in_progress_is_waited_for_by_the_move_to_preparing():
    order = a_received_order_with_a_unit()

    changed, prepared = race(change(order.pk), prepare(order.pk))

    assert isinstance(changed, OrderAddressChange)
    assert isinstance(prepared, Order) and prepared.status == S.PREPARING
    order.refresh_from_db()
    assert address_of(order) == NEW_ADDRESS  # the parcel goes to the new address
    [row] = assert_history_matches(order)
    assert row.at <= order.preparing_at  # changed before preparation started


def test_a_move_to_preparing_in_progress_refuses_the_change_that_waited_for_it():
    order = a_received_order_with_a_unit()
    submitted = address_of(order)

    prepared, changed = race(prepare(order.pk), change(order.pk))

    assert isinstance(prepared, Order) and prepared.status == S.PREPARING
    assert isinstance(changed, AddressBeingPrepared), changed  # a clean refusal, not a 500
    order.refresh_from_db()
    assert address_of(order) == submitted
    assert assert_history_matches(order) == []


def test_a_move_that_waited_is_stamped_after_the_change_it_waited_for():
    """The move to preparing first waits for its variant's lane (the pipeline's lock): the
    test holds the lane, lets a change of address through meanwhile, then opens the lane."""
    order = a_received_order_with_a_unit()
    lane = [moves.PIPELINE_LOCK, order.reservation.variant_id]
    execute("SELECT pg_advisory_lock(%s, %s)", lane)
    try:
        waiting = InThread(prepare(order.pk))
        until(waiting.waiting_or_done, "the move waits for its lane")
        changed = change(order.pk)()
    finally:
        execute("SELECT pg_advisory_unlock(%s, %s)", lane)
    prepared = waiting.join()

    assert isinstance(changed, OrderAddressChange)
    assert isinstance(prepared, Order) and prepared.status == S.PREPARING, prepared
    order.refresh_from_db()
    assert changed.at <= order.preparing_at  # the history reads in the order it happened
    assert order.transitions.get(to_status=S.PREPARING).at == order.preparing_at


def test_changes_and_moves_at_once_each_end_in_one_of_the_two_outcomes():
    orders = [a_received_order_with_a_unit() for _ in range(12)]
    calls = [call for order in orders for call in (change(order.pk), prepare(order.pk))]

    results = run_at_once(calls)

    pairs = zip(results[::2], results[1::2], strict=True)
    for order, (changed, prepared) in zip(orders, pairs, strict=True):
        assert isinstance(prepared, Order) and prepared.status == S.PREPARING, prepared
        assert isinstance(changed, (OrderAddressChange, AddressBeingPrepared)), changed
        rows = assert_history_matches(order)
        assert len(rows) == (1 if isinstance(changed, OrderAddressChange) else 0)
        order.refresh_from_db()
        assert all(row.at <= order.preparing_at for row in rows)
