"""Staff holds: place with a reason on a received or preparing order, one active hold per
order (service and database), release records who and when, a held order keeps its place in
line; and the admin doors to the same services (masked list, "Release", place-hold form)."""

import datetime as dt
import threading

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from fulfillment.models import Allocation, OrderHold, StockLot
from fulfillment.services import holds, pipeline
from orders import services
from orders.models import OrderStatus
from orders.tests.factories import order_in, staff_user
from preorder_shop.identifiers import ORDER_NUMBER
from preorder_shop.tests.factories import CustomerFactory
from reservations.tests.factories import ReservationFactory, VariantFactory
from tests.admin_client import sign_in_to_admin
from tests.pages import text

pytestmark = pytest.mark.django_db

S = OrderStatus


@pytest.fixture
def ops():
    return staff_user("ops")


# The service.


@pytest.mark.parametrize("status", [S.RECEIVED, S.PREPARING])
def test_place_hold_on_a_received_or_preparing_order(ops, status):
    order = order_in(status)
    now = timezone.now()

    hold = holds.place_hold(order=order, staff_user=ops, reason="  Address looks wrong  ", now=now)

    hold.refresh_from_db()
    assert (hold.order, hold.reason, hold.placed_by, hold.placed_at) == (
        order,
        "Address looks wrong",
        ops,
        now,
    )
    assert hold.released_at is None and hold.released_by is None
    assert holds.active_hold(order) == hold


@pytest.mark.parametrize("reason", ["", "   ", "\n\t"])
def test_a_hold_needs_a_reason(ops, reason):
    order = order_in(S.RECEIVED)

    with pytest.raises(holds.HoldReasonRequired):
        holds.place_hold(order=order, staff_user=ops, reason=reason)

    assert not OrderHold.objects.exists()


@pytest.mark.parametrize(
    "status", [S.DRAFT, S.SHIPPED, S.DELIVERED, S.CANCELLED, S.DISCARDED, S.EXPIRED]
)
def test_only_received_or_preparing_orders_can_be_held(ops, status):
    order = order_in(status)

    with pytest.raises(holds.OrderNotHoldable) as refused:
        holds.place_hold(order=order, staff_user=ops, reason="Check")

    assert order.get_status_display() in refused.value.message
    assert not OrderHold.objects.exists()


def test_the_status_is_checked_under_the_lock_not_from_the_callers_copy(ops):
    order = order_in(S.RECEIVED)
    stale = type(order).objects.get(pk=order.pk)
    services.transition(order=order, to=S.CANCELLED, actor=services.Actor.customer())

    with pytest.raises(holds.OrderNotHoldable):
        holds.place_hold(order=stale, staff_user=ops, reason="Check")


def test_a_second_active_hold_is_refused(ops):
    order = order_in(S.RECEIVED)
    holds.place_hold(order=order, staff_user=ops, reason="First")

    with pytest.raises(holds.AlreadyOnHold):
        holds.place_hold(order=order, staff_user=ops, reason="Second")

    assert OrderHold.objects.filter(order=order).count() == 1


def test_the_database_refuses_a_second_active_hold_and_the_service_says_so(ops, monkeypatch):
    order = order_in(S.RECEIVED)
    OrderHold.objects.create(order=order, reason="Written elsewhere", placed_by=ops)
    with pytest.raises(IntegrityError, match="hold_one_active_per_order"), transaction.atomic():
        OrderHold.objects.create(order=order, reason="Twice", placed_by=ops)
    # A writer that skipped the check: the partial unique index has the last word, and the
    # service turns it into the domain error.
    monkeypatch.setattr(holds, "active_hold", lambda order: None)

    with pytest.raises(holds.AlreadyOnHold):
        holds.place_hold(order=order, staff_user=ops, reason="Second")

    assert OrderHold.objects.filter(order=order).count() == 1


def test_release_records_who_and_when_and_allows_a_new_hold(ops):
    order = order_in(S.RECEIVED)
    placed = timezone.now() - dt.timedelta(hours=1)
    holds.place_hold(order=order, staff_user=ops, reason="Check ID", now=placed)
    releaser = staff_user("lead")
    released_at = placed + dt.timedelta(minutes=30)

    hold = holds.release_hold(order=order, staff_user=releaser, now=released_at)

    hold.refresh_from_db()
    assert (hold.released_by, hold.released_at, hold.placed_by) == (releaser, released_at, ops)
    assert holds.active_hold(order) is None
    again = holds.place_hold(order=order, staff_user=ops, reason="Check again")
    assert OrderHold.objects.filter(order=order).count() == 2
    assert holds.active_hold(order) == again


