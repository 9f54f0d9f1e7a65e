"""Beat's allocation tick costs what changed: an idle tick changes nothing and asks one
question; a small change is handled exactly, from the bookkeeping of migration 0009 (due
releases, lot counters, the queue frontier), whoever wrote the change."""

import datetime as dt

import pytest
from django.db import connection, transaction
from django.utils import timezone

from fulfillment.models import Allocation, ReleaseReason
from fulfillment.services.allocation import allocate_campaign, allocate_variant
from fulfillment.tests.factories import (
    StockLotFactory,
    holders,
    ordered_reservation,
    reservations_in_line,
)
from preorder_shop.models import OutboxMessage
from reservations.models import Campaign, CancelledBy
from reservations.services import cancel_reservation
from reservations.tests.factories import CampaignFactory, ReservationFactory, VariantFactory

pytestmark = pytest.mark.django_db


def ids(reservations) -> list[int]:
    return [r.pk for r in reservations]


def snapshot() -> list[tuple]:
    return list(
        Allocation.objects.order_by("pk").values_list(
            "pk", "reservation_id", "lot_id", "released_at", "release_reason"
        )
    )


def fetch(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def test_an_idle_tick_changes_nothing_and_asks_one_question(django_assert_num_queries):
    campaign = CampaignFactory()
    full, short, empty = (VariantFactory(campaign=campaign) for _ in range(3))
    reservations_in_line(full, 3)
    StockLotFactory(variant=full, quantity=3)
    reservations_in_line(short, 4)  # a line and no free unit
    StockLotFactory(variant=short, quantity=2)
    StockLotFactory(variant=empty, quantity=5)  # free units and nobody waiting
    allocate_campaign(campaign=campaign)
    before, messages = snapshot(), OutboxMessage.objects.count()

    campaign = Campaign.objects.get(pk=campaign.pk)
    # The variants, then one query for all of them; no lock, no write, whatever the size.
    with django_assert_num_queries(2):
        results = allocate_campaign(campaign=campaign)

    assert [(r.released, r.allocated) for r in results] == [(0, 0)] * 3
    assert snapshot() == before
    assert OutboxMessage.objects.count() == messages


def test_one_cancellation_frees_one_unit_for_the_next_in_line_never_a_newcomer():
    variant = VariantFactory()
    line = reservations_in_line(variant, 5)
    StockLotFactory(variant=variant, quantity=3)
    allocate_variant(variant=variant)
    newcomer = ReservationFactory(variant=variant)

    cancel_reservation(reservation=line[1], by=CancelledBy.CUSTOMER)
    result = allocate_variant(variant=variant)

    assert (result.released, result.allocated) == (0, 1)  # released by the cancel itself
    assert holders(variant) == ids([line[0], line[2], line[3]])
    assert Allocation.objects.get(reservation=line[1]).release_reason == (
        ReleaseReason.RESERVATION_ENDED
    )
    assert not Allocation.objects.filter(reservation=newcomer).exists()
    assert OutboxMessage.objects.filter(
        template_key="allocation.reserved", reference=f"reservation:{line[3].pk}"
    ).exists()
    # Handled once: the next tick has nothing to release or give.
    assert fetch(
        "SELECT count(*) FROM fulfillment_release_due WHERE variant_id = %s", [variant.pk]
    ) == [(0,)]
    again = allocate_variant(variant=variant)
    assert (again.released, again.allocated) == (0, 0)


def test_a_staff_cancel_gives_the_unit_to_the_next_in_line_in_its_own_transaction():
    """What fulfillment.services.moves' staff cancel does: cancel, then allocate, nested in one
    transaction, which must see the release it just caused."""
    variant = VariantFactory()
    first, second, third = reservations_in_line(variant, 3)
    StockLotFactory(variant=variant, quantity=2)
    allocate_variant(variant=variant)
    now = timezone.now()

    with transaction.atomic():
        cancel_reservation(reservation=first, by=CancelledBy.CUSTOMER, now=now)
        result = allocate_variant(variant=variant, now=now)
        assert (result.released, result.allocated) == (0, 1)  # the cancel released it
        assert holders(variant) == [second.pk, third.pk]

    assert Allocation.objects.get(reservation=first).released_at == now


def test_a_unit_taken_from_a_reservation_still_in_line_goes_back_to_it_first():
    """Any writer may release a unit of a reservation that still holds its place (a raw
    UPDATE here): the frontier moves back below it, so it is served before later ones."""
    variant = VariantFactory()
    line = reservations_in_line(variant, 4)
    StockLotFactory(variant=variant, quantity=3)
    allocate_variant(variant=variant)

    Allocation.objects.filter(reservation=line[0]).update(
        released_at=timezone.now(), release_reason=ReleaseReason.RESERVATION_ENDED
    )
    result = allocate_variant(variant=variant)

    assert result.allocated == 1
    assert holders(variant) == ids(line[:3])
    assert not Allocation.objects.filter(reservation=line[3]).exists()


def test_moving_the_order_deadline_hides_nobody_below_the_frontier():
    """After the deadline, reservations without an order form are passed over; once the
    deadline moves later they are in line again, ahead of everyone after them."""
    variant = VariantFactory()
    campaign = variant.campaign
    no_form_1 = ReservationFactory(variant=variant)
    ordered_1 = ordered_reservation(variant)
    no_form_2 = ReservationFactory(variant=variant)
    ordered_2 = ordered_reservation(variant)
    ordered_3 = ordered_reservation(variant)
    after_deadline = campaign.order_closes_at + dt.timedelta(minutes=1)
    StockLotFactory(variant=variant, quantity=1)
    allocate_variant(variant=variant, now=after_deadline)
    StockLotFactory(variant=variant, quantity=1)
    allocate_variant(variant=variant, now=after_deadline)
    assert holders(variant) == [ordered_1.pk, ordered_2.pk]

    Campaign.objects.filter(pk=campaign.pk).update(
        order_closes_at=after_deadline + dt.timedelta(days=1)
    )
    variant.campaign.refresh_from_db()
    StockLotFactory(variant=variant, quantity=2)
    result = allocate_variant(variant=variant, now=after_deadline)

    assert result.allocated == 2
    assert holders(variant) == [no_form_1.pk, ordered_1.pk, no_form_2.pk, ordered_2.pk]
    assert not Allocation.objects.filter(reservation=ordered_3).exists()


def test_lot_counters_follow_every_writer_and_truncate():
    variant = VariantFactory()
    line = reservations_in_line(variant, 4)
    lot = StockLotFactory(variant=variant, quantity=3)

    def counted() -> list[tuple]:
        return fetch("SELECT active FROM fulfillment_lot_usage WHERE lot_id = %s", [lot.pk])

    allocate_variant(variant=variant)
    assert counted() == [(3,)]
    cancel_reservation(reservation=line[0], by=CancelledBy.CUSTOMER)
    allocate_variant(variant=variant)  # releases one and gives it to line[3]
    assert counted() == [(3,)]
    Allocation.objects.filter(reservation=line[1]).update(
        released_at=timezone.now(), release_reason=ReleaseReason.RESERVATION_ENDED
    )
    assert counted() == [(2,)]
    Allocation.objects.create(
        variant=variant, reservation=line[1], lot=lot, allocated_at=timezone.now()
    )
    assert counted() == [(3,)]

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE fulfillment_allocation")
    assert counted() == []
    allocate_variant(variant=variant)  # from the start of the line again
    assert holders(variant) == ids(line[1:])
    assert counted() == [(3,)]


def frontier(variant) -> int:
    rows = fetch(
        "SELECT position FROM fulfillment_allocation_frontier WHERE variant_id = %s", [variant.pk]
    )
    return rows[0][0] if rows else 0


def test_the_frontier_stops_just_below_the_first_reservation_without_a_unit():
    """So the next run reads the line from there, not over every unit already given."""
    variant = VariantFactory()
    line = reservations_in_line(variant, 5)
    StockLotFactory(variant=variant, quantity=3)
    allocate_variant(variant=variant)
    assert frontier(variant) == line[3].position - 1

    StockLotFactory(variant=variant, quantity=5)
    allocate_variant(variant=variant)
    assert frontier(variant) == line[4].position  # everyone holds a unit

    # After the deadline a reservation without an order form stops it, though passed over.
    no_form = ReservationFactory(variant=variant)
    ordered = ordered_reservation(variant)
    after_deadline = variant.campaign.order_closes_at + dt.timedelta(minutes=1)
    allocate_variant(variant=variant, now=after_deadline)
    assert holders(variant) == [*ids(line), ordered.pk]
    assert frontier(variant) == no_form.position - 1
