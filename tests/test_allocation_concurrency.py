"""Allocation under concurrent intake: each thread has its own PostgreSQL connection.

Sequence order is not commit order. Allocation must never give a unit to a later position
while an earlier one is still in flight, because allocation never takes a unit back: a
unit given out of turn would stay out of turn.
"""

import datetime as dt
import itertools
import random
import threading
import time
import uuid
from collections.abc import Callable

import pytest
from django.db import connection, transaction
from django.utils import timezone

from fulfillment.models import Allocation, StockLot
from fulfillment.services.allocation import allocate_campaign, allocate_variant
from fulfillment.tests.factories import StockLotFactory, ordered_reservation
from orders.services import close_order_window
from preorder_shop.tests.factories import CustomerFactory
from reservations import services
from reservations.exceptions import NotCancellable
from reservations.models import CancelledBy, Fulfilment, Reservation, ReservationStatus
from reservations.tests.factories import VariantFactory
from tests.concurrency import run_at_once

pytestmark = pytest.mark.django_db(transaction=True)


def reserve(variant, customer) -> Reservation:
    return services.reserve(
        customer_id=customer.pk,
        variant=variant,
        fulfilment=Fulfilment.COURIER,
        idempotency_key=uuid.uuid4(),
    )


def assert_fcfs(variant) -> int:
    """Stock of `variant` went exactly to its lowest holding positions; returns units out."""
    stock = sum(StockLot.objects.filter(variant=variant).values_list("quantity", flat=True))
    line = list(
        Reservation.objects.filter(
            variant=variant,
            status__in=[ReservationStatus.ACTIVE, ReservationStatus.ORDERED],
        )
        .order_by("position")
        .values_list("pk", flat=True)
    )
    active = Allocation.objects.filter(variant=variant, released_at__isnull=True)
    allocated = list(active.values_list("reservation_id", flat=True))
    n = min(stock, len(line))
    # No unit to two reservations, and no reservation with two units.
    assert len(allocated) == len(set(allocated))
    # No lot over its quantity.
    for lot in StockLot.objects.filter(variant=variant):
        assert active.filter(lot=lot).count() <= lot.quantity, lot.reference
    # No unit idle while someone waits, and every unit with the lowest positions.
    assert len(allocated) == n
    assert set(allocated) == set(line[:n])
    # No unit sits with a reservation that ended.
    assert not active.exclude(
        reservation__status__in=[ReservationStatus.ACTIVE, ReservationStatus.ORDERED]
    ).exists()
    return n


def assert_served_in_position_order(variant) -> None:
    """The history, not only the end state: of two reservations still holding, the earlier
    position got its first unit in the same run as the later one or before. (A unit given
    out of turn heals when the next unit arrives, so the end state alone rarely shows it.)
    Runs are serialised per variant, so allocation ids grow run by run; each run stamps its
    own allocated_at."""
    runs: dict[dt.datetime, int] = {}
    first: dict[int, tuple[int, dt.datetime]] = {}
    for pk, reservation_id, allocated_at in (
        Allocation.objects.filter(variant=variant)
        .order_by("pk")
        .values_list("pk", "reservation_id", "allocated_at")
    ):
        runs.setdefault(allocated_at, pk)
        first.setdefault(reservation_id, (pk, allocated_at))
    rank = {at: i for i, at in enumerate(sorted(runs, key=runs.__getitem__))}
    line = Reservation.objects.filter(
        variant=variant, status__in=[ReservationStatus.ACTIVE, ReservationStatus.ORDERED]
    ).order_by("position")
    served = [(r.position, rank[first[r.pk][1]] if r.pk in first else len(rank)) for r in line]
    inversions = [
        (earlier, later) for earlier, later in itertools.pairwise(served) if earlier[1] > later[1]
    ]
    assert inversions == [], "a later position was served in an earlier run"


