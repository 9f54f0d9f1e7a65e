"""Staff change a received order's delivery address in admin (orders/admin.py): the customer's
door (orders.services.address) as staff with a reason, for those who may add address
changes; the current details and the history stay masked."""

import pytest
from django.urls import reverse

from fulfillment.services import moves
from orders.models import ADDRESS_FIELDS, OrderAddressChange, OrderStatus
from orders.tests.factories import COMPLETE_ANSWERS, give_unit, order_of
from preorder_shop.actors import Actor, ActorKind
from preorder_shop.models import Customer, OutboxMessage
from preorder_shop.outbox import render
from tests.admin_client import make_staff
from tests.pages import text

pytestmark = pytest.mark.django_db

S = OrderStatus
AGENT = ["view_order", "view_ordertransition", "view_orderaddresschange", "add_orderaddresschange"]
NEW = {
    "recipient_name": "김영희",
    "recipient_phone": "010-9876-5432",
    "postcode": "06236",
    "address_line1": "서울특별시 강남구 테헤란로 152",
    "address_line2": "12층",
    "delivery_note": "",
    "reason": "Ticket 12345678: the customer moved",
}
SUBMITTED = {name: COMPLETE_ANSWERS.get(name, "") for name in ADDRESS_FIELDS}
SECRETS = ["홍길동", "김영희", "세종대로 110", "테헤란로 152", "1234-5678", "9876-5432", "12층"]


def url(name: str, order) -> str:
    return reverse(f"admin:orders_order_{name}", args=[order.pk])


def address_of(order) -> dict:
    order.refresh_from_db()
    return {name: getattr(order, name) for name in ADDRESS_FIELDS}


@pytest.fixture
def order():
    order = order_of("+821011112222", "김민수")
    Customer.objects.filter(pk=order.reservation.customer_id).update(language="en")
    return order


def test_an_agent_changes_it_with_a_reason_and_sees_only_masked_details(client, order):
    agent = make_staff(client, "agent", AGENT)
    change_page = text(agent.get(url("change", order)))
    assert url("change_address", order) in change_page

    form = text(agent.get(url("change_address", order)))
    assert "04524 서울특별시" in form  # the current address, masked
    assert not any(secret in form for secret in SECRETS)

    response = agent.post(url("change_address", order), NEW, follow=True)

    assert response.redirect_chain == [(url("change", order), 302)]
    assert "The delivery address is changed" in text(response)
    assert address_of(order)["address_line1"] == NEW["address_line1"]
    row = OrderAddressChange.objects.get(order=order)
    assert (row.actor_kind, row.actor_user, row.reason) == (
        ActorKind.STAFF,
        agent.user,
        NEW["reason"],
    )
    _subject, body = render(OutboxMessage.objects.get(template_key="order.address_changed"))
    assert "our support desk changed" in body
    page = text(response)
    assert "Delivery address change notice" in page
    assert "06236 서울특별시" in page and "김*희" in page  # the history row, masked
    assert not any(secret in page for secret in SECRETS)


def test_without_a_reason_or_with_invalid_details_nothing_changes(client, order):
    agent = make_staff(client, "agent", AGENT)

    no_reason = agent.post(url("change_address", order), {**NEW, "reason": " "})
    assert no_reason.status_code == 200
    assert "Give a reason for this change." in text(no_reason)

    invalid = agent.post(
        url("change_address", order), {**NEW, "postcode": "1", "recipient_name": ""}
    )
    assert "A postcode has exactly 5 digits." in text(invalid)
    assert "Enter who receives the phone." in text(invalid)

    assert address_of(order) == SUBMITTED
    assert not OrderAddressChange.objects.exists()


def test_staff_without_the_permission_get_neither_the_link_nor_the_page(client, order):
    reader = make_staff(client, "reader", ["view_order", "view_orderaddresschange"])
    assert url("change_address", order) not in text(reader.get(url("change", order)))
    assert reader.get(url("change_address", order)).status_code == 403
    assert reader.post(url("change_address", order), NEW).status_code == 403
    assert address_of(order) == SUBMITTED


def test_once_preparation_starts_the_door_says_why_not(client, order):
    give_unit(order.reservation)
    moves.start_preparing(order=order, actor=Actor.worker("pipeline"))
    agent = make_staff(client, "agent", AGENT)

    assert url("change_address", order) not in text(agent.get(url("change", order)))
    response = agent.post(url("change_address", order), NEW, follow=True)
    assert response.redirect_chain == [(url("change", order), 302)]
    assert "already being prepared" in text(response)
    assert address_of(order) == SUBMITTED


def test_an_unknown_order_is_a_404(client):
    agent = make_staff(client, "agent", AGENT)
    missing = reverse("admin:orders_order_change_address", args=[999_999])
    assert agent.get(missing).status_code == 404
