"""FCFS allocation: units go to a variant's lowest waiting positions, oldest lot first, and the
database refuses anything else whoever writes."""

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from fulfillment import selectors
from fulfillment.models import Allocation, ReleaseReason, StockLot
from fulfillment.services.allocation import allocate_campaign, allocate_variant
from fulfillment.tests.factories import (
    StockLotFactory,
    active_units_by_lot,
    holders,
    ordered_reservation,
    reservations_in_line,
)
from orders.services import close_order_window
from preorder_shop.models import OutboxMessage
from reservations.models import CancelledBy, ReservationStatus
from reservations.services import cancel_reservation
from reservations.tests.factories import CampaignFactory, ReservationFactory, VariantFactory

pytestmark = pytest.mark.django_db


def ids(reservations) -> list[int]:
    return [r.pk for r in reservations]


def constraint_of(excinfo) -> str:
    return excinfo.value.__cause__.diag.constraint_name


def execute(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def raw_allocate(*, variant_id: int, reservation_id: int, lot_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO fulfillment_allocation
                   (variant_id, reservation_id, lot_id, allocated_at, released_at,
                    release_reason)
            VALUES (%s, %s, %s, now(), NULL, '')
            """,
            [variant_id, reservation_id, lot_id],
        )


# --- queue order ---------------------------------------------------------------------------


def test_units_go_to_the_lowest_positions_in_order():
    variant = VariantFactory()
    line = reservations_in_line(variant, 5)
    StockLotFactory(variant=variant, quantity=3)

    result = allocate_variant(variant=variant)

    assert (result.allocated, result.released) == (3, 0)
    assert holders(variant) == ids(line[:3])


def test_variants_are_independent():
    campaign = CampaignFactory()
    plenty, scarce, none = (VariantFactory(campaign=campaign) for _ in range(3))
    plenty_line = reservations_in_line(plenty, 2)
    scarce_line = reservations_in_line(scarce, 3)
    none_line = reservations_in_line(none, 2)
    StockLotFactory(variant=plenty, quantity=10)  # surplus never crosses to another variant
    StockLotFactory(variant=scarce, quantity=1)

    results = {r.variant.pk: r.allocated for r in allocate_campaign(campaign=campaign)}

    assert results == {plenty.pk: 2, scarce.pk: 1, none.pk: 0}
    assert holders(plenty) == ids(plenty_line)
    assert holders(scarce) == ids(scarce_line[:1])
    assert holders(none) == []
    assert not Allocation.objects.filter(reservation__in=none_line).exists()
    # Allocating one variant alone touches no other.
    StockLotFactory(variant=none, quantity=1)
    allocate_variant(variant=scarce)
    assert holders(none) == []
    allocate_variant(variant=none)
    assert holders(none) == ids(none_line[:1])
    assert holders(scarce) == ids(scarce_line[:1])


def test_lots_are_used_oldest_first_and_no_lot_gives_more_than_it_holds():
    variant = VariantFactory()
    line = reservations_in_line(variant, 7)
    now = timezone.now()
    newer = StockLotFactory(variant=variant, quantity=2, arrives_at=now - dt.timedelta(hours=1))
    older = StockLotFactory(variant=variant, quantity=3, arrives_at=now - dt.timedelta(days=3))

    allocate_variant(variant=variant)

    lot_of = dict(
        Allocation.objects.filter(variant=variant).values_list("reservation_id", "lot_id")
    )
    assert [lot_of.get(r.pk) for r in line] == [older.pk] * 3 + [newer.pk] * 2 + [None] * 2
    assert active_units_by_lot(variant) == {older.pk: 3, newer.pk: 2}


def test_a_second_run_allocates_nothing_new():
    variant = VariantFactory()
    reservations_in_line(variant, 4)
    StockLotFactory(variant=variant, quantity=2)
    allocate_variant(variant=variant)
    before = list(Allocation.objects.values_list("pk", "reservation_id", "lot_id", "released_at"))

    again = allocate_variant(variant=variant)

    assert (again.allocated, again.released) == (0, 0)
    after = list(Allocation.objects.values_list("pk", "reservation_id", "lot_id", "released_at"))
    assert after == before


def test_stock_arriving_later_goes_to_the_next_positions_once_it_arrives():
    variant = VariantFactory()
    line = reservations_in_line(variant, 5)
    StockLotFactory(variant=variant, quantity=1)
    later = StockLotFactory(variant=variant, quantity=2, arriving=True)

    allocate_variant(variant=variant)
    assert holders(variant) == ids(line[:1])  # the lot on its way gives nothing yet

    allocate_variant(variant=variant, now=later.arrives_at - dt.timedelta(seconds=1))
    assert holders(variant) == ids(line[:1])

    result = allocate_variant(variant=variant, now=later.arrives_at + dt.timedelta(minutes=1))
    assert result.allocated == 2
    assert holders(variant) == ids(line[:3])
    assert set(
        Allocation.objects.filter(reservation__in=line[1:3]).values_list("lot_id", flat=True)
    ) == {later.pk}


def test_a_cancelled_reservations_unit_goes_to_the_next_in_line_not_to_a_newcomer():
    variant = VariantFactory()
    first, second, third = reservations_in_line(variant, 3)
    StockLotFactory(variant=variant, quantity=2)
    allocate_variant(variant=variant)
    assert holders(variant) == [first.pk, second.pk]

    cancel_reservation(reservation=first, by=CancelledBy.CUSTOMER)
    newcomer = ReservationFactory(variant=variant)
    assert newcomer.position > third.position
    result = allocate_variant(variant=variant)

    # The cancel released the unit itself (migration 0012); the run hands it on.
    assert (result.released, result.allocated) == (0, 1)
    assert holders(variant) == [second.pk, third.pk]
    released = Allocation.objects.get(reservation=first)
    assert released.released_at is not None
    assert released.release_reason == ReleaseReason.RESERVATION_ENDED
    assert not Allocation.objects.filter(reservation=newcomer).exists()


def test_a_release_is_never_stamped_before_its_allocation():
    """A run whose clock is behind the one that allocated still records the release."""
    variant = VariantFactory()
    first, _second = reservations_in_line(variant, 2)
    lot = StockLotFactory(variant=variant, quantity=1, arriving=True)
    allocate_variant(variant=variant, now=lot.arrives_at)
    cancel_reservation(reservation=first, by=CancelledBy.CUSTOMER)

    result = allocate_variant(variant=variant, now=lot.arrives_at - dt.timedelta(hours=1))

    assert result.released == 0  # the cancel released it, dated before the allocation
    released = Allocation.objects.get(reservation=first)
    assert released.released_at == released.allocated_at


# --- the order-form deadline --------------------------------------------------------------


def test_at_the_order_form_deadline_units_held_without_an_order_go_to_the_next_ordered():
    variant = VariantFactory()
    campaign = variant.campaign
    ordered_1 = ordered_reservation(variant)
    no_form = ReservationFactory(variant=variant)
    ordered_2 = ordered_reservation(variant)
    no_form_later = ReservationFactory(variant=variant)
    ordered_3 = ordered_reservation(variant)
    StockLotFactory(variant=variant, quantity=2)

    allocate_variant(variant=variant)
    assert holders(variant) == [ordered_1.pk, no_form.pk]  # held for the order form
    held = selectors.stock_by_variant(campaign=campaign, now=timezone.now())[0]
    assert held.held_for_order_form == 1

    deadline = campaign.order_closes_at
    assert close_order_window(campaign=campaign, now=deadline) == 2
    no_form.refresh_from_db()
    assert no_form.status == ReservationStatus.EXPIRED
    # The customer is told when it happens.
    assert OutboxMessage.objects.filter(
        reference=f"reservation:{no_form.pk}", template_key="reservation.expired"
    ).exists()

    result = allocate_variant(variant=variant, now=deadline)

    assert (result.released, result.allocated) == (1, 1)
    assert holders(variant) == [ordered_1.pk, ordered_2.pk]
    released = Allocation.objects.get(reservation=no_form)
    assert released.release_reason == ReleaseReason.ORDER_DEADLINE
    assert released.released_at == deadline
    assert not Allocation.objects.filter(reservation__in=[no_form_later, ordered_3]).exists()


def test_after_the_deadline_a_reservation_about_to_expire_is_passed_over():
    """Before close_order_window has run, a unit still goes only to a submitted order: no
    customer is told "a phone is reserved for you" minutes before their reservation expires."""
    variant = VariantFactory()
    no_form = ReservationFactory(variant=variant)
    ordered = ordered_reservation(variant)
    StockLotFactory(variant=variant, quantity=1)
    after_deadline = variant.campaign.order_closes_at + dt.timedelta(minutes=1)

    allocate_variant(variant=variant, now=after_deadline)

    assert holders(variant) == [ordered.pk]
    assert not OutboxMessage.objects.filter(reference=f"reservation:{no_form.pk}").exists()
    row = selectors.stock_by_variant(campaign=variant.campaign, now=after_deadline)[0]
    assert (row.waiting, row.next_position) == (0, None)


# --- the database refuses -----------------------------------------------------------------


def test_the_database_refuses_an_oversold_lot():
    variant = VariantFactory()
    first, second, third = reservations_in_line(variant, 3)
    lot = StockLotFactory(variant=variant, quantity=2)

    with pytest.raises(IntegrityError) as excinfo, transaction.atomic():
        execute(
            """
            INSERT INTO fulfillment_allocation
                   (variant_id, reservation_id, lot_id, allocated_at, released_at,
                    release_reason)
            SELECT %s, r, %s, now(), NULL, '' FROM unnest(%s::bigint[]) AS r
            """,
            [variant.pk, lot.pk, [first.pk, second.pk, third.pk]],
        )
    assert constraint_of(excinfo) == "allocation_within_lot"

    allocate_variant(variant=variant)  # the lot is now full
    with pytest.raises(IntegrityError) as excinfo, transaction.atomic():
        raw_allocate(variant_id=variant.pk, reservation_id=third.pk, lot_id=lot.pk)
    assert constraint_of(excinfo) == "allocation_within_lot"
    assert active_units_by_lot(variant) == {lot.pk: 2}


def test_the_database_refuses_a_unit_across_variants():
    campaign = CampaignFactory()
    mine, other = VariantFactory(campaign=campaign), VariantFactory(campaign=campaign)
    stranger = ReservationFactory(variant=other)
    lot = StockLotFactory(variant=mine, quantity=5)

    for variant_id, constraint in [
        (mine.pk, "allocation_reservation_same_variant"),
        (other.pk, "allocation_lot_same_variant"),
    ]:
        with pytest.raises(IntegrityError) as excinfo, transaction.atomic():
            raw_allocate(variant_id=variant_id, reservation_id=stranger.pk, lot_id=lot.pk)
        assert constraint_of(excinfo) == constraint
    assert not Allocation.objects.exists()


def test_the_database_allows_an_allocation_only_to_be_released_once():
    variant = VariantFactory()
    first, second = reservations_in_line(variant, 2)
    StockLotFactory(variant=variant, quantity=1)
    allocate_variant(variant=variant)
    allocation = Allocation.objects.get(reservation=first)

    refused = [
        ("DELETE FROM fulfillment_allocation WHERE id = %s", [allocation.pk]),
        (
            "UPDATE fulfillment_allocation SET reservation_id = %s WHERE id = %s",
            [second.pk, allocation.pk],
        ),
        (
            "UPDATE fulfillment_allocation SET allocated_at = allocated_at - interval '1 day' "
            "WHERE id = %s",
            [allocation.pk],
        ),
    ]
    for sql, params in refused:
        with pytest.raises(IntegrityError) as excinfo, transaction.atomic():
            execute(sql, params)
        assert constraint_of(excinfo) == "allocation_release_only", sql

    cancel_reservation(reservation=first, by=CancelledBy.CUSTOMER)
    allocate_variant(variant=variant)
    for sql in [
        "UPDATE fulfillment_allocation SET released_at = NULL, release_reason = '' WHERE id = %s",
        "UPDATE fulfillment_allocation SET release_reason = 'order_deadline' WHERE id = %s",
        "DELETE FROM fulfillment_allocation WHERE id = %s",
    ]:
        with pytest.raises(IntegrityError) as excinfo, transaction.atomic():
            execute(sql, [allocation.pk])
        assert constraint_of(excinfo) == "allocation_release_only", sql
    allocation.refresh_from_db()
    assert allocation.release_reason == ReleaseReason.RESERVATION_ENDED


def test_the_database_refuses_two_active_allocations_for_one_reservation():
    variant = VariantFactory()
    (reservation,) = reservations_in_line(variant, 1)
    first_lot = StockLotFactory(variant=variant, quantity=2)
    second_lot = StockLotFactory(variant=variant, quantity=2)
    allocate_variant(variant=variant)

    for lot in (first_lot, second_lot):
        with pytest.raises(IntegrityError) as excinfo, transaction.atomic():
            raw_allocate(variant_id=variant.pk, reservation_id=reservation.pk, lot_id=lot.pk)
        assert constraint_of(excinfo) == "allocation_one_active_per_reservation"
    assert Allocation.objects.filter(reservation=reservation).count() == 1


# --- customers are told -------------------------------------------------------------------


def test_each_new_allocation_queues_one_message_and_a_rerun_queues_none():
    variant = VariantFactory()
    line = reservations_in_line(variant, 4)
    StockLotFactory(variant=variant, quantity=3)

    allocate_variant(variant=variant)

    messages = OutboxMessage.objects.filter(template_key="allocation.reserved")
    assert sorted(messages.values_list("reference", flat=True)) == sorted(
        f"reservation:{r.pk}" for r in line[:3]
    )
    message = messages.get(reference=f"reservation:{line[0].pk}")
    assert message.recipient == line[0].customer.phone
    assert message.payload["reservation_number"] == line[0].number
    assert message.payload["variant"] == str(variant)
    assert message.payload["ordered"] is False

    allocate_variant(variant=variant)
    allocate_campaign(campaign=variant.campaign)
    assert messages.count() == 3

    # A unit freed later is announced to its new holder only.
    cancel_reservation(reservation=line[0], by=CancelledBy.CUSTOMER)
    allocate_variant(variant=variant)
    assert messages.filter(reference=f"reservation:{line[3].pk}").count() == 1
    assert messages.count() == 4


# --- manage.py allocate ---------------------------------------------------------------------


def table_row(output: str, label: str) -> list[str]:
    (line,) = [line for line in output.splitlines() if line.startswith(label + " ")]
    return line[len(label) :].split()


def test_allocate_dry_run_prints_the_table_and_changes_nothing():
    variant = VariantFactory()
    line = reservations_in_line(variant, 3)
    StockLotFactory(variant=variant, quantity=2)
    messages_before = OutboxMessage.objects.count()
    out = io.StringIO()

    call_command("allocate", "--campaign", variant.campaign.slug, "--dry-run", stdout=out)

    output = out.getvalue()
    assert table_row(output, str(variant)) == ["2", "2", "2", "1", f"#{line[2].position:,}"]
    assert "would allocate 2 units" in output
    assert "dry run: nothing was changed" in output
    assert not Allocation.objects.exists()
    assert OutboxMessage.objects.count() == messages_before


def test_allocate_table_figures_match_the_data():
    campaign = CampaignFactory()
    busy, idle = VariantFactory(campaign=campaign), VariantFactory(campaign=campaign)
    first_ordered = ordered_reservation(busy)
    active_1, active_2 = reservations_in_line(busy, 2)
    next_ordered = ordered_reservation(busy)
    last_active = ReservationFactory(variant=busy)
    cancelled = ReservationFactory(variant=busy)
    cancel_reservation(reservation=cancelled, by=CancelledBy.CUSTOMER)
    StockLotFactory(variant=busy, quantity=2)
    StockLotFactory(variant=busy, quantity=1, arrives_at=timezone.now() - dt.timedelta(days=1))
    StockLotFactory(variant=busy, quantity=50, arriving=True)  # not counted yet
    idle_line = reservations_in_line(idle, 2)
    out = io.StringIO()

    call_command("allocate", "--campaign", campaign.slug, stdout=out)

    output = out.getvalue()
    # busy: 3 arrived, 3 allocated (first_ordered, active_1, active_2), 2 of them held for
    # the order form, 2 waiting (next_ordered, last_active), next in line next_ordered.
    assert holders(busy) == [first_ordered.pk, active_1.pk, active_2.pk]
    assert table_row(output, str(busy)) == ["3", "3", "2", "2", f"#{next_ordered.position:,}"]
    assert table_row(output, str(idle)) == ["0", "0", "0", "2", f"#{idle_line[0].position:,}"]
    assert "allocated 3 units, released 0." in output
    assert last_active.pk not in holders(busy)

    rows = {
        r.variant_id: r for r in selectors.stock_by_variant(campaign=campaign, now=timezone.now())
    }
    assert rows[busy.pk] == selectors.VariantStock(
        busy.pk, str(busy), 3, 3, 2, 2, next_ordered.position
    )
    assert StockLot.objects.filter(variant=busy).count() == 3


def test_allocate_refuses_an_unknown_campaign():
    with pytest.raises(CommandError, match="No campaign with slug 'nope'"):
        call_command("allocate", "--campaign", "nope", stdout=io.StringIO())
