"""Order forms under real concurrency: each thread has its own PostgreSQL connection.

Ten "Write order form" presses at once must give one draft; ten submits of that draft must
give one order, one order number, one history row and one notification.
"""

import pytest

from orders import services
from orders.models import Order, OrderStatus, OrderTransition
from orders.tests.factories import complete_answers, order_in
from preorder_shop.models import OutboxMessage
from reservations.models import Reservation, ReservationStatus
from reservations.tests.factories import ReservationFactory
from tests.concurrency import run_at_once

pytestmark = pytest.mark.django_db(transaction=True)

S = OrderStatus
PARALLEL = 10


def fresh_reservation(pk: int) -> Reservation:
    """What one request would load: its own instance, campaign and customer included."""
    return Reservation.objects.select_related("campaign", "customer").get(pk=pk)


def test_ten_parallel_write_order_form_presses_make_one_draft():
    reservation = ReservationFactory()
    copies = [fresh_reservation(reservation.pk) for _ in range(PARALLEL)]

    results = run_at_once(
        [lambda r=r: services.open_draft(reservation=r, customer=r.customer) for r in copies]
    )

    errors = [r for r in results if isinstance(r, Exception)]
    assert errors == []
    assert len({order.pk for order in results}) == 1
    orders = Order.objects.filter(reservation=reservation)
    assert orders.count() == 1
    draft = orders.get()
    assert draft.status == S.DRAFT
    assert draft.pk == results[0].pk
    assert not OrderTransition.objects.filter(order=draft).exists()


def test_ten_parallel_presses_after_a_discard_make_one_new_draft():
    discarded = order_in(S.DISCARDED)
    copies = [fresh_reservation(discarded.reservation_id) for _ in range(PARALLEL)]

    results = run_at_once(
        [lambda r=r: services.open_draft(reservation=r, customer=r.customer) for r in copies]
    )

    assert [r for r in results if isinstance(r, Exception)] == []
    assert len({order.pk for order in results}) == 1
    assert results[0].pk != discarded.pk
    live = Order.objects.live().filter(reservation_id=discarded.reservation_id)
    assert list(live.values_list("pk", "status")) == [(results[0].pk, S.DRAFT)]


def test_ten_parallel_submits_make_one_order_one_number_one_history_row_one_notification():
    draft = order_in(S.DRAFT)
    answers = complete_answers(draft)
    customer = draft.reservation.customer
    copies = [Order.objects.get(pk=draft.pk) for _ in range(PARALLEL)]

    results = run_at_once(
        [
            lambda o=o: services.submit_order(order=o, customer=customer, values=dict(answers))
            for o in copies
        ]
    )

    errors = [r for r in results if isinstance(r, Exception)]
    assert errors == []
    assert {(order.pk, order.status) for order in results} == {(draft.pk, S.RECEIVED)}
    assert len({order.number for order in results}) == 1
    order = Order.objects.get(reservation=draft.reservation)
    assert order.status == S.RECEIVED
    assert order.number == results[0].number
    assert list(
        OrderTransition.objects.filter(order=order).values_list("from_status", "to_status")
    ) == [(S.DRAFT, S.RECEIVED)]
    notes = OutboxMessage.objects.filter(reference=f"order:{order.pk}")
    assert list(notes.values_list("template_key", flat=True)) == ["order.received"]
    assert notes.get().payload["order_number"] == order.number
    reservation = Reservation.objects.get(pk=draft.reservation_id)
    assert reservation.status == ReservationStatus.ORDERED
