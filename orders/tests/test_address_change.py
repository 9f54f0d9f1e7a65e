"""The delivery address's change (orders.services.address): only for a delivered order while
it is received, judged by the order form's own rules, one history row and one notification
per change; the database refuses an address change once preparation has started, a change
without its history row, and any edit of that history."""

import pytest
from django.db import IntegrityError, connection, transaction

from orders import services
from orders.exceptions import (
    ActorNotAllowed,
    AddressBeingPrepared,
    AddressDelivered,
    AddressOnItsWay,
    AddressOnOrderForm,
    AddressOrderClosed,
    InvalidAddress,
    NoDeliveryAddress,
    ReasonRequired,
)
from orders.models import ADDRESS_FIELDS, Order, OrderAddressChange, OrderStatus
from orders.tests.factories import COMPLETE_ANSWERS, order_in, publish_festival_draw, staff_user
from preorder_shop.actors import Actor, ActorKind
from preorder_shop.models import OutboxMessage
from preorder_shop.outbox import render
from preorder_shop.tests.factories import CustomerFactory
from reservations.models import Fulfilment
from reservations.tests.factories import CampaignFactory, ReservationFactory, VariantFactory

pytestmark = pytest.mark.django_db

S = OrderStatus
NEW_ADDRESS = {
    "recipient_name": "김영희",
    "recipient_phone": "010-9876-5432",
    "postcode": "06236",
    "address_line1": "서울특별시 강남구 테헤란로 152",
    "address_line2": "12층",
    "delivery_note": "경비실에 맡겨 주세요",
}
OLD_ADDRESS = {name: COMPLETE_ANSWERS.get(name, "") for name in ADDRESS_FIELDS}


def english_order() -> Order:
    """A received order of a customer who reads English (the notification's language)."""
    customer = CustomerFactory(language="en")
    return order_in(S.RECEIVED, reservation=ReservationFactory(customer=customer))


def change(order: Order, actor: Actor | None = None, **values):
    return services.change_delivery_address(
        order=order, actor=actor or Actor.customer(), **{**NEW_ADDRESS, **values}
    )


def address_of(order: Order) -> dict:
    order.refresh_from_db()
    return {name: getattr(order, name) for name in ADDRESS_FIELDS}


def address_notices(order: Order):
    return OutboxMessage.objects.filter(
        reference=f"order:{order.pk}", template_key="order.address_changed"
    )


def test_a_received_order_takes_the_new_address_with_history_and_one_notification():
    order = english_order()

    row = change(order)

    assert address_of(order) == {**NEW_ADDRESS, "recipient_phone": "+821098765432"}
    assert list(OrderAddressChange.objects.filter(order=order)) == [row]
    assert row.actor_kind == ActorKind.CUSTOMER
    assert row.changed == ADDRESS_FIELDS  # all six, in the form's order
    assert row.before == OLD_ADDRESS
    assert row.after == address_of(order)
    notice = address_notices(order).get()
    assert notice.recipient == order.reservation.customer.phone  # the account's own number
    _subject, body = render(notice)
    assert order.masked_address in body  # masked: the postcode and the line's start
    assert order.masked_address.startswith("06236 서울특별시")
    assert NEW_ADDRESS["address_line1"] not in body
    assert NEW_ADDRESS["recipient_name"] not in body and "9876" not in body
    assert "If you did not ask for this, contact support" in body
    assert order.status == S.RECEIVED  # the status does not move


def test_only_the_fields_that_differ_are_recorded_as_changed():
    order = order_in(S.RECEIVED)

    row = change(order, **{**OLD_ADDRESS, "delivery_note": "문 앞에 두세요"})

    assert row.changed == ["delivery_note"]
    assert address_of(order) == {**OLD_ADDRESS, "delivery_note": "문 앞에 두세요"}


def test_the_same_address_again_changes_nothing_and_sends_nothing():
    """A no-op, not a refusal: a double-clicked save or a retried request is answered with
    the address as it is."""
    order = order_in(S.RECEIVED)
    change(order)

    again = change(order, recipient_phone="+82 10-9876-5432")  # same number, other spelling

    assert again is None
    assert OrderAddressChange.objects.filter(order=order).count() == 1
    assert address_notices(order).count() == 1


def test_each_later_change_is_its_own_row_and_notification():
    order = order_in(S.RECEIVED)
    change(order)
    change(order, address_line2="13층")

    rows = list(OrderAddressChange.objects.filter(order=order))
    assert [r.changed for r in rows] == [ADDRESS_FIELDS, ["address_line2"]]
    assert rows[1].before["address_line2"] == "12층"
    assert address_notices(order).count() == 2


@pytest.mark.parametrize(
    ("values", "errors"),
    [
        ({"postcode": "1234"}, {"postcode": ["A postcode has exactly 5 digits."]}),
        ({"recipient_phone": "12345"}, {"recipient_phone": None}),
        ({"recipient_name": ""}, {"recipient_name": ["Enter who receives the phone."]}),
        ({"address_line1": "   "}, {"address_line1": ["Enter the delivery address."]}),
        ({"address_line2": "가" * 201}, {"address_line2": None}),
        ({"delivery_note": "a\x00b"}, {"delivery_note": None}),
    ],
)
def test_invalid_details_change_nothing_and_say_why_per_field(values, errors):
    order = order_in(S.RECEIVED)

    with pytest.raises(InvalidAddress) as refused:
        change(order, **values)

    found = {
        name: [m for e in found for m in e.messages]
        for name, found in refused.value.errors.items()
    }
    assert set(found) == set(errors)
    for name, expected in errors.items():
        if expected is not None:
            assert found[name] == expected
    assert address_of(order) == OLD_ADDRESS
    assert not OrderAddressChange.objects.exists()
    assert not address_notices(order).exists()


