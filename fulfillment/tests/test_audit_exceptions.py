"""The audit sees what the doors should have refused: an order past received without a unit,
a lot or variant with more orders past received than units, a staff move past a ready order
without a recorded queue exception. The doors and the database refuse all three now, so
each test makes the database wrong itself, by raw SQL with the guarding trigger disabled
inside the test's transaction (which rolls back), and checks the report, fairness_report's
exit status and output, and both admin pages. A recorded QueueException justifies the same
inversion; open hold alerts show on the stuck-orders page."""

import datetime as dt
import re
from contextlib import contextmanager

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from fulfillment import audit
from fulfillment.audit import Justification as J
from fulfillment.models import (
    Allocation,
    CourierEvent,
    CourierEventKind,
    CourierEventSource,
    HoldAlert,
    QueueException,
    StockLot,
)
from fulfillment.services import holds, moves
from orders import services
from orders.models import OrderStatus
from orders.tests.factories import order_in, staff_user
from preorder_shop.tests.factories import CustomerFactory
from reservations.tests.factories import CampaignFactory, VariantFactory

from .test_audit import at, in_line, make_staff, pairs, pos, prepare, report_of, run_report

pytestmark = pytest.mark.django_db

S = OrderStatus


@pytest.fixture
def campaign():
    return CampaignFactory()


@pytest.fixture
def variant(campaign):
    return VariantFactory(campaign=campaign)


@contextmanager
def disabled(table: str, trigger: str):
    """The trigger off for the block, inside the test's transaction: what a broken door, a
    hand-made UPDATE or a restored dump could have done."""
    with connection.cursor() as cursor:
        # ALTER TABLE waits for no deferred check of the table: run those now (they pass,
        # each move has its history row), then defer them again as they were.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}")
        try:
            yield
        finally:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def force_preparing(order, minutes: float, *, by_staff: bool = True) -> None:
    """received -> preparing by raw SQL, with its history row (staff, or a worker), and no
    QueueException: whatever the doors would have said. The history row goes first, so the
    move passes its check even when constraints run at once (`disabled`)."""
    user = staff_user() if by_staff else None
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO orders_ordertransition"
            " (order_id, from_status, to_status, at, actor_kind, actor_user_id, actor_label,"
            "  reason)"
            " VALUES (%s, 'received', 'preparing', %s, %s, %s, %s, 'moved by hand')",
            [
                order.pk,
                at(minutes),
                "staff" if user else "worker",
                user.pk if user else None,
                "" if user else "rogue-worker",
            ],
        )
        cursor.execute(
            "UPDATE orders_order SET status = 'preparing', preparing_at = %(t)s,"
            " updated_at = greatest(updated_at, %(t)s) WHERE id = %(id)s",
            {"t": at(minutes), "id": order.pk},
        )


def force_shipped(order, minutes: float) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE orders_order SET status = 'shipped', shipped_at = %(t)s, courier = 'CJ',"
            " tracking_number = 'T' || id, updated_at = greatest(updated_at, %(t)s)"
            " WHERE id = %(id)s",
            {"t": at(minutes), "id": order.pk},
        )
        cursor.execute(
            "INSERT INTO orders_ordertransition"
            " (order_id, from_status, to_status, at, actor_kind, actor_label, reason)"
            " VALUES (%s, 'preparing', 'shipped', %s, 'courier', 'CJ', '')",
            [order.pk, at(minutes)],
        )


def without_unit_preparing(order, minutes: float) -> None:
    with disabled("orders_order", "order_preparing_needs_unit"):
        force_preparing(order, minutes)


def lot_of(variant, quantity: int, *, arrives: float = -60, reference: str = "LOT-A"):
    return StockLot.objects.create(
        variant=variant, quantity=quantity, arrives_at=at(arrives), reference=reference
    )


def unit(order, lot, minutes: float = 0) -> Allocation:
    return Allocation.objects.create(
        variant=lot.variant, reservation=order.reservation, lot=lot, allocated_at=at(minutes)
    )


def admin_pages(client, campaign) -> tuple[str, str]:
    make_staff(client, ["view_allocation"])
    fairness = client.get(reverse("admin:fulfillment_fairness"), {"campaign": campaign.slug})
    stuck = client.get(reverse("admin:fulfillment_stuck_orders"), {"campaign": campaign.slug})
    assert fairness.status_code == stuck.status_code == 200
    return fairness.content.decode(), stuck.content.decode()


def rows(page: str, css: str) -> list[str]:
    return re.findall(rf'class="{css}" data-order="(\d+)"', page)


def table(page: str, table_id: str) -> str:
    found = re.search(rf'<table id="{table_id}">.*?</table>', page, re.S)
    return text_of(found.group(0)) if found else ""


def text_of(fragment: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment))


# An order past received without a unit.


