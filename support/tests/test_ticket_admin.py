"""A ticket about an order leads its agent to the order's delivery address door (the same
service as the customer's, issue 14 section 3) while the order is received, and says why
not once preparation has started."""

import pytest
from django.urls import reverse

from orders.models import OrderStatus
from orders.tests.factories import PATH, give_unit, order_in
from preorder_shop import roles
from reservations.models import Fulfilment
from support.models import TicketCategory

from .factories import open_ticket
from .test_board_admin import staff_of

pytestmark = pytest.mark.django_db


def ticket_page(agent, ticket) -> str:
    response = agent.get(reverse("admin:support_ticket_change", args=[ticket.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_an_agent_goes_from_the_ticket_to_the_address_door_while_received(client):
    order = order_in(OrderStatus.RECEIVED, reservation__fulfilment=Fulfilment.COURIER)
    customer = order.reservation.customer
    ticket = open_ticket(
        customer,
        category=TicketCategory.CHANGE_DELIVERY,
        reservation=order.reservation,
        order=order,
    )
    agent = staff_of(client, roles.SUPPORT_AGENTS, "agent")
    door = reverse("admin:orders_order_change_address", args=[order.pk])

    assert f'href="{door}"' in ticket_page(agent, ticket)
    assert agent.get(door).status_code == 200

    give_unit(order.reservation)
    PATH[OrderStatus.PREPARING][-1](order)
    page = ticket_page(agent, ticket)
    assert f'href="{door}"' not in page
    assert "already being prepared" in page


def test_an_agent_replies_from_admin_and_the_customer_is_told_once(client):
    from preorder_shop.models import OutboxMessage
    from support.models import TicketStatus

    ticket = open_ticket()
    agent = staff_of(client, roles.SUPPORT_AGENTS, "agent")
    url = reverse("admin:support_ticket_reply", args=[ticket.pk])
    assert f'href="{url}"' in ticket_page(agent, ticket)
    form = agent.get(url)
    assert form.status_code == 200
    key = form.context["form"].initial["key"]
    reply = {"body": "내일 출고됩니다.", "status": TicketStatus.WAITING_ON_CUSTOMER, "key": key}

    assert agent.post(url, reply).status_code == 302
    assert agent.post(url, reply).status_code == 302  # a double click: the same reply

    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.WAITING_ON_CUSTOMER
    assert [m.body for m in ticket.messages.filter(author_kind="staff")] == ["내일 출고됩니다."]
    told = OutboxMessage.objects.filter(
        reference=f"ticket:{ticket.pk}", template_key="support.reply"
    )
    assert told.count() == 1


def test_an_empty_or_illegal_reply_changes_nothing(client):
    ticket = open_ticket()
    agent = staff_of(client, roles.SUPPORT_AGENTS, "agent")
    url = reverse("admin:support_ticket_reply", args=[ticket.pk])
    key = "8f4e6a1c-2b3d-4e5f-9a0b-1c2d3e4f5a6b"
    for body, status in (("", "answered"), ("\x00", "answered"), ("ok", "closed")):
        response = agent.post(url, {"body": body, "status": status, "key": key})
        assert response.status_code == 200
    assert not ticket.messages.filter(author_kind="staff").exists()
    assert client.get(reverse("admin:support_ticket_reply", args=[999999])).status_code == 404
