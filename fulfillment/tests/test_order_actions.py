"""The order admin's forward-move actions: each goes through its fulfilment door with the
staff user's reason, and is refused with the door's own words when its rules say no."""

import pytest
from django.urls import reverse

from fulfillment.models import Allocation, QueueException
from fulfillment.services import holds
from orders.models import OrderStatus, OrderTransition
from orders.tests.factories import give_unit, order_in, order_of
from preorder_shop.models import OutboxMessage
from reservations.models import ReservationStatus
from tests.admin_client import ORDER_CHANGELIST, make_staff, run_action
from tests.pages import text

pytestmark = pytest.mark.django_db

S = OrderStatus
BASE_PERMISSIONS = ["view_order", "change_order", "view_ordertransition"]
ACTIONS = ["to_preparing", "to_shipped", "to_delivered", "to_cancelled"]


@pytest.fixture
def ops(client):
    """Order operations staff: may move orders, sees masked personal data."""
    return make_staff(client, "ops", [*BASE_PERMISSIONS, "transition_order"])


def messages_after(client, response) -> str:
    return (
        text(client.get(response["Location"])) if response.status_code == 302 else text(response)
    )


def test_move_action_asks_for_a_reason_first(ops):
    order = order_of("+821011112222", "김민수")
    response = run_action(ops, "to_preparing", [order])
    assert response.status_code == 200
    page = text(response)
    assert "Give a reason" in page
    assert "recorded as a queue exception" in page
    assert 'name="reason"' in page and 'name="apply"' in page
    assert f'name="_selected_action" value="{order.pk}"' in page
    order.refresh_from_db()
    assert order.status == S.RECEIVED


def test_move_action_refuses_without_a_reason(ops):
    order = order_of("+821011112222", "김민수")
    give_unit(order.reservation)
    response = run_action(ops, "to_preparing", [order], apply="Apply", reason="   ")
    assert response.status_code == 200
    assert "This field is required." in text(response)
    order.refresh_from_db()
    assert order.status == S.RECEIVED
    assert OrderTransition.objects.filter(order=order).count() == 1


def test_start_preparing_with_a_reason_moves_orders_that_hold_their_unit(ops):
    first = order_of("+821011110001", "김민수")
    second = order_of("+821011110002", "이서연")
    for order in (first, second):
        give_unit(order.reservation)

    response = run_action(
        ops, "to_preparing", [first, second], apply="Apply", reason="stock arrived"
    )

    assert response.status_code == 302
    assert "2 orders moved." in messages_after(ops, response)
    for order in (first, second):
        order.refresh_from_db()
        assert order.status == S.PREPARING
        row = OrderTransition.objects.get(order=order, to_status=S.PREPARING)
        assert (row.from_status, row.actor_kind) == (S.RECEIVED, "staff")
        assert (row.actor_user, row.reason) == (ops.user, "stock arrived")
        assert OutboxMessage.objects.filter(
            reference=f"order:{order.pk}", template_key="order.preparing"
        ).exists()
    assert not QueueException.objects.exists()  # different variants: nobody was passed


def test_start_preparing_refuses_an_order_without_its_unit(ops):
    order = order_of("+821011112222", "김민수")

    response = run_action(ops, "to_preparing", [order], apply="Apply", reason="urgent")

    page = messages_after(ops, response)
    assert f"{order.number}: This order holds no unit of its model yet" in page
    order.refresh_from_db()
    assert order.status == S.RECEIVED
    assert not OrderTransition.objects.filter(order=order, to_status=S.PREPARING).exists()


def test_start_preparing_refuses_a_held_order(ops):
    order = order_of("+821011112222", "김민수")
    give_unit(order.reservation)
    holds.place_hold(order=order, staff_user=ops.user, reason="address check")

    response = run_action(ops, "to_preparing", [order], apply="Apply", reason="go")

    assert f"{order.number}: This order is on hold" in messages_after(ops, response)
    order.refresh_from_db()
    assert order.status == S.RECEIVED