def test_release_without_a_hold_is_refused(ops):
    order = order_in(S.RECEIVED)

    with pytest.raises(holds.NotOnHold):
        holds.release_hold(order=order, staff_user=ops)

    holds.place_hold(order=order, staff_user=ops, reason="Check")
    holds.release_hold(order=order, staff_user=ops)
    with pytest.raises(holds.NotOnHold):
        holds.release_hold(order=order, staff_user=ops)


def test_release_never_precedes_placement(ops):
    order = order_in(S.RECEIVED)
    future = timezone.now() + dt.timedelta(minutes=5)
    holds.place_hold(order=order, staff_user=ops, reason="Check", now=future)

    hold = holds.release_hold(order=order, staff_user=ops, now=timezone.now())

    assert hold.released_at == future  # the check constraint would refuse an earlier one


def test_a_cancelled_order_can_still_have_its_hold_released(ops):
    order = order_in(S.RECEIVED)
    holds.place_hold(order=order, staff_user=ops, reason="Check")
    services.transition(
        order=order, to=S.CANCELLED, actor=services.Actor.staff(ops), reason="Fraud"
    )

    assert holds.release_hold(order=order, staff_user=ops).released_at is not None


def test_a_held_order_keeps_its_place_and_moves_first_once_released(ops):
    variant = VariantFactory()
    lot = StockLot.objects.create(
        variant=variant,
        quantity=3,
        arrives_at=timezone.now() - dt.timedelta(hours=1),
        reference="HOLD-1",
    )
    first, second, third = (
        order_in(S.RECEIVED, reservation=ReservationFactory(variant=variant)) for _ in range(3)
    )
    for order in (first, second, third):
        Allocation.objects.create(
            variant=variant,
            reservation=order.reservation,
            lot=lot,
            allocated_at=timezone.now() - dt.timedelta(minutes=30),
        )
    position = first.reservation.position
    holds.place_hold(order=first, staff_user=ops, reason="Address check")

    moved = pipeline.advance_batch(variant_id=variant.pk, worker="test", limit=1)

    assert moved == 1
    statuses = [type(o).objects.get(pk=o.pk).status for o in (first, second, third)]
    assert statuses == [S.RECEIVED, S.PREPARING, S.RECEIVED]
    first.reservation.refresh_from_db()
    assert first.reservation.position == position
    assert Allocation.objects.filter(reservation=first.reservation, released_at=None).exists()

    holds.release_hold(order=first, staff_user=ops)
    pipeline.advance_batch(variant_id=variant.pk, worker="test", limit=1)

    statuses = [type(o).objects.get(pk=o.pk).status for o in (first, second, third)]
    assert statuses == [S.PREPARING, S.PREPARING, S.RECEIVED]  # first before third


@pytest.mark.django_db(transaction=True)
def test_concurrent_holds_on_one_order_one_wins():
    order = order_in(S.RECEIVED)
    users = [staff_user(f"ops{i}") for i in range(4)]
    barrier = threading.Barrier(len(users))
    outcomes: list[str] = []

    def place(user):
        try:
            barrier.wait()
            holds.place_hold(order=order, staff_user=user, reason=f"by {user.username}")
            outcomes.append("placed")
        except holds.AlreadyOnHold:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=place, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(outcomes) == ["placed", "refused", "refused", "refused"]
    assert OrderHold.objects.filter(order=order, released_at__isnull=True).count() == 1


# Admin.


