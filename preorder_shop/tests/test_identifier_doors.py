"""The doors that take a typed order number read it with the registry's one validator: the
courier importer (its own error classes and English operator messages, derived from the
registry's codes) and the admin's place-hold form."""

import pytest
from django.utils import translation

from fulfillment.admin import PlaceHoldForm
from fulfillment.services import courier_input, couriers
from orders.models import OrderStatus
from orders.tests.factories import order_in
from preorder_shop.identifiers import ORDER_NUMBER, RESERVATION_NUMBER


def full_width(number: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) for c in number)


def mistyped(number: str) -> str:
    return number[:-1] + str((int(number[-1]) + 1) % 10)


def test_the_courier_importer_reads_order_numbers_as_every_form_does():
    number = ORDER_NUMBER.generate()

    assert courier_input.clean_order_number(number) == number
    assert courier_input.clean_order_number(f"{number[:3]}-{number[3:7]}-{number[7:]}") == number
    assert courier_input.clean_order_number(full_width(number)) == number


RESERVATION = RESERVATION_NUMBER.generate()
ORDER = ORDER_NUMBER.generate()


@pytest.mark.parametrize(
    ("raw", "error", "message"),
    [
        (
            RESERVATION,
            courier_input.ReservationNumberGiven,
            f"“{RESERVATION}” is an 8-digit reservation number, not an order number: "
            "give the customer's 11-digit order number.",
        ),
        (
            "010-1234-5678",
            courier_input.InvalidOrderNumber,
            "“010-1234-5678” is a mobile number, not an order number.",
        ),
        (
            "1234567890x",
            courier_input.InvalidOrderNumber,
            "“1234567890x” is not an order number: an order number has digits only.",
        ),
        (
            "123456789",
            courier_input.InvalidOrderNumber,
            "“123456789” is not an order number: it has 9 digits, an order number 11.",
        ),
        (
            "01234567890",
            courier_input.InvalidOrderNumber,
            "“01234567890” is not an order number: none starts with 0.",
        ),
        (
            mistyped(ORDER),
            courier_input.InvalidOrderNumber,
            f"“{mistyped(ORDER)}” is not a valid order number: its check digit is wrong "
            "(a mistyped digit?).",
        ),
        (
            "1234\x005678901",
            courier_input.InvalidOrderNumber,
            "“1234\x005678901” is not an order number: The number contains an invisible "
            "control character. Type it in again.",
        ),
    ],
    ids=["reservation", "mobile", "letter", "length", "leading-zero", "check-digit", "nul"],
)
def test_each_refusal_is_a_courier_error_in_english_for_operators(raw, error, message):
    with translation.override("ko"), pytest.raises(courier_input.CourierError) as excinfo:
        courier_input.clean_order_number(raw)

    assert type(excinfo.value) is error
    assert str(excinfo.value.message) == message
    assert excinfo.value.code == error.code  # what the webhook answers, unchanged


@pytest.mark.django_db
def test_find_order_finds_the_order_however_its_number_is_written():
    order = order_in(OrderStatus.RECEIVED)

    assert couriers.find_order(full_width(order.number)) == order
    with pytest.raises(couriers.UnknownOrder):
        couriers.find_order(ORDER_NUMBER.generate())


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("typed", "message"),
    [
        (
            RESERVATION,
            "This looks like a reservation number (8 digits). "
            "Enter the 11-digit order number instead.",
        ),
        (
            "010-1234-5678",
            "This looks like a mobile number. Enter the 11-digit order number instead.",
        ),
        ("01234567890", "An order number never starts with 0."),
        ("1234\x005678901", "Null characters are not allowed."),
    ],
)
def test_the_place_hold_form_says_what_was_typed_instead(typed, message):
    form = PlaceHoldForm({"order_number": typed, "reason": "Check"})

    assert not form.is_valid()
    assert form.errors["order_number"] == [message]


@pytest.mark.django_db
def test_the_place_hold_form_finds_the_order_from_full_width_digits():
    order = order_in(OrderStatus.RECEIVED)
    number = order.number

    form = PlaceHoldForm({"order_number": f"{full_width(number[:3])}-{number[3:]}", "reason": "x"})

    assert form.is_valid(), form.errors
    assert form.cleaned_data["order_number"] == order