def test_hand_over_refuses_a_held_order(ops):
    order = order_in(S.PREPARING)
    holds.place_hold(order=order, staff_user=ops.user, reason="address check")

    response = run_action(
        ops,
        "to_shipped",
        [order],
        apply="Apply",
        reason="packed",
        courier="CJ대한통운",
        tracking_number="556677889900",
    )

    page = messages_after(ops, response)
    assert "on hold (address check): release the hold before handing it over" in page
    order.refresh_from_db()
    assert order.status == S.PREPARING and order.tracking_number == ""


def test_staff_cancel_cancels_order_and_reservation_and_frees_the_unit(ops):
    order = order_of("+821011112222", "김민수", S.PREPARING)
    run_action(ops, "to_cancelled", [order], apply="Apply", reason="customer called support")
    order.refresh_from_db()
    order.reservation.refresh_from_db()
    assert order.status == S.CANCELLED
    assert order.reservation.status == ReservationStatus.CANCELLED
    assert order.reservation.cancelled_by_user == ops.user
    row = OrderTransition.objects.get(order=order, to_status=S.CANCELLED)
    assert (row.actor_user, row.reason) == (ops.user, "customer called support")
    assert not Allocation.objects.filter(
        reservation=order.reservation, released_at__isnull=True
    ).exists()


def test_illegal_moves_are_reported_per_order_and_change_nothing(ops):
    shipped = order_of("+821011110001", "김민수", S.SHIPPED)
    received = order_of("+821011110002", "이서연", S.RECEIVED)

    response = run_action(
        ops, "to_cancelled", [shipped, received], apply="Apply", reason="mistake"
    )

    page = messages_after(ops, response)
    assert "1 order moved." in page
    assert f"{shipped.number}: An order that is “Shipped” cannot become “Cancelled”." in page
    shipped.refresh_from_db()
    received.refresh_from_db()
    assert shipped.status == S.SHIPPED
    assert received.status == S.CANCELLED


def test_hand_to_courier_asks_for_courier_and_tracking_and_requires_them(ops):
    order = order_of("+821011112222", "김민수", S.PREPARING)

    form = text(run_action(ops, "to_shipped", [order]))
    assert 'name="courier"' in form and 'name="tracking_number"' in form

    refused = run_action(ops, "to_shipped", [order], apply="Apply", reason="packed")
    assert "courier and tracking number" in messages_after(ops, refused)
    order.refresh_from_db()
    assert order.status == S.PREPARING and order.shipped_at is None

    run_action(
        ops,
        "to_shipped",
        [order],
        apply="Apply",
        reason="packed",
        courier="CJ대한통운",
        tracking_number="556677889900",
    )
    order.refresh_from_db()
    assert order.status == S.SHIPPED
    assert (order.courier, order.tracking_number) == ("CJ대한통운", "556677889900")
    row = OrderTransition.objects.get(order=order, to_status=S.SHIPPED)
    assert (row.actor_kind, row.actor_user, row.reason) == ("staff", ops.user, "packed")


def test_record_delivery_needs_the_reason_and_moves_a_shipped_order(ops):
    order = order_in(S.SHIPPED)
    run_action(ops, "to_delivered", [order], apply="Apply", reason="customer confirmed by phone")
    order.refresh_from_db()
    assert order.status == S.DELIVERED
    row = OrderTransition.objects.get(order=order, to_status=S.DELIVERED)
    assert (row.actor_user, row.reason) == (ops.user, "customer confirmed by phone")


def test_without_the_transition_permission_there_are_no_actions(client):
    agent = make_staff(client, "agent", BASE_PERMISSIONS)
    order = order_of("+821011112222", "김민수")
    give_unit(order.reservation)

    page = agent.get(reverse(ORDER_CHANGELIST)).content.decode()
    for action in ACTIONS:
        assert f'value="{action}"' not in page

    response = run_action(agent, "to_preparing", [order], apply="Apply", reason="sneaky")
    assert response.status_code == 200  # the action is unknown to this user: just the list
    order.refresh_from_db()
    assert order.status == S.RECEIVED


def test_with_the_transition_permission_the_actions_are_offered(ops):
    order = order_of("+821011112222", "김민수")
    page = ops.get(reverse(ORDER_CHANGELIST)).content.decode()
    for action in ACTIONS:
        assert f'value="{action}"' in page
    change = text(ops.get(reverse("admin:orders_order_change", args=[order.pk])))
    assert "Put this order on hold" in change