def test_an_order_shipped_without_a_unit_is_an_exception_everywhere(client, campaign, variant):
    """The issue's database: 2 units, 2 active allocations, 3 shipped orders. Every move was
    in queue order, so no inversion hides it: the unit check must find it on its own."""
    lot = lot_of(variant, 2)
    a, b = in_line(variant, unit=None), in_line(variant, unit=None)
    c = in_line(variant, unit=None)
    unit(a, lot)
    unit(b, lot)
    prepare(a, 10)
    prepare(b, 10)
    without_unit_preparing(c, 12)
    for order in (a, b, c):
        force_shipped(order, 20)

    report = report_of(campaign)

    assert not report.is_fair
    assert report.unexplained_orders == 0
    [missing] = report.stock.without_unit
    assert report.stock.without_unit_count == 1
    assert (missing.order_number, missing.status, missing.position) == (
        c.number,
        S.SHIPPED,
        pos(c),
    )
    assert (missing.preparing_at, missing.unit_allocated_at) == (at(12), None)
    assert report.stock.lots == []  # the lot gave out its 2 units, no more
    [short] = report.stock.variants
    assert (short.variant, short.at, short.orders, short.units) == (str(variant), at(12), 3, 2)

    status, output = run_report("--campaign", campaign.slug)
    assert status == 1
    assert "1 order(s) past received without a unit" in output
    assert "1 variant(s) with more orders moved than units arrived" in output
    assert "overtaken without a recorded reason" not in output  # every move was in order
    assert "Unexplained inversions" not in output
    [line] = [line for line in output.splitlines() if c.number in line]
    assert line.split()[-1] == "none"

    fairness, stuck = admin_pages(client, campaign)
    for page in (fairness, stuck):
        assert rows(page, "without-unit") == [c.number]
        assert "#" + str(pos(c)) + " " + str(variant) + " Shipped" in table(
            page, "audit-without-unit"
        )
        assert "1 order moved past “received” without holding a unit of its variant." in text_of(
            page
        )
        assert table(page, "audit-oversold-variants").split()[-2:] == ["3", "2"]
    assert "No unexplained inversion" not in fairness
    assert "overtaken without a recorded reason" not in fairness


def test_a_unit_given_only_after_the_move_still_counts_as_missing(campaign, variant):
    lot = lot_of(variant, 5)
    early = in_line(variant, unit=None)
    late = in_line(variant, unit=None)
    unit(early, lot, 5)
    prepare(early, 10)
    without_unit_preparing(late, 12)
    unit(late, lot, 15)  # an allocation run gives it one afterwards

    [missing] = report_of(campaign).stock.without_unit

    assert (missing.order_number, missing.unit_allocated_at) == (late.number, at(15))


def test_a_released_unit_is_no_unit(campaign, variant):
    lot = lot_of(variant, 5)
    order = in_line(variant, unit=None)
    unit(order, lot, 5)
    prepare(order, 10)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE fulfillment_allocation SET released_at = %s,"
            " release_reason = 'reservation_ended' WHERE reservation_id = %s",
            [at(15), order.reservation_id],
        )

    report = report_of(campaign)

    assert [m.order_number for m in report.stock.without_unit] == [order.number]
    assert not report.is_fair


def test_show_0_lists_none_but_still_counts_and_fails(campaign, variant):
    without_unit_preparing(in_line(variant, unit=None), 10)

    status, output = run_report("--campaign", campaign.slug, "--show", "0")

    assert status == 1
    assert "1 order(s) past received without a unit" in output
    assert audit.fairness_report(campaign=campaign, limit=0).stock.without_unit_count == 1


# More orders past received than units.


def test_a_lot_with_more_orders_past_received_than_units(client, campaign, variant):
    lot = lot_of(variant, 2, reference="W1-SEOUL")
    orders = [in_line(variant, unit=None) for _ in range(3)]
    with disabled("fulfillment_allocation", "allocation_guard"):
        for order in orders:
            unit(order, lot)
    for order in orders:
        prepare(order, 10)  # each holds a unit: the order trigger lets them all through

    report = report_of(campaign)

    assert not report.is_fair
    assert report.stock.without_unit == []
    [oversold] = report.stock.lots
    assert (oversold.reference, oversold.variant) == ("W1-SEOUL", str(variant))
    assert (oversold.quantity, oversold.given, oversold.past_received) == (2, 3, 3)
    [short] = report.stock.variants
    assert (short.orders, short.units) == (3, 2)

    status, output = run_report("--campaign", campaign.slug)
    assert status == 1
    assert "1 lot(s) with more units given out than they hold" in output
    [line] = [line for line in output.splitlines() if line.startswith("W1-SEOUL")]
    assert line.split()[-3:] == ["2", "3", "3"]

    fairness, stuck = admin_pages(client, campaign)
    for page in (fairness, stuck):
        lots = table(page, "audit-oversold-lots")
        assert "W1-SEOUL" in lots and lots.split()[-3:] == ["2", "3", "3"]