def test_the_messages_are_the_order_forms_own():
    """The phone's message is the order form's (preorder_shop.phone), not a second copy."""
    from orders.forms import OrderForm

    order = order_in(S.RECEIVED)
    form = OrderForm({"recipient_phone": "12345"}, instance=order, reservation=order.reservation)
    form.is_valid()

    with pytest.raises(InvalidAddress) as refused:
        change(order, recipient_phone="12345")

    assert refused.value.errors["recipient_phone"][0].messages == form.errors["recipient_phone"]


@pytest.mark.parametrize(
    ("status", "refusal"),
    [
        (S.DRAFT, AddressOnOrderForm),
        (S.PREPARING, AddressBeingPrepared),
        (S.SHIPPED, AddressOnItsWay),
        (S.DELIVERED, AddressDelivered),
        (S.CANCELLED, AddressOrderClosed),
        (S.DISCARDED, AddressOrderClosed),
    ],
)
def test_refused_outside_received_with_the_reason_in_words(status, refusal):
    order = order_in(status)
    before = address_of(order)

    assert isinstance(services.address_change_refusal(order), refusal)
    for actor in (Actor.customer(), Actor.staff(staff_user())):
        with pytest.raises(refusal):
            change(order, actor, reason="Ticket 1: customer moved")

    assert address_of(order) == before
    assert not OrderAddressChange.objects.exists()
    assert not address_notices(order).exists()


def test_refused_for_a_festival_pickup_order():
    campaign = CampaignFactory(with_festival=True)
    reservation = ReservationFactory(
        variant=VariantFactory(campaign=campaign), fulfilment=Fulfilment.FESTIVAL
    )
    publish_festival_draw(reservation.campaign)
    order = order_in(S.RECEIVED, reservation=reservation)

    assert isinstance(services.address_change_refusal(order), NoDeliveryAddress)
    with pytest.raises(NoDeliveryAddress):
        change(order)
    assert not OrderAddressChange.objects.exists()


def test_dawn_delivery_orders_may_change_their_address():
    order = order_in(S.RECEIVED, reservation=ReservationFactory(fulfilment=Fulfilment.DAWN))

    assert services.address_change_refusal(order) is None
    assert change(order) is not None


def test_staff_change_it_with_a_reason_and_the_notice_says_the_desk_did():
    order = english_order()
    agent = staff_user("agent")

    with pytest.raises(ReasonRequired):
        change(order, Actor.staff(agent))
    row = change(order, Actor.staff(agent), reason="Ticket 12345: customer moved")

    assert (row.actor_kind, row.actor_user, row.reason) == (
        ActorKind.STAFF,
        agent,
        "Ticket 12345: customer moved",
    )
    _subject, body = render(address_notices(order).get())
    assert "our support desk changed" in body


def test_workers_and_couriers_do_not_change_addresses():
    order = order_in(S.RECEIVED)
    for actor in (Actor.worker("pipeline"), Actor.courier("CJ"), Actor.operator("ops")):
        with pytest.raises(ActorNotAllowed):
            change(order, actor)
    assert address_of(order) == OLD_ADDRESS


# The database's own rules, whoever writes.


def test_the_database_refuses_an_address_change_once_preparation_started():
    order = order_in(S.PREPARING)
    for status in (S.PREPARING,):
        with pytest.raises(IntegrityError, match="order_address_fixed"), transaction.atomic():
            Order.objects.filter(pk=order.pk, status=status).update(postcode="06236")
    assert address_of(order) == OLD_ADDRESS


def test_the_database_still_lets_a_received_order_move_forward_unchanged():
    """The forward moves save the whole row (the same address): not a change."""
    order = order_in(S.SHIPPED)
    assert order.status == S.SHIPPED
    assert address_of(order) == OLD_ADDRESS


def test_the_database_requires_the_history_row_of_a_received_orders_change():
    order = order_in(S.RECEIVED)
    refused = pytest.raises(IntegrityError, match="order_address_history_required")
    with refused, transaction.atomic(), connection.cursor() as cursor:
        Order.objects.filter(pk=order.pk).update(postcode="06236")
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    assert address_of(order) == OLD_ADDRESS


def test_the_address_history_is_append_only():
    order = order_in(S.RECEIVED)
    row = change(order)
    with pytest.raises(IntegrityError, match="append_only"), transaction.atomic():
        OrderAddressChange.objects.filter(pk=row.pk).update(reason="edited")
    with pytest.raises(IntegrityError, match="append_only"), transaction.atomic():
        OrderAddressChange.objects.filter(pk=row.pk).delete()


def test_every_fields_error_comes_at_once():
    order = order_in(S.RECEIVED)

    with pytest.raises(InvalidAddress) as refused:
        change(order, postcode="12", recipient_name="", address_line1="")

    errors = refused.value.errors
    assert sorted(errors) == ["address_line1", "postcode", "recipient_name"]
    assert [e.code for e in errors["recipient_name"]] == ["required"]
    assert [e.code for e in errors["postcode"]] == ["postcode"]