def make_staff(client, username: str, codenames: list[str]):
    user = get_user_model().objects.create_user(username, password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    user = get_user_model().objects.get(pk=user.pk)
    sign_in_to_admin(client, user)
    client.user = user
    return client


@pytest.fixture
def hold_desk(client):
    return make_staff(
        client, "desk", ["view_orderhold", "add_orderhold", "change_orderhold", "view_order"]
    )


PLACE = "admin:fulfillment_orderhold_place"
CHANGELIST = "admin:fulfillment_orderhold_changelist"


def test_hold_list_shows_order_number_and_status_but_no_personal_data(hold_desk, ops):
    customer = CustomerFactory(phone="+821055512345", name="김철수")
    order = order_in(S.RECEIVED, reservation=ReservationFactory(customer=customer))
    holds.place_hold(order=order, staff_user=ops, reason="Payment check")

    response = hold_desk.get(reverse(CHANGELIST))

    assert response.status_code == 200
    page = text(response)
    assert order.number in page
    assert "Received" in page
    assert "Payment check" in page
    assert "김철수" not in page and "55512345" not in page and "세종대로" not in page
    assert str(customer) not in page  # not even masked: holds need no customer data


def test_place_hold_through_the_admin_form(hold_desk):
    order = order_in(S.RECEIVED)
    url = reverse(PLACE)

    assert hold_desk.get(url, {"order": order.number}).status_code == 200
    response = hold_desk.post(url, {"order_number": order.number, "reason": "Verify ID"})

    assert response.status_code == 302
    hold = OrderHold.objects.get(order=order)
    assert (hold.reason, hold.placed_by, hold.released_at) == (
        "Verify ID",
        hold_desk.user,
        None,
    )
    assert "is on hold" in text(hold_desk.get(response["Location"]))


def test_add_hold_button_leads_to_the_place_form(hold_desk):
    response = hold_desk.get(reverse("admin:fulfillment_orderhold_add"))

    assert response.status_code == 302
    assert response["Location"] == reverse(PLACE)
    assert reverse(PLACE) in text(hold_desk.get(reverse(CHANGELIST)))


@pytest.mark.parametrize(
    ("number", "reason", "message"),
    [
        ("12345678", "Check", "This looks like a reservation number"),
        ("1234567890x", "Check", "digits only"),
        ("12345678901", "Check", "not a valid 11-digit order number"),
        (None, "", "This field is required"),
    ],
)
def test_place_hold_form_errors(hold_desk, number, reason, message):
    order = order_in(S.RECEIVED)
    if number == "12345678901":
        number = order.number[:-1] + str((int(order.number[-1]) + 1) % 10)  # wrong check digit
    data = {"order_number": number or order.number, "reason": reason}

    response = hold_desk.post(reverse(PLACE), data)

    assert response.status_code == 200
    assert message in text(response)
    assert not OrderHold.objects.exists()


def test_place_hold_form_unknown_order(hold_desk):
    response = hold_desk.post(
        reverse(PLACE), {"order_number": ORDER_NUMBER.generate(), "reason": "Check"}
    )

    assert "No order has this number" in text(response)


@pytest.mark.parametrize(
    ("status", "already_held", "message"),
    [
        (S.SHIPPED, False, "An order that is “Shipped” cannot be put on hold."),
        (S.RECEIVED, True, "already on hold"),
    ],
)
def test_place_hold_form_shows_the_services_refusal(hold_desk, ops, status, already_held, message):
    order = order_in(status)
    if already_held:
        holds.place_hold(order=order, staff_user=ops, reason="Earlier")

    response = hold_desk.post(reverse(PLACE), {"order_number": order.number, "reason": "Check"})

    assert response.status_code == 200
    assert message in text(response)
    assert OrderHold.objects.filter(order=order).count() == (1 if already_held else 0)


def test_release_action(hold_desk, ops):
    held = [order_in(S.RECEIVED) for _ in range(2)]
    for order in held:
        holds.place_hold(order=order, staff_user=ops, reason="Check")
    released_before = order_in(S.RECEIVED)
    holds.place_hold(order=released_before, staff_user=ops, reason="Old")
    old = holds.release_hold(order=released_before, staff_user=ops)
    ids = list(OrderHold.objects.values_list("pk", flat=True))

    response = hold_desk.post(
        reverse(CHANGELIST), {"action": "release", "_selected_action": ids}, follow=True
    )

    assert "2 holds released." in text(response)
    for order in held:
        hold = OrderHold.objects.get(order=order)
        assert hold.released_by == hold_desk.user and hold.released_at is not None
    old_again = OrderHold.objects.get(pk=old.pk)
    assert (old_again.released_by, old_again.released_at) == (ops, old.released_at)


def test_holds_are_read_only_and_never_deleted(hold_desk, ops):
    order = order_in(S.RECEIVED)
    hold = holds.place_hold(order=order, staff_user=ops, reason="Check")
    url = reverse("admin:fulfillment_orderhold_change", args=[hold.pk])

    hold_desk.post(url, {"reason": "Rewritten"})

    hold.refresh_from_db()
    assert hold.reason == "Check"
    delete = reverse("admin:fulfillment_orderhold_delete", args=[hold.pk])
    assert hold_desk.post(delete, {"post": "yes"}).status_code == 403
    assert OrderHold.objects.filter(pk=hold.pk).exists()


def test_permissions(client, ops):
    order = order_in(S.RECEIVED)
    holds.place_hold(order=order, staff_user=ops, reason="Check")
    viewer = make_staff(client, "viewer", ["view_orderhold"])

    assert viewer.get(reverse(CHANGELIST)).status_code == 200
    assert viewer.get(reverse(PLACE)).status_code == 403
    assert (
        viewer.post(reverse(PLACE), {"order_number": order.number, "reason": "x"}).status_code
        == 403
    )
    page = text(viewer.get(reverse(CHANGELIST)))
    assert 'value="release"' not in page  # no "Release" action without change_orderhold
    ids = list(OrderHold.objects.values_list("pk", flat=True))
    viewer.post(reverse(CHANGELIST), {"action": "release", "_selected_action": ids})
    assert holds.active_hold(order) is not None
