"""Admin search reads a typed number with the identifier registry: however staff type a
reservation or order number (hyphens, spaces, full-width digits), it finds the row; any other
term is searched as before; no input makes a server error."""

import re

import pytest
from django.urls import reverse

from orders.tests.factories import order_of
from preorder_shop.tests.factories import CustomerFactory
from reservations.tests.factories import ReservationFactory
from tests.admin_client import ORDER_CHANGELIST, make_staff
from tests.pages import text

pytestmark = pytest.mark.django_db

RESERVATION_CHANGELIST = "admin:reservations_reservation_changelist"


def full_width(number: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) for c in number)


def typed_ways(number: str) -> list[str]:
    """What staff paste or type for one number."""
    return [
        number,
        f"{number[:3]}-{number[3:7]}-{number[7:]}",
        f" {number[:4]} {number[4:]} ",
        full_width(number),
        f"{full_width(number[:4])}\uff0d{full_width(number[4:])}",
    ]


def listed_pks(response) -> set[int]:
    assert response.status_code == 200
    return {int(pk) for pk in re.findall(r'name="_selected_action" value="(\d+)"', text(response))}


@pytest.fixture
def orders_desk(client):
    return make_staff(client, "ops", ["view_order", "change_order", "transition_order"])


@pytest.fixture
def reservations_desk(client):
    return make_staff(client, "agent", ["view_reservation", "change_reservation"])


@pytest.fixture
def two_orders():
    return order_of("+821011112222", "김민수"), order_of("+821033334444", "이서연")


def test_an_order_number_typed_any_way_finds_its_order(orders_desk, two_orders):
    mine, _other = two_orders
    url = reverse(ORDER_CHANGELIST)

    for typed in typed_ways(mine.number):
        assert listed_pks(orders_desk.get(url, {"q": typed})) == {mine.pk}, typed


def test_a_reservation_number_typed_any_way_finds_its_order(orders_desk, two_orders):
    _mine, other = two_orders
    url = reverse(ORDER_CHANGELIST)

    for typed in typed_ways(other.reservation.number):
        assert listed_pks(orders_desk.get(url, {"q": typed})) == {other.pk}, typed


def test_the_last_four_digits_of_the_mobile_number_still_find_the_order(orders_desk, two_orders):
    mine, other = two_orders
    url = reverse(ORDER_CHANGELIST)

    assert listed_pks(orders_desk.get(url, {"q": "2222"})) == {mine.pk}
    assert listed_pks(orders_desk.get(url, {"q": "4444"})) == {other.pk}


def test_a_reservation_number_typed_any_way_finds_the_reservation(reservations_desk):
    mine = ReservationFactory(customer=CustomerFactory(phone="+821011112222"))
    ReservationFactory(customer=CustomerFactory(phone="+821033334444"))
    url = reverse(RESERVATION_CHANGELIST)

    for typed in typed_ways(mine.number):
        assert listed_pks(reservations_desk.get(url, {"q": typed})) == {mine.pk}, typed
    assert listed_pks(reservations_desk.get(url, {"q": "2222"})) == {mine.pk}


def test_an_order_number_in_the_reservation_list_finds_nothing(reservations_desk, two_orders):
    mine, _other = two_orders

    response = reservations_desk.get(reverse(RESERVATION_CHANGELIST), {"q": mine.number})

    assert listed_pks(response) == set()


@pytest.fixture
def desk(client):
    return make_staff(
        client,
        "desk",
        [
            "view_order",
            "change_order",
            "transition_order",
            "view_reservation",
            "change_reservation",
        ],
    )


@pytest.mark.parametrize(
    "typed",
    [
        "1234\x0b5678",
        "\u200b",
        "T123456789",
        "010-1234-5678",
        "'; DROP TABLE orders_order; --",
        "%_\\",
        full_width("1234567"),
    ],
    ids=["vertical-tab", "zero-width", "ticket", "mobile", "sql", "like", "7-full-width"],
)
@pytest.mark.parametrize("changelist", [ORDER_CHANGELIST, RESERVATION_CHANGELIST])
def test_a_term_that_is_no_number_of_ours_finds_nothing_and_breaks_nothing(
    desk, changelist, typed, two_orders
):
    assert listed_pks(desk.get(reverse(changelist), {"q": typed})) == set()


@pytest.mark.parametrize("typed", ["\x00", "1234\x005678"], ids=["nul", "nul-in-number"])
@pytest.mark.parametrize("changelist", [ORDER_CHANGELIST, RESERVATION_CHANGELIST])
def test_a_nul_is_refused_by_the_search_form_not_a_server_error(desk, changelist, typed):
    response = desk.get(reverse(changelist), {"q": typed})

    assert response.status_code == 200
    assert "Null characters are not allowed." in text(response)


def test_a_mistyped_check_digit_finds_nothing(orders_desk, two_orders):
    mine, _other = two_orders
    typo = mine.number[:-1] + str((int(mine.number[-1]) + 1) % 10)

    assert listed_pks(orders_desk.get(reverse(ORDER_CHANGELIST), {"q": typo})) == set()
