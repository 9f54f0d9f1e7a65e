"""FCFS intake under real concurrency: each thread has its own PostgreSQL connection."""

import uuid

import pytest

from preorder_shop.tests.factories import CustomerFactory
from reservations import selectors, services
from reservations.exceptions import LimitReached
from reservations.models import Fulfilment, Reservation
from reservations.tests.factories import VariantFactory
from tests.concurrency import run_at_once

pytestmark = pytest.mark.django_db(transaction=True)


def reserve_call(customer, variant, key):
    return lambda: services.reserve(
        customer_id=customer.pk,
        variant=variant,
        fulfilment=Fulfilment.COURIER,
        idempotency_key=key,
    )


def test_fifty_customers_at_once_get_fifty_distinct_positions():
    variant = VariantFactory()
    customers = [CustomerFactory() for _ in range(50)]

    results = run_at_once([reserve_call(c, variant, uuid.uuid4()) for c in customers])

    errors = [r for r in results if isinstance(r, Exception)]
    assert errors == []
    reservations = list(Reservation.objects.filter(variant=variant).order_by("position"))
    assert len(reservations) == 50
    assert {r.customer_id for r in reservations} == {c.pk for c in customers}
    positions = [r.position for r in reservations]
    assert len(set(positions)) == 50
    assert len({r.number for r in reservations}) == 50
    # Everyone's place in line is distinct: exactly 1..50.
    places = sorted(selectors.queue_standing(r).place for r in reservations)
    assert places == list(range(1, 51))


def test_one_customer_double_submitting_ten_times_gets_one_reservation():
    variant, customer, key = VariantFactory(), CustomerFactory(), uuid.uuid4()

    results = run_at_once([reserve_call(customer, variant, key) for _ in range(10)])

    assert not [r for r in results if isinstance(r, Exception)]
    assert len({r.pk for r in results}) == 1
    assert Reservation.objects.filter(customer=customer).count() == 1


def test_one_customer_submitting_ten_different_forms_at_once_gets_one_reservation():
    variant, customer = VariantFactory(), CustomerFactory()

    results = run_at_once([reserve_call(customer, variant, uuid.uuid4()) for _ in range(10)])

    won = [r for r in results if isinstance(r, Reservation)]
    refused = [r for r in results if isinstance(r, LimitReached)]
    assert len(won) == 1
    assert len(refused) == 9
    assert Reservation.objects.filter(customer=customer).count() == 1