def test_units_given_out_but_not_moved_yet_oversell_the_lot_too(campaign, variant):
    """A lot that gave out more units than it has is oversold before anyone ships: some
    customer was promised a phone that does not exist."""
    lot = lot_of(variant, 1)
    orders = [in_line(variant, unit=None), in_line(variant, unit=None)]
    with disabled("fulfillment_allocation", "allocation_guard"):
        for order in orders:
            unit(order, lot)

    report = report_of(campaign)

    [oversold] = report.stock.lots
    assert (oversold.given, oversold.past_received) == (2, 0)
    assert report.stock.variants == []  # nothing moved past received
    assert not report.is_fair


def test_units_count_from_their_arrival_on_the_rows_own_timeline(campaign, variant):
    """A unit counts from its lot's arrival: moving before the lot arrived is overselling;
    a lot arriving at that very instant, or one still in the future for the wall clock but
    before the move (a simulated launch day), is not."""
    first = lot_of(variant, 1, arrives=10, reference="AT-THE-INSTANT")
    later = lot_of(variant, 1, arrives=30, reference="LATER")
    a, b = in_line(variant, unit=None), in_line(variant, unit=None)
    unit(a, first, 10)
    prepare(a, 10)
    unit(b, later, 0)  # allocation gives only arrived units; no guard checks it
    prepare(b, 20)  # before its lot arrived

    [short] = report_of(campaign).stock.variants

    assert (short.at, short.orders, short.units) == (at(20), 2, 1)


def test_a_lot_arriving_in_the_wall_clock_future_covers_a_move_after_it(campaign, variant):
    future = timezone.now() + dt.timedelta(days=2)
    lot = StockLot.objects.create(variant=variant, quantity=1, arrives_at=future, reference="F")
    order = in_line(variant, unit=None)
    Allocation.objects.create(
        variant=variant, reservation=order.reservation, lot=lot, allocated_at=future
    )
    services.transition(
        order=order,
        to=S.PREPARING,
        actor=services.Actor.worker("simulated-launch"),
        now=future + dt.timedelta(minutes=1),
    )

    assert report_of(campaign).is_fair


# Staff moves out of queue order.


def test_a_staff_move_past_a_ready_order_without_a_recorded_exception(client, campaign, variant):
    a = in_line(variant)  # submitted, with its unit, not held: ready and waiting
    b = in_line(variant)
    force_preparing(b, 10)  # by staff, past a, and no QueueException

    report = report_of(campaign)

    assert not report.is_fair
    assert pairs(report) == [("preparing", pos(a), pos(b))]
    assert report.unexplained[0].later_by == "Staff ops"
    assert report.variants[0].justified[J.QUEUE_EXCEPTION] == 0
    [stuck] = audit.stuck_orders(campaigns=[campaign])
    assert (stuck.order_id, stuck.unexplained, stuck.reasons) == (a.pk, True, [])

    status, output = run_report("--campaign", campaign.slug)
    assert status == 1
    assert "1 order(s) overtaken without a recorded reason" in output
    [line] = [line for line in output.splitlines() if b.number in line]
    assert line.endswith("Staff ops")

    fairness, stuck_page = admin_pages(client, campaign)
    assert "1 order overtaken without a recorded reason." in text_of(fairness)
    assert "Staff ops" in table(fairness, "fairness-unexplained")
    assert rows(stuck_page, "stuck-order") == [a.number]
    assert "Unexplained: passed while it was ready to move" in table(stuck_page, "stuck-orders")


def test_a_worker_move_out_of_order_names_the_worker(campaign, variant):
    in_line(variant)
    force_preparing(in_line(variant), 10, by_staff=False)

    [pair] = report_of(campaign).unexplained

    assert pair.later_by == "Fulfilment worker rogue-worker"


def test_a_recorded_queue_exception_justifies_the_same_move(client, campaign, variant):
    a = in_line(variant)
    b = in_line(variant)
    force_preparing(b, 10)
    QueueException.objects.create(
        order=b,
        passed_position=pos(a),
        passed_count=1,
        reason="Replacement for a phone lost in transit",
        staff_user=staff_user(),
        at=at(10),
    )

    report = report_of(campaign)

    assert report.is_fair
    [row] = report.variants
    assert (row.overtaken, row.unexplained) == (1, 0)
    assert {k: n for k, n in row.justified.items() if n} == {J.QUEUE_EXCEPTION: 1}
    assert [q.order_id for q in report.queue_exceptions] == [b.pk]
    [stuck] = audit.stuck_orders(campaigns=[campaign])
    assert (stuck.unexplained, stuck.reasons) == (False, [J.QUEUE_EXCEPTION])

    status, output = run_report("--campaign", campaign.slug)
    assert status == 0
    assert "Replacement for a phone lost in transit" in output
    header, line = output.splitlines()[1:3]
    assert header.split()[-2:] == ["exception", "unexplained"]
    assert line.split()[-2:] == ["1", "0"]

    fairness, stuck_page = admin_pages(client, campaign)
    assert rows(fairness, "queue-exception") == [b.number]
    assert "Replacement for a phone lost in transit" in table(
        fairness, "fairness-queue-exceptions"
    )
    assert "Staff exception with a recorded reason" in table(fairness, "fairness-summary")
    assert "No unexplained inversion and no order without a unit" in fairness
    assert rows(stuck_page, "stuck-order") == [a.number]
    assert "Staff exception with a recorded reason" in table(stuck_page, "stuck-orders")
    assert "Unexplained" not in table(stuck_page, "stuck-orders")


