"""The line's counters (reservations.lines, migration 0009) stay exact when reservations end
while a refresh counts: real threads, each with its own PostgreSQL connection.

The first two tests force each order of the race migration 0009 reasons through, with locks
as gates (no sleeping): a transaction that ends reservations is held open at a gate while a
refresh runs, and a refresh is held inside its counting statement while reservations end.
The third runs cancels, set-based expiries, intake and refreshes at once."""

import uuid
from collections.abc import Callable

import pytest
from django.db import transaction
from django.utils import timezone

from preorder_shop.actors import Actor
from preorder_shop.tests.factories import CustomerFactory
from reservations import lines, selectors, services
from reservations.history import record_changes
from reservations.models import (
    CancelledBy,
    ChangedField,
    Fulfilment,
    ReservationStatus,
)
from reservations.tests.factories import ReservationFactory, VariantFactory
from reservations.tests.line_checks import (
    execute,
    expire_set_based,
    holding,
    naive_buckets,
    next_position_at,
    skip_positions,
    stored_buckets,
    submit_order,
)
from tests.concurrency import InThread, run_at_once, until

pytestmark = pytest.mark.django_db(transaction=True)
GATE = 7_113_013  # an advisory lock key of this test only (one bigint: not a (1, variant) key)


def refresh(variant) -> Callable[[], list[int]]:
    return lambda: lines.refresh_line_counts(variant_ids=[variant.pk])


def assert_exact(variant) -> None:
    assert stored_buckets(variant) == naive_buckets(variant)
    line = holding(variant)
    assert [selectors.queue_standing(r).place for r in line] == list(range(1, len(line) + 1))


def a_counted_line_with_newcomers(variant) -> tuple[list, list]:
    """Six reservations in one bucket: three counted (the first with an order form, so it
    keeps its place through the expiries below), three newer than the count."""
    [(last,)] = execute("SELECT last_value FROM reservations_queue_position_seq")
    next_position_at((last // lines.BUCKET + 1) * lines.BUCKET)
    counted = [ReservationFactory(variant=variant) for _ in range(3)]
    submit_order(counted[0])
    lines.refresh_line_counts(variant_ids=[variant.pk])
    newcomers = [ReservationFactory(variant=variant) for _ in range(3)]
    return counted, newcomers


def test_reservations_ending_before_a_refresh_locks_the_count():
    variant = VariantFactory()
    counted, newcomers = a_counted_line_with_newcomers(variant)

    def expire_and_wait_at_the_gate():
        with transaction.atomic():
            ended = expire_set_based(variant, up_to_position=newcomers[1].position)
            execute("SELECT pg_advisory_xact_lock(%s)", [GATE])
        return ended

    execute("SELECT pg_advisory_lock(%s)", [GATE])
    try:
        ending = InThread(expire_and_wait_at_the_gate)
        until(ending.waiting_or_done, "the expiry reaches the gate")
        refreshing = InThread(refresh(variant))
        until(refreshing.waiting_or_done, "the refresh waits for the expiry, or finishes")
    finally:
        execute("SELECT pg_advisory_unlock(%s)", [GATE])

    assert len(ending.join()) == 4  # counted[1:], newcomers[:2]
    assert refreshing.join() == [variant.pk]
    assert [r.pk for r in holding(variant)] == [counted[0].pk, newcomers[2].pk]
    assert_exact(variant)
    assert selectors.queue_standing(newcomers[2]).total == 2


def test_reservations_ending_while_a_refresh_counts():
    variant = VariantFactory()
    counted, newcomers = a_counted_line_with_newcomers(variant)
    # The newcomers share the counted ones' bucket, so the refresh's INSERT meets its row,
    # which this transaction holds: the refresh stops inside its counting statement.

    with transaction.atomic():
        execute(
            "SELECT FROM reservations_line_bucket WHERE variant_id = %s FOR UPDATE", [variant.pk]
        )
        refreshing = InThread(refresh(variant))
        until(refreshing.waiting_or_done, "the refresh waits inside its count")
        ending = InThread(lambda: expire_set_based(variant, up_to_position=newcomers[1].position))
        until(ending.waiting_or_done, "the expiry waits for the refresh, or finishes")

    assert refreshing.join() == [variant.pk]
    assert len(ending.join()) == 4
    assert [r.pk for r in holding(variant)] == [counted[0].pk, newcomers[2].pk]
    assert_exact(variant)


def expire_only(variant, reservations) -> Callable[[], int]:
    """A set-based expiry of exactly these reservations (one UPDATE), with their history."""

    def run() -> int:
        with transaction.atomic():
            ids = [
                pk
                for (pk,) in execute(
                    "UPDATE reservations_reservation SET status = 'expired'"
                    " WHERE variant_id = %s AND id = ANY(%s) AND status = 'active' RETURNING id",
                    [variant.pk, [r.pk for r in reservations]],
                )
            ]
            return record_changes(
                reservation_ids=ids,
                field=ChangedField.STATUS,
                from_value=ReservationStatus.ACTIVE,
                to_value=ReservationStatus.EXPIRED,
                actor=Actor.worker("order-deadline"),
                at=timezone.now(),
            )

    return run


def cancel_each(reservations) -> Callable[[], None]:
    def run() -> None:
        for reservation in reservations:
            services.cancel_reservation(reservation=reservation, by=CancelledBy.CUSTOMER)

    return run


def reserve_each(variant, customers) -> Callable[[], None]:
    def run() -> None:
        for customer in customers:
            services.reserve(
                customer_id=customer.pk,
                variant=variant,
                fulfilment=Fulfilment.COURIER,
                idempotency_key=uuid.uuid4(),
            )

    return run


def test_cancels_expiries_and_intake_racing_refreshes_leave_the_buckets_exact():
    variant = VariantFactory()
    for _ in range(4):  # a line over several buckets
        ReservationFactory.create_batch(40, variant=variant)
        skip_positions(lines.BUCKET // 2)
    lines.refresh_line_counts(variant_ids=[variant.pk])
    ReservationFactory.create_batch(60, variant=variant)  # newer than the count
    line = holding(variant)
    cancelled = line[::4]  # counted ones and newcomers alike
    # Expiries end rows no cancel touches, in two disjoint sets: two set-based UPDATEs
    # meeting the same rows in different orders deadlock with or without these counters.
    expired = [r for r in line if r not in cancelled][::2]
    customers = [CustomerFactory() for _ in range(20)]

    def refresh_often() -> None:
        for _ in range(15):
            lines.refresh_line_counts(variant_ids=[variant.pk])

    calls = [cancel_each(cancelled[i::6]) for i in range(6)]
    calls += [expire_only(variant, expired[0::2]), expire_only(variant, expired[1::2])]
    calls += [refresh_often, refresh_often]
    calls += [reserve_each(variant, customers[:10]), reserve_each(variant, customers[10:])]

    results = run_at_once(calls, timeout=120)

    assert [r for r in results if isinstance(r, Exception)] == []
    assert results[6] + results[7] == len(expired)
    assert_exact(variant)
    lines.refresh_line_counts(variant_ids=[variant.pk])
    assert_exact(variant)
    survivors = holding(variant)
    assert len(survivors) == len(line) - len(cancelled) - len(expired) + len(customers)
    assert selectors.queue_standing(survivors[-1]).total == len(survivors)
