"""The triggers that mark changes for kept answers (preorder_shop migration 0010 and each
app's own): every write to what a status or reservation answer shows marks its scope, in
the writing transaction, whatever door it came through (here: the ORM, the services)."""

import pytest
from django.utils import timezone

from fulfillment.services.holds import place_hold
from orders.models import Order, OrderStatus
from orders.services import cancel_by_customer
from reservations.lines import refresh_line_counts
from reservations.models import Campaign, Variant
from reservations.tests.factories import ReservationFactory
from support.tests.notice_factories import notice
from tests.concurrency import execute

from .factories import PATH, give_unit, order_in, staff_user

pytestmark = pytest.mark.django_db
S = OrderStatus


def last_mark() -> int:
    return execute("SELECT coalesce(max(id), 0) FROM preorder_shop_change_mark")[0][0]


def marks_after(mark: int) -> set[tuple[str, int]]:
    rows = execute(
        "SELECT scope, scope_id FROM preorder_shop_change_mark WHERE id > %s"
        " AND xact = pg_current_xact_id()",
        [mark],
    )
    return set(rows)


CHANGES = {
    # what happens: (the change, the scopes it marks: r = the order's reservation,
    # v = its variant's line, g = everything)
    "an order written": (
        lambda o: Order.objects.filter(pk=o.pk).update(tracking_number="1"),
        {"r"},
    ),
    "an order moves on (its history)": (lambda o: PATH[S.PREPARING][0](o), {"r"}),
    "a unit is held": (lambda o: give_unit(o.reservation), {"r"}),
    "the order is put on hold": (
        lambda o: place_hold(order=o, staff_user=staff_user("holder"), reason="check"),
        {"r"},
    ),
    "the reservation leaves the line": (
        lambda o: cancel_by_customer(reservation=o.reservation, customer=o.reservation.customer),
        {"r", "v"},
    ),
    "a notice": (lambda o: notice(o.reservation.campaign), {"g"}),
    "the campaign is edited": (
        lambda o: Campaign.objects.filter(pk=o.reservation.campaign_id).update(
            order_closes_at=timezone.now()
        ),
        {"g"},
    ),
    "a variant is edited": (
        lambda o: Variant.objects.filter(pk=o.reservation.variant_id).update(colour="Blue"),
        {"g"},
    ),
    "the line's total is refreshed": (
        lambda o: (
            ReservationFactory(variant=o.reservation.variant),
            refresh_line_counts(variant_ids=[o.reservation.variant_id]),
        ),
        {"v"},
    ),
    "someone joins the line": (
        lambda o: ReservationFactory(variant=o.reservation.variant),
        set(),
    ),
}


@pytest.mark.parametrize("what", list(CHANGES))
def test_each_change_marks_what_it_changes(what):
    # A received order, or a draft where the customer may still give up the reservation.
    order = order_in(S.DRAFT if what == "the reservation leaves the line" else S.RECEIVED)
    refresh_line_counts(variant_ids=[order.reservation.variant_id])
    if what in ("an order moves on (its history)", "the order is put on hold"):
        give_unit(order.reservation)
    change, scopes = CHANGES[what]
    before = last_mark()
    change(order)

    ids = {"r": order.reservation_id, "v": order.reservation.variant_id, "g": 0}
    marked = marks_after(before)
    # Others may be marked too (a new reservation's own, a unit's lot): never fewer.
    assert {(scope, ids[scope]) for scope in scopes} <= marked, marked
    if not scopes:
        assert not {scope for scope, _id in marked} & {"v", "g"}, marked
        assert ("r", order.reservation_id) not in marked
