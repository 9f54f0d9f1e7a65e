"""Reservation and order numbers: random, check-digit protected, never confused for each other.

What the registry's shapes, cleaner and identifier do in general is in
test_identifier_registry.py; here, the two kinds issued today and what customers type.
"""

import itertools
import math

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from stdnum import damm

from orders.models import Order, OrderStatus
from orders.tests.factories import order_in
from preorder_shop.identifiers import ORDER_NUMBER, RESERVATION_NUMBER, Shape, validate
from reservations.models import Reservation
from reservations.tests.factories import ReservationFactory

KINDS = [
    pytest.param(RESERVATION_NUMBER, id="reservation"),
    pytest.param(ORDER_NUMBER, id="order"),
]
SAMPLE_SIZE = 10_000


def with_check_digit(body: str) -> str:
    return body + damm.calc_check_digit(body)


VALID_RESERVATION = with_check_digit("1234567")


def clean_reservation_number(raw: str) -> str:
    return validate(raw, expected=RESERVATION_NUMBER)


def single_digit_changes(number: str):
    for position, digit in enumerate(number):
        for replacement in "0123456789":
            if replacement != digit:
                yield number[:position] + replacement + number[position + 1 :]


def adjacent_transpositions(number: str):
    for position in range(len(number) - 1):
        left, right = number[position], number[position + 1]
        if left != right:
            yield number[:position] + right + left + number[position + 2 :]


# --- generated numbers -------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_generated_numbers_have_the_right_shape_and_a_valid_damm_check_digit(kind):
    for _ in range(1_000):
        number = kind.generate()
        assert len(number) == kind.length
        assert number.isascii() and number.isdigit()
        assert number[0] != "0"
        assert damm.is_valid(number), number
        assert damm.calc_check_digit(number[:-1]) == number[-1]
        assert kind.is_valid(number)


def test_reservation_and_order_numbers_have_different_lengths():
    assert RESERVATION_NUMBER.length == 8
    assert ORDER_NUMBER.length == 11
    assert (RESERVATION_NUMBER.name, ORDER_NUMBER.name) == ("reservation_number", "order_number")
    assert not RESERVATION_NUMBER.is_valid(ORDER_NUMBER.generate())
    assert not ORDER_NUMBER.is_valid(RESERVATION_NUMBER.generate())


def test_ten_thousand_reservation_numbers_collide_no_more_than_the_birthday_bound_allows():
    # 9 * 10**6 possible bodies (first digit 1-9, then 6 free digits). Drawing n = 10,000
    # uniformly gives on average C(n, 2) / N = 5.6 colliding pairs, roughly Poisson;
    # P(more than 20) is about 4e-7. A generator drawing from a much smaller space, or
    # from a counter that repeats, blows far past it.
    space = 9 * 10**6
    expected_pairs = math.comb(SAMPLE_SIZE, 2) / space
    assert 5 < expected_pairs < 6

    numbers = [RESERVATION_NUMBER.generate() for _ in range(SAMPLE_SIZE)]

    collisions = SAMPLE_SIZE - len(set(numbers))
    assert collisions <= 20


def test_ten_thousand_order_numbers_are_practically_all_distinct():
    # 9 * 10**9 bodies: expected colliding pairs 0.0056; P(3 or more) is about 3e-8.
    numbers = [ORDER_NUMBER.generate() for _ in range(SAMPLE_SIZE)]

    assert SAMPLE_SIZE - len(set(numbers)) <= 2


@pytest.mark.parametrize("kind", KINDS)
def test_generated_numbers_are_not_sequential_or_ordered(kind):
    bodies = [int(kind.generate()[:-1]) for _ in range(SAMPLE_SIZE)]
    steps = [later - earlier for earlier, later in itertools.pairwise(bodies)]

    # A counter (or a counter plus a small random jitter) makes neighbours close together;
    # random draws from millions of values almost never land within 10 of the previous one.
    close_neighbours = sum(1 for step in steps if abs(step) <= 10)
    assert close_neighbours <= 2
    # Random order: about half the steps go up (9,999 steps, standard deviation 50).
    going_up = sum(1 for step in steps if step > 0)
    assert 4_500 < going_up < 5_500


def test_reservation_numbers_use_every_leading_digit_evenly():
    # Each of 1-9 expects 1,111 of 10,000 (standard deviation 31); allow about 7 sigma.
    counts = {str(digit): 0 for digit in range(1, 10)}
    for _ in range(SAMPLE_SIZE):
        counts[RESERVATION_NUMBER.generate()[0]] += 1

    assert all(900 < count < 1_330 for count in counts.values()), counts


# --- error detection ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_every_single_digit_change_makes_a_valid_number_invalid(kind):
    samples = [kind.generate() for _ in range(200)]
    for number in samples:
        assert kind.is_valid(number)
        changed = list(single_digit_changes(number))
        assert len(changed) == 9 * kind.length
        for typo in changed:
            assert not damm.is_valid(typo), (number, typo)
            assert not kind.is_valid(typo), (number, typo)


@pytest.mark.parametrize("kind", KINDS)
def test_every_swap_of_neighbouring_different_digits_makes_a_valid_number_invalid(kind):
    checked = 0
    for _ in range(200):
        number = kind.generate()
        for swapped in adjacent_transpositions(number):
            checked += 1
            assert not damm.is_valid(swapped), (number, swapped)
            assert not kind.is_valid(swapped), (number, swapped)
    assert checked > 1_000  # random numbers have plenty of unequal neighbours


def test_is_valid_rejects_wrong_length_and_non_digits():
    kind = Shape(length=4)
    number = with_check_digit("123")
    assert kind.is_valid(number)
    assert not kind.is_valid(number + "0")
    assert not kind.is_valid(number[:-1])
    assert not kind.is_valid("12a" + number[-1])
    assert not kind.is_valid("")