@pytest.mark.parametrize("cancels", [0, 12], ids=["intake-only", "with-cancellations"])
def test_allocation_keeps_queue_order_while_reservations_keep_arriving(cancels):
    """Without cancellations a unit given out of turn could never be corrected, so that run
    is the sharp check of the in-flight rule; with them, freed units must still go to the
    next in line while intake goes on."""
    variant = VariantFactory()
    intake_threads, per_thread, allocators = 6, 25, 3
    customers = [CustomerFactory() for _ in range(intake_threads * per_thread)]
    for _ in range(10):  # a line already there when the first stock arrives
        reserve(variant, CustomerFactory())
    StockLotFactory(variant=variant, quantity=10, reference="WAVE-0")
    intake_done = threading.Event()
    intake_left = [intake_threads]
    counter_lock = threading.Lock()

    def intake(batch) -> list[int]:
        # Some requests commit a moment after drawing their position (more work in the
        # same transaction), so positions really do commit out of order.
        rng = random.Random(len(batch))
        made = []
        try:
            for customer in batch:
                with transaction.atomic():
                    made.append(reserve(variant, customer).pk)
                    time.sleep(rng.choice([0, 0.002, 0.005, 0.01]))
            return made
        finally:
            with counter_lock:
                intake_left[0] -= 1
                if intake_left[0] == 0:
                    intake_done.set()

    clock_lock, last_now = threading.Lock(), [timezone.now()]

    def unique_now() -> dt.datetime:
        # Each run stamps its allocations with its own time, so the runs can be told apart.
        with clock_lock:
            last_now[0] = max(timezone.now(), last_now[0] + dt.timedelta(microseconds=1))
            return last_now[0]

    def allocator() -> int:
        runs = 0
        while not intake_done.is_set():
            allocate_variant(variant=variant, now=unique_now())
            runs += 1
        return runs

    def stock_arrives() -> int:
        # Small lots keep arriving while the line grows: every lot is a moment where the
        # last free unit goes to the lowest waiting position, in flight or not.
        for n in range(60):
            StockLot.objects.create(
                variant=variant,
                quantity=1,
                arrives_at=timezone.now() - dt.timedelta(seconds=1),
                reference=f"DRIP-{n}",
            )
            time.sleep(0.002)
        return 60

    def canceller() -> list[int]:
        # Customers give up their places while intake and allocation go on: their units
        # must go to the next in line, never to later arrivals.
        rng = random.Random(4)
        cancelled: list[int] = []
        while not intake_done.is_set() and len(cancelled) < cancels:
            candidates = list(
                Reservation.objects.filter(variant=variant, status=ReservationStatus.ACTIVE)
                .order_by("position")
                .values_list("pk", flat=True)[:60]
            )
            if candidates:
                pick = Reservation.objects.get(pk=rng.choice(candidates))
                try:
                    services.cancel_reservation(reservation=pick, by=CancelledBy.CUSTOMER)
                    cancelled.append(pick.pk)
                except NotCancellable:
                    pass
            time.sleep(0.005)
        return cancelled

    batches = [customers[i::intake_threads] for i in range(intake_threads)]
    calls: list[Callable[[], object]] = [lambda b=b: intake(b) for b in batches]
    calls += [allocator] * allocators + [stock_arrives, canceller]

    results = run_at_once(calls, timeout=120)

    assert [r for r in results if isinstance(r, Exception)] == []
    made = [pk for r in results[:intake_threads] for pk in r]
    assert len(made) == len(set(made)) == len(customers)
    allocator_runs = results[intake_threads : intake_threads + allocators]
    assert all(runs > 0 for runs in allocator_runs), "an allocator never ran"
    cancelled = results[-1]
    assert len(cancelled) == cancels or (cancels and cancelled), "no cancellation happened"

    allocate_variant(variant=variant)  # once more, after everything settled
    assert assert_fcfs(variant) == 70
    assert_served_in_position_order(variant)
    # Every unit a cancelled reservation had was released as such.
    for allocation in Allocation.objects.filter(reservation__in=cancelled):
        assert allocation.release_reason == "reservation_ended"


def test_allocation_waits_for_an_earlier_position_still_in_flight():
    """A reservation whose INSERT has drawn its position but not committed makes allocation
    wait; a later position committed meanwhile does not get the unit in its place."""
    variant = VariantFactory()
    StockLotFactory(variant=variant, quantity=1)
    early_customer, late_customer = CustomerFactory(), CustomerFactory()
    drawn, commit_now = threading.Event(), threading.Event()
    allocation_done = threading.Event()
    outcome: dict[str, object] = {}

    def in_flight() -> None:
        try:
            with transaction.atomic():
                outcome["early"] = reserve(variant, early_customer)
                drawn.set()
                assert commit_now.wait(timeout=30), "never told to commit"
        except Exception as exc:
            outcome["in_flight_error"] = exc
        finally:
            drawn.set()
            connection.close()

    def allocate() -> None:
        try:
            outcome["result"] = allocate_variant(variant=variant)
        except Exception as exc:
            outcome["allocate_error"] = exc
        finally:
            allocation_done.set()
            connection.close()

    intake = threading.Thread(target=in_flight)
    intake.start()
    try:
        assert drawn.wait(timeout=30)
        assert "in_flight_error" not in outcome, outcome
        late = reserve(variant, late_customer)  # committed, with a later position
        assert late.position > outcome["early"].position
        assert not Reservation.objects.filter(pk=outcome["early"].pk).exists()  # in flight

        allocator = threading.Thread(target=allocate)
        allocator.start()
        # The allocation run must wait for the in-flight position, not pass over it.
        assert not allocation_done.wait(timeout=1.5), "allocation did not wait"
        assert not Allocation.objects.filter(variant=variant).exists()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                " AND classid = 1 AND objid = %s AND objsubid = 2",
                [variant.pk],
            )
            assert cursor.fetchone()[0] == 1  # the run queued on the variant's lock
    finally:
        commit_now.set()
        intake.join(timeout=30)
    assert allocation_done.wait(timeout=30)
    allocator.join(timeout=5)

    assert "allocate_error" not in outcome, outcome
    assert outcome["result"].allocated == 1
    early = outcome["early"]
    assert list(
        Allocation.objects.filter(variant=variant).values_list("reservation_id", flat=True)
    ) == [early.pk]
    assert late.pk != early.pk


