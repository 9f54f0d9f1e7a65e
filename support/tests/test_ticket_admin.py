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
