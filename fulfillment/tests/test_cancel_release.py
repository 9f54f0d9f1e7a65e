"""A cancelled reservation's unit is released in the cancel's own transaction (migration
0012), by every door that cancels, and the counters allocation relies on stay exact."""

import datetime as dt

import pytest
from django.db import connection, transaction
from django.utils import timezone

from fulfillment import audit
from fulfillment.models import Allocation, ReleaseReason
from fulfillment.panels import unit_reserved
from fulfillment.services.allocation import allocate_variant
from fulfillment.services.moves import cancel_by_staff
from fulfillment.tests.factories import (
    StockLotFactory,
    holders,
    ordered_reservation,
    reservations_in_line,
)
from orders.models import Order, OrderStatus
from orders.services import cancel_by_customer, open_draft
from orders.tests.factories import staff_user
from reservations.models import CancelledBy, ReservationStatus
from reservations.services import cancel_reservation
from reservations.tests.factories import VariantFactory

pytestmark = pytest.mark.django_db


def fetch(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def assert_counters_exact(variant) -> None:
    """The three tables of migration 0009 agree with the allocation rows, no cancelled
    reservation holds a unit, and the audit finds nothing."""
    assert (
        fetch(
            """
        SELECT l.id, coalesce(u.active, 0),
               (SELECT count(*) FROM fulfillment_allocation a
                 WHERE a.lot_id = l.id AND a.released_at IS NULL)
          FROM fulfillment_stocklot l LEFT JOIN fulfillment_lot_usage u ON u.lot_id = l.id
         WHERE l.variant_id = %s AND coalesce(u.active, 0) <> (
               SELECT count(*) FROM fulfillment_allocation a
                WHERE a.lot_id = l.id AND a.released_at IS NULL)
        """,
            [variant.pk],
        )
        == []
    )
    # Every holding reservation at or below the frontier holds a unit.
    assert (
        fetch(
            """
        SELECT r.id FROM reservations_reservation r
          JOIN fulfillment_allocation_frontier f ON f.variant_id = r.variant_id
         WHERE r.variant_id = %s AND r.status IN ('active', 'ordered')
           AND r.position <= f.position
           AND NOT EXISTS (SELECT 1 FROM fulfillment_allocation a
                            WHERE a.reservation_id = r.id AND a.released_at IS NULL)
        """,
            [variant.pk],
        )
        == []
    )
    assert not Allocation.objects.filter(
        variant=variant, released_at__isnull=True, reservation__status=ReservationStatus.CANCELLED
    ).exists()
    campaign = variant.campaign
    assert audit.fairness_report(campaign=campaign).is_fair
    assert audit.stock_exceptions(campaigns=[campaign]).count == 0


def active_units(lot) -> int:
    rows = fetch("SELECT active FROM fulfillment_lot_usage WHERE lot_id = %s", [lot.pk])
    return rows[0][0] if rows else 0


def test_a_cancel_releases_the_unit_before_it_commits():
    variant = VariantFactory()
    first, second, third = reservations_in_line(variant, 3)
    lot = StockLotFactory(variant=variant, quantity=2)
    allocate_variant(variant=variant)
    assert unit_reserved(reservation=first) == {}
    now = timezone.now()

    with transaction.atomic():
        cancel_reservation(reservation=first, by=CancelledBy.CUSTOMER, now=now)
        # Inside the cancel's own transaction already: nobody can read it otherwise.
        assert holders(variant) == [second.pk]
        assert active_units(lot) == 1

    unit = Allocation.objects.get(reservation=first)
    assert (unit.released_at, unit.release_reason) == (now, ReleaseReason.RESERVATION_ENDED)
    assert unit_reserved(reservation=first) is None
    assert_counters_exact(variant)

    # The next run gives the freed unit to the next in line, releasing nothing twice.
    result = allocate_variant(variant=variant)
    assert (result.released, result.allocated) == (0, 1)
    assert holders(variant) == [second.pk, third.pk]
    assert fetch(
        "SELECT count(*) FROM fulfillment_release_due WHERE variant_id = %s", [variant.pk]
    ) == [(0,)]
    assert_counters_exact(variant)


def test_a_release_is_never_stamped_before_its_allocation():
    variant = VariantFactory()
    (first,) = reservations_in_line(variant, 1)
    lot = StockLotFactory(variant=variant, quantity=1)
    allocate_variant(variant=variant, now=lot.arrives_at + dt.timedelta(hours=1))

    cancel_reservation(reservation=first, by=CancelledBy.CUSTOMER, now=lot.arrives_at)

    unit = Allocation.objects.get(reservation=first)
    assert unit.released_at == unit.allocated_at


def test_the_customer_cancel_of_a_received_order_releases_its_unit():
    variant = VariantFactory()
    ordered = ordered_reservation(variant)
    waiting = ordered_reservation(variant)
    StockLotFactory(variant=variant, quantity=1)
    allocate_variant(variant=variant)
    assert holders(variant) == [ordered.pk]

    cancel_by_customer(reservation=ordered, customer=ordered.customer)

    assert holders(variant) == []
    assert unit_reserved(reservation=ordered) is None
    assert_counters_exact(variant)
    allocate_variant(variant=variant)
    assert holders(variant) == [waiting.pk]
    assert_counters_exact(variant)


def test_cancelling_a_reservation_with_a_draft_releases_its_unit():
    variant = VariantFactory()
    first, second = reservations_in_line(variant, 2)
    StockLotFactory(variant=variant, quantity=1)
    allocate_variant(variant=variant)
    open_draft(reservation=first, customer=first.customer)

    cancel_by_customer(reservation=first, customer=first.customer)

    assert Order.objects.get(reservation=first).status == OrderStatus.DISCARDED
    assert holders(variant) == []
    allocate_variant(variant=variant)
    assert holders(variant) == [second.pk]
    assert_counters_exact(variant)


def test_the_staff_cancel_hands_the_unit_on_in_its_own_transaction():
    variant = VariantFactory()
    ordered = ordered_reservation(variant)
    waiting = ordered_reservation(variant)
    StockLotFactory(variant=variant, quantity=1)
    allocate_variant(variant=variant)
    order = Order.objects.get(reservation=ordered)

    with transaction.atomic():
        cancel_by_staff(order=order, staff_user=staff_user(), reason="customer asked by phone")
        assert holders(variant) == [waiting.pk]

    assert_counters_exact(variant)


def test_an_ended_reservation_updated_again_releases_nothing_twice():
    variant = VariantFactory()
    (first,) = reservations_in_line(variant, 1)
    StockLotFactory(variant=variant, quantity=1)
    allocate_variant(variant=variant)
    cancel_reservation(reservation=first, by=CancelledBy.CUSTOMER)
    released_at = Allocation.objects.get(reservation=first).released_at

    with connection.cursor() as cursor:  # a later UPDATE of the cancelled row
        cursor.execute(
            "UPDATE reservations_reservation SET status = status WHERE id = %s", [first.pk]
        )

    assert Allocation.objects.get(reservation=first).released_at == released_at
    assert_counters_exact(variant)