def test_the_door_records_the_exception_the_audit_accepts(campaign, variant):
    a = in_line(variant)
    b = in_line(variant)
    moves.start_preparing(
        order=b,
        actor=services.Actor.staff(staff_user()),
        reason="VIP replacement",
        now=at(10),
    )

    report = report_of(campaign)

    assert report.is_fair
    assert report.variants[0].justified[J.QUEUE_EXCEPTION] == 1
    [recorded] = report.queue_exceptions
    assert (recorded.passed_position, recorded.passed_count) == (pos(a), 1)


def test_an_exception_covers_only_the_positions_it_says_it_passed(campaign, variant):
    a, b = in_line(variant), in_line(variant)
    c = in_line(variant)
    force_preparing(c, 10)
    QueueException.objects.create(  # says it passed b only; a was ready too
        order=c,
        passed_position=pos(b),
        passed_count=1,
        reason="r",
        staff_user=staff_user(),
        at=at(10),
    )

    report = report_of(campaign)

    assert pairs(report) == [("preparing", pos(a), pos(c))]
    [row] = report.variants
    assert (row.unexplained, row.justified[J.QUEUE_EXCEPTION]) == (1, 1)


def test_an_exception_excuses_its_own_move_not_a_later_one(campaign, variant):
    a = in_line(variant)
    b, c = in_line(variant), in_line(variant)
    force_preparing(c, 10)
    QueueException.objects.create(
        order=c,
        passed_position=pos(a),
        passed_count=2,
        reason="r",
        staff_user=staff_user(),
        at=at(10),
    )
    prepare(b, 20)  # b passes a, still waiting, with no exception of its own

    report = report_of(campaign)

    assert pairs(report) == [("preparing", pos(a), pos(b))]
    [row] = report.variants
    # a: passed by c (justified) and by b (unexplained); b: passed by c (justified).
    assert (row.overtaken, row.unexplained, row.justified[J.QUEUE_EXCEPTION]) == (2, 1, 2)


# Hold alerts.


def test_open_hold_alerts_show_on_the_stuck_page_masked(client, campaign, variant):
    ops = staff_user()
    customer = CustomerFactory(phone="+821055501234", name="김철수")
    order = order_in(S.PREPARING, reservation__variant=variant, reservation__customer=customer)
    hold = holds.place_hold(order=order, staff_user=ops, reason="Card flagged by the bank")
    event = CourierEvent.objects.create(
        order=order,
        kind=CourierEventKind.HANDED_OVER,
        courier="CJ",
        tracking_number="556677889900",
        occurred_at=timezone.now(),
        source=CourierEventSource.WEBHOOK,
        external_id="evt-1",
    )
    HoldAlert.objects.create(hold=hold, courier_event=event, raised_at=timezone.now())
    done = order_in(S.PREPARING, reservation__variant=variant)
    done_hold = holds.place_hold(order=done, staff_user=ops, reason="Already dealt with")
    done_event = CourierEvent.objects.create(
        order=done,
        kind=CourierEventKind.HANDED_OVER,
        courier="CJ",
        tracking_number="1",
        occurred_at=timezone.now(),
        source=CourierEventSource.WEBHOOK,
        external_id="evt-2",
    )
    HoldAlert.objects.create(
        hold=done_hold,
        courier_event=done_event,
        raised_at=timezone.now(),
        resolved_by=ops,
        resolved_at=timezone.now(),
    )

    _, stuck = admin_pages(client, campaign)

    assert rows(stuck, "hold-alert") == [order.number]
    alerts = table(stuck, "hold-alerts")
    assert "Card flagged by the bank" in alerts
    assert "Handed to the courier" in alerts and "556677889900" in alerts
    assert str(customer) in alerts
    assert "김철수" not in stuck and "55501234" not in stuck


def test_no_hold_alerts(client, campaign, variant):
    _, stuck = admin_pages(client, campaign)

    assert "No open hold alerts." in stuck
    assert rows(stuck, "without-unit") == []