# --- what customers type -------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        VALID_RESERVATION,
        f"{VALID_RESERVATION[:4]}-{VALID_RESERVATION[4:]}",
        f"{VALID_RESERVATION[:4]} {VALID_RESERVATION[4:]}",
        f"  {VALID_RESERVATION[:3]} - {VALID_RESERVATION[3:6]} - {VALID_RESERVATION[6:]}\n",
        " ".join(VALID_RESERVATION),
    ],
)
def test_clean_reservation_number_accepts_spaces_and_dashes(typed):
    assert clean_reservation_number(typed) == VALID_RESERVATION


def test_clean_reservation_number_accepts_freshly_generated_numbers():
    for _ in range(100):
        number = RESERVATION_NUMBER.generate()
        assert clean_reservation_number(number) == number


@pytest.mark.parametrize(
    "typed",
    [
        pytest.param(ORDER_NUMBER.generate(), id="plain"),
        pytest.param("123-4567-8901", id="with-dashes"),
    ],
)
def test_an_order_number_is_recognised_and_the_customer_told_so(typed):
    with pytest.raises(ValidationError) as excinfo:
        clean_reservation_number(typed)

    assert excinfo.value.code == "order_number_given"
    (message,) = excinfo.value.messages
    assert "looks like an order number" in message
    assert "8-digit reservation number" in message


@pytest.mark.parametrize("count", [1, 7, 9, 10, 12])
def test_wrong_length_says_how_many_digits_were_entered(count):
    typed = ("1234567890" * 2)[:count]

    with pytest.raises(ValidationError) as excinfo:
        clean_reservation_number(typed)

    assert excinfo.value.code == "wrong_length"
    assert excinfo.value.params == {"count": count}
    assert excinfo.value.messages == [
        f"A reservation number has exactly 8 digits; you entered {count}."
    ]


@pytest.mark.parametrize(
    ("typed", "character"),
    [("1234567a", "A"), ("R-1234567", "R"), ("1234.5671", "."), ("12345_671", "_")],
)
def test_anything_but_digits_is_refused(typed, character):
    with pytest.raises(ValidationError) as excinfo:
        clean_reservation_number(typed)

    assert excinfo.value.code == "bad_character"
    assert excinfo.value.params == {"character": character}
    assert excinfo.value.messages == ["A reservation number has digits only."]


@pytest.mark.parametrize("typed", ["", "   ", " - - "])
def test_nothing_typed_is_refused_as_empty(typed):
    with pytest.raises(ValidationError) as excinfo:
        clean_reservation_number(typed)

    assert excinfo.value.code == "empty"


def test_a_mistyped_digit_is_caught_by_the_check_digit():
    for typo in [
        *single_digit_changes(VALID_RESERVATION),
        *adjacent_transpositions(VALID_RESERVATION),
    ]:
        if typo.startswith("0"):
            continue  # said more precisely: see the next test
        with pytest.raises(ValidationError) as excinfo:
            clean_reservation_number(typo)
        assert excinfo.value.code == "bad_check_digit", typo
        assert "mistyped digit" in excinfo.value.messages[0]


def test_a_leading_zero_is_named_as_such():
    with pytest.raises(ValidationError) as excinfo:
        clean_reservation_number("0" + VALID_RESERVATION[1:])

    assert excinfo.value.code == "wrong_start"
    assert excinfo.value.messages == ["A reservation number never starts with 0."]


def test_full_width_digits_and_hyphen_are_normalised_to_ascii():
    # What a Korean IME types in full-width mode: U+FF10-U+FF19 and U+FF0D.
    full_width = "".join(
        chr(ord(c) + 0xFEE0) for c in f"{VALID_RESERVATION[:4]}-{VALID_RESERVATION[4:]}"
    )
    assert full_width.isdigit() is False and not full_width.isascii()

    assert clean_reservation_number(full_width) == VALID_RESERVATION


# --- the database agrees -------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("malformed", ["01234567", "1234567", "1234567a"])
def test_the_database_refuses_a_malformed_reservation_number(malformed):
    with pytest.raises(IntegrityError) as excinfo, transaction.atomic():
        ReservationFactory(number=malformed)

    assert "reservation_number_format" in str(excinfo.value)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "table", "constraint"),
    [
        pytest.param(RESERVATION_NUMBER, Reservation._meta.db_table, "reservation_number_format"),
        pytest.param(ORDER_NUMBER, Order._meta.db_table, "order_number_format"),
    ],
    ids=["reservation", "order"],
)
def test_the_database_checks_exactly_the_registry_shape(kind, table, constraint):
    """The check constraints in PostgreSQL (what migrations made, not what models.py says)
    spell the registry's shape, so a registry change that the database would refuse shows
    here rather than as an IntegrityError at launch hour."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c "
            "WHERE c.conname = %s AND c.conrelid = %s::regclass",
            [constraint, table],
        )
        (definition,) = cursor.fetchone()

    assert f"'{kind.shape.pattern}'" in definition


@pytest.mark.django_db
def test_generated_numbers_are_stored_and_found_again_unchanged():
    number = RESERVATION_NUMBER.generate()
    reservation = ReservationFactory(number=number)
    order = order_in(OrderStatus.RECEIVED)  # numbered by the submit service

    assert Reservation.objects.get(number=number).pk == reservation.pk
    assert Reservation.objects.values_list("number", flat=True).get(pk=reservation.pk) == number
    stored = Order.objects.values_list("number", flat=True).get(pk=order.pk)
    assert validate(stored, expected=ORDER_NUMBER) == stored == order.number