def test_a_position_rolled_back_in_flight_leaves_the_unit_to_the_next():
    variant = VariantFactory()
    StockLotFactory(variant=variant, quantity=1)
    drawn, finish = threading.Event(), threading.Event()
    done = threading.Event()
    outcome: dict[str, object] = {}

    class Abandon(Exception):
        pass

    def in_flight() -> None:
        try:
            with transaction.atomic():
                reserve(variant, customer)
                drawn.set()
                finish.wait(timeout=30)
                raise Abandon()
        except Abandon:
            pass
        except Exception as exc:
            outcome["error"] = exc
        finally:
            drawn.set()
            connection.close()

    def allocate() -> None:
        try:
            outcome["result"] = allocate_variant(variant=variant)
        finally:
            done.set()
            connection.close()

    customer = CustomerFactory()
    intake = threading.Thread(target=in_flight)
    intake.start()
    try:
        assert drawn.wait(timeout=30)
        late = reserve(variant, CustomerFactory())
        allocator = threading.Thread(target=allocate)
        allocator.start()
        assert not done.wait(timeout=1.0), "allocation did not wait"
    finally:
        finish.set()
        intake.join(timeout=30)
    assert done.wait(timeout=30)
    allocator.join(timeout=5)

    assert "error" not in outcome, outcome
    assert outcome["result"].allocated == 1
    assert not Reservation.objects.filter(variant=variant).exclude(pk=late.pk).exists()
    assert list(Allocation.objects.values_list("reservation_id", flat=True)) == [late.pk]


# A cancel waits for a run in flight and releases the unit itself (fulfillment migration
# 0012, fulfillment/tests/test_cancel_release_concurrency.py); an expiry stays due.
def test_a_unit_given_as_its_reservation_expires_is_released_by_the_next_run():
    """Allocation reads the line before the reservation's end commits and gives it the
    unit; the end's own transaction cannot see that uncommitted unit. The end stays due, so
    the next run releases the unit and gives it to the next in line. (An expiry's UPDATE
    does not block allocation's foreign-key check.)"""
    variant = VariantFactory()
    deadline = variant.campaign.order_closes_at
    StockLotFactory(variant=variant, quantity=1)
    ends = reserve(variant, CustomerFactory())
    after = ordered_reservation(variant)  # still in line after the deadline
    updated, commit_now = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def end() -> None:
        try:
            with transaction.atomic():
                close_order_window(campaign=variant.campaign, now=deadline)
                updated.set()
                assert commit_now.wait(timeout=30)
        except Exception as exc:
            outcome["end_error"] = exc
        finally:
            updated.set()
            connection.close()

    def allocate() -> None:
        try:
            outcome["first"] = allocate_variant(variant=variant)
        except Exception as exc:
            outcome["allocate_error"] = exc
        finally:
            connection.close()

    ender = threading.Thread(target=end)
    ender.start()
    assert updated.wait(timeout=30)
    allocator = threading.Thread(target=allocate)
    allocator.start()
    allocator.join(timeout=1.0)  # an expiry lets it finish
    commit_now.set()
    ender.join(timeout=30)
    allocator.join(timeout=30)
    assert not ender.is_alive() and not allocator.is_alive()
    assert "end_error" not in outcome and "allocate_error" not in outcome, outcome

    assert outcome["first"].allocated == 1
    unit = Allocation.objects.get(reservation=ends)
    assert unit.released_at is None  # given in the run that could not see the end

    second = allocate_variant(variant=variant, now=deadline)

    assert (second.released, second.allocated) == (1, 1)
    unit.refresh_from_db()
    assert unit.release_reason == "order_deadline"
    assert list(
        Allocation.objects.filter(released_at__isnull=True).values_list(
            "reservation_id", flat=True
        )
    ) == [after.pk]


def test_an_idle_run_neither_waits_for_nor_takes_the_queue_lock():
    """With nothing to do, allocation does not queue behind intake in flight (or a long
    run) on the variant's lock, and so never pauses intake either."""
    variant = VariantFactory()
    StockLotFactory(variant=variant, quantity=2)
    for _ in range(3):
        reserve(variant, CustomerFactory())
    allocate_variant(variant=variant)  # the lot is used up; one reservation waits
    locked, release = threading.Event(), threading.Event()

    def hold_lock() -> None:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(1, %s)", [variant.pk])
                locked.set()
                release.wait(timeout=30)
        finally:
            locked.set()
            connection.close()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    try:
        assert locked.wait(timeout=30)
        started = time.monotonic()
        result = allocate_variant(variant=variant)
        campaign_results = allocate_campaign(campaign=variant.campaign)
        assert time.monotonic() - started < 1.0
    finally:
        release.set()
        holder.join(timeout=30)
    assert (result.released, result.allocated) == (0, 0)
    assert [(r.released, r.allocated) for r in campaign_results] == [(0, 0)]
