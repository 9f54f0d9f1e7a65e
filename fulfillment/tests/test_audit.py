"""The fairness audit: finds every later position that reached preparing or shipped before an
earlier one of the same variant, tells justified from unexplained (and why), ignores ties;
`fairness_report` and the admin pages show the same; the stuck-orders view lists exactly the
received orders a later position passed, oldest first, with masked customers."""

import datetime as dt
import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone

from fulfillment import audit
from fulfillment.audit import Justification as J
from fulfillment.models import Allocation, ReleaseReason, StockLot
from fulfillment.services import holds
from orders import services
from orders.models import Order, OrderStatus
from orders.tests.factories import DraftFactory, complete_answers, staff_user
from preorder_shop.tests.factories import CustomerFactory
from reservations.tests.factories import (
    CampaignFactory,
    ReservationFactory,
    VariantFactory,
    expire,
)
from tests.admin_client import sign_in_to_admin
from tests.pages import text

pytestmark = pytest.mark.django_db

S = OrderStatus
# Test campaigns opened their order window a day ago; every instant below lies inside it.
T0 = timezone.now().replace(microsecond=0) - dt.timedelta(hours=20)


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


@pytest.fixture
def campaign():
    return CampaignFactory()


@pytest.fixture
def variant(campaign):
    return VariantFactory(campaign=campaign)


def in_line(
    variant, *, submitted: float | None = 0, unit: float | None = 0, **reservation_kwargs
) -> Order:
    """The next position of `variant`: its order form submitted at `submitted` minutes (None:
    a draft only) and a unit allocated at `unit` minutes (None: no unit)."""
    reservation = ReservationFactory(variant=variant, **reservation_kwargs)
    order = DraftFactory(reservation=reservation)
    if submitted is not None:
        order = services.submit_order(
            order=order,
            customer=reservation.customer,
            values=complete_answers(order),
            now=at(submitted),
        )
    if unit is not None:
        allocate(order, at(unit))
    return order


def allocate(order: Order, when: dt.datetime, released: dt.datetime | None = None) -> None:
    variant = order.reservation.variant
    lot, _ = StockLot.objects.get_or_create(
        variant=variant,
        reference="AUDIT-1",
        defaults={"quantity": 1000, "arrives_at": at(-60)},
    )
    Allocation.objects.create(
        variant=variant,
        reservation=order.reservation,
        lot=lot,
        allocated_at=when,
        released_at=released,
        release_reason=ReleaseReason.RESERVATION_ENDED if released else "",
    )


def prepare(order: Order, minutes: float) -> Order:
    return services.transition(
        order=order, to=S.PREPARING, actor=services.Actor.worker("audit-test"), now=at(minutes)
    )


def ship(order: Order, minutes: float) -> Order:
    return services.transition(
        order=order,
        to=S.SHIPPED,
        actor=services.Actor.courier("test-courier"),
        courier="CJ",
        tracking_number=f"T{order.pk:011d}",
        now=at(minutes),
    )


def report_of(campaign, limit=None) -> audit.FairnessReport:
    return audit.fairness_report(campaign=campaign, limit=limit)


def only_variant(report) -> audit.VariantFairness:
    [row] = report.variants
    return row


def justified(row) -> dict[str, int]:
    return {reason: n for reason, n in row.justified.items() if n}


def pairs(report) -> list[tuple[str, int, int]]:
    return [(p.stage, p.earlier_position, p.later_position) for p in report.unexplained]


def pos(order: Order) -> int:
    return order.reservation.position


# What the audit finds.


def test_queue_order_and_ties_are_fair(campaign, variant):
    a, b, c, d = (in_line(variant) for _ in range(4))
    prepare(a, 10)
    prepare(b, 20)
    prepare(c, 20)  # one batch: c and d at the same instant, d before c in the loop
    prepare(d, 20)
    ship(a, 30)
    ship(d, 40)  # ties again at the shipped stage: c and b both at 40
    ship(b, 40)
    ship(c, 40)

    report = report_of(campaign)

    assert report.is_fair
    row = only_variant(report)
    assert (row.positions, row.overtaken, row.unexplained) == (4, 0, 0)
    assert justified(row) == {}


def test_a_later_position_preparing_first_is_an_unexplained_inversion(campaign, variant):
    a = in_line(variant)
    b = in_line(variant)
    c = in_line(variant)
    prepare(b, 10)  # b passes a, which was submitted and had its unit
    prepare(a, 20)
    prepare(c, 30)

    report = report_of(campaign)

    assert not report.is_fair
    row = only_variant(report)
    assert (row.overtaken, row.unexplained) == (1, 1)
    [pair] = report.unexplained
    assert (pair.stage, pair.earlier_position, pair.later_position) == (
        "preparing",
        pos(a),
        pos(b),
    )
    assert (pair.earlier_order, pair.later_order) == (a.number, b.number)
    assert (pair.earlier_at, pair.later_at) == (at(20), at(10))
    assert pair.variant == str(variant)


def test_an_order_left_behind_is_passed_by_every_later_one(campaign, variant):
    a = in_line(variant)
    others = [in_line(variant) for _ in range(3)]
    for minutes, order in enumerate(others, start=1):
        prepare(order, minutes)

    report = report_of(campaign)

    assert pairs(report) == [("preparing", pos(a), pos(o)) for o in others]
    assert report.unexplained[0].earlier_at is None  # a has not reached preparing at all
    assert report.unexplained[0].earlier_status == S.RECEIVED
    assert only_variant(report).unexplained == 1


def test_shipping_out_of_order_is_an_inversion_too(campaign, variant):
    a = in_line(variant)
    b = in_line(variant)
    prepare(a, 10)
    prepare(b, 10)
    ship(b, 20)
    ship(a, 30)

    report = report_of(campaign)

    assert pairs(report) == [("shipped", pos(a), pos(b))]


def test_late_order_form_justifies_until_submission(campaign, variant):
    a = in_line(variant, submitted=None)  # a writes its form only later
    b = in_line(variant)
    c = in_line(variant)
    prepare(b, 10)  # before a submitted: justified
    a = services.submit_order(
        order=a, customer=a.reservation.customer, values=complete_answers(a), now=at(15)
    )
    prepare(a, 20)
    prepare(c, 20)

    report = report_of(campaign)

    assert report.is_fair
    row = only_variant(report)
    assert row.overtaken == 1
    assert justified(row) == {J.LATE_SUBMISSION: 1}


def test_submitting_at_the_very_instant_is_not_late(campaign, variant):
    a = in_line(variant, submitted=10)
    b = in_line(variant)
    prepare(b, 10)  # a was submitted at that instant: a should have gone first

    report = report_of(campaign)

    assert pairs(report) == [("preparing", pos(a), pos(b))]
    assert justified(only_variant(report)) == {}


def test_a_form_never_submitted_justifies_every_inversion(campaign, variant):
    in_line(variant, submitted=None, unit=None)  # a draft only
    ReservationFactory(variant=variant)  # no order form at all
    later = [in_line(variant) for _ in range(2)]
    for order in later:
        prepare(order, 10)

    row = only_variant(report_of(campaign))

    assert (row.positions, row.overtaken, row.unexplained) == (4, 2, 0)
    assert justified(row) == {J.LATE_SUBMISSION: 2}


def test_a_hold_justifies_only_while_it_is_active(campaign, variant):
    ops = staff_user()
    a = in_line(variant)
    b = in_line(variant)
    c = in_line(variant)
    holds.place_hold(order=a, staff_user=ops, reason="Address check", now=at(5))
    prepare(b, 10)  # a on hold: justified
    holds.release_hold(order=a, staff_user=ops, now=at(15))
    prepare(c, 20)  # hold released, a still waiting: unexplained

    report = report_of(campaign)

    row = only_variant(report)
    assert justified(row) == {J.ON_HOLD: 1}
    assert (row.overtaken, row.unexplained) == (1, 1)
    assert pairs(report) == [("preparing", pos(a), pos(c))]


def test_hold_boundaries(campaign, variant):
    ops = staff_user()
    a = in_line(variant)
    b = in_line(variant)
    c = in_line(variant)
    holds.place_hold(order=a, staff_user=ops, reason="Fraud check", now=at(10))
    prepare(b, 10)  # placed at that very instant: the hold counts
    holds.release_hold(order=a, staff_user=ops, now=at(20))
    prepare(c, 20)  # released at that very instant: it no longer does

    report = report_of(campaign)

    assert justified(only_variant(report)) == {J.ON_HOLD: 1}
    assert pairs(report) == [("preparing", pos(a), pos(c))]


def test_cancellation_justifies(campaign, variant):
    cancelled = in_line(variant)
    services.transition(order=cancelled, to=S.CANCELLED, actor=services.Actor.customer())
    discarded = in_line(variant, submitted=None, unit=None)
    services.discard_draft(order=discarded, customer=discarded.reservation.customer)
    expired = ReservationFactory(variant=variant)
    expire(expired)
    b = in_line(variant)
    prepare(b, 10)
    ship(b, 20)

    report = report_of(campaign)

    assert report.is_fair
    row = only_variant(report)
    assert (row.positions, row.overtaken) == (4, 3)
    # Cancellation comes first: the discarded draft was never submitted either.
    assert justified(row) == {J.CANCELLED: 3}


def test_no_unit_justifies_until_one_is_allocated(campaign, variant):
    a = in_line(variant, unit=None)
    b = in_line(variant)
    c = in_line(variant)
    prepare(b, 10)  # a had no unit yet: justified
    allocate(a, at(15))
    prepare(c, 20)  # a had its unit: unexplained

    report = report_of(campaign)

    row = only_variant(report)
    assert justified(row) == {J.NO_UNIT: 1}
    assert pairs(report) == [("preparing", pos(a), pos(c))]


def test_a_released_unit_is_no_unit(campaign, variant):
    a = in_line(variant, unit=None)
    allocate(a, at(0), released=at(5))
    b = in_line(variant)
    prepare(b, 10)

    assert justified(only_variant(report_of(campaign))) == {J.NO_UNIT: 1}


def test_each_inversion_of_one_order_is_classified_on_its_own(campaign, variant):
    ops = staff_user()
    a = in_line(variant, submitted=15, unit=None)
    b, c, d, e = (in_line(variant) for _ in range(4))
    prepare(b, 10)  # not submitted yet
    allocate(a, at(16))
    holds.place_hold(order=a, staff_user=ops, reason="Call the customer", now=at(18))
    prepare(c, 20)  # on hold
    holds.release_hold(order=a, staff_user=ops, now=at(25))
    prepare(d, 30)  # unexplained
    prepare(a, 40)
    prepare(e, 40)  # tie

    report = report_of(campaign)

    row = only_variant(report)
    assert row.overtaken == 1
    assert justified(row) == {J.LATE_SUBMISSION: 1, J.ON_HOLD: 1}
    assert pairs(report) == [("preparing", pos(a), pos(d))]


def test_variants_are_independent(campaign, variant):
    other = VariantFactory(campaign=campaign)
    a = in_line(variant)
    b = in_line(other)
    prepare(b, 10)  # a later position, but of another variant
    prepare(a, 20)

    report = report_of(campaign)

    assert report.is_fair
    assert [row.overtaken for row in report.variants] == [0, 0]


def test_other_campaigns_are_not_audited(campaign, variant):
    elsewhere = VariantFactory()
    a = in_line(elsewhere)
    b = in_line(elsewhere)
    prepare(b, 10)
    prepare(a, 20)

    assert report_of(campaign).is_fair
    assert not report_of(elsewhere.campaign).is_fair


def test_the_audit_can_run_twice_in_one_transaction(campaign, variant):
    a = in_line(variant)
    b = in_line(variant)
    prepare(b, 10)

    first = report_of(campaign)
    second = report_of(campaign)

    assert first.unexplained == second.unexplained
    assert len(audit.stuck_orders(campaigns=[campaign])) == 1
    assert pairs(first) == [("preparing", pos(a), pos(b))]


def test_limit_lists_the_first_pairs_but_counts_them_all(campaign, variant):
    in_line(variant)
    for minutes in range(1, 6):
        prepare(in_line(variant), minutes)

    report = report_of(campaign, limit=2)

    assert only_variant(report).unexplained == 1  # one order, passed by all five
    assert len(report.unexplained) == 2
    assert report.more_unexplained
    assert not report_of(campaign, limit=5).more_unexplained
    assert len(report_of(campaign, limit=None).unexplained) == 5


# fairness_report


def run_report(*args: str) -> tuple[int, str]:
    """Run the command; return the exit status manage.py would give (a CommandError's
    returncode; run_from_argv itself would close the test's connection) and the output."""
    out = io.StringIO()
    try:
        call_command("fairness_report", *args, stdout=out)
    except CommandError as exc:
        return exc.returncode, out.getvalue() + str(exc)
    return 0, out.getvalue()


def test_fairness_report_exits_1_and_lists_unexplained_pairs(campaign, variant):
    a = in_line(variant)
    b = in_line(variant)
    prepare(b, 10)

    status, output = run_report("--campaign", campaign.slug, "--show", "5")

    assert status == 1
    assert str(variant) in output
    assert "overtaken without a recorded reason" in output
    assert a.number in output and b.number in output
    assert f"#{pos(a)}" in output and f"#{pos(b)}" in output


def test_fairness_report_exits_0_when_every_inversion_is_justified(campaign, variant):
    a = in_line(variant, submitted=20)
    b = in_line(variant)
    prepare(b, 10)
    prepare(a, 30)

    status, output = run_report("--campaign", campaign.slug)

    assert status == 0
    assert "No unexplained inversion" in output
    header, row = output.splitlines()[1:3]
    assert header.split()[:3] == ["variant", "positions", "overtaken"]
    assert row.split()[-9:] == ["2", "1", "1", "0", "0", "0", "0", "0", "0"]


def test_fairness_report_show_0_still_fails(campaign, variant):
    in_line(variant)
    prepare(in_line(variant), 10)

    with pytest.raises(CommandError) as raised:
        call_command("fairness_report", campaign=campaign.slug, show=0, stdout=io.StringIO())

    assert raised.value.returncode == 1


def test_fairness_report_unknown_campaign():
    with pytest.raises(CommandError, match="No campaign"):
        call_command("fairness_report", campaign="nope", stdout=io.StringIO())


# Admin pages


def make_staff(client, codenames: list[str]):
    user = get_user_model().objects.create_user("auditor", password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    sign_in_to_admin(client, get_user_model().objects.get(pk=user.pk))
    return client


def test_fairness_page_shows_the_summary_and_pairs(client, campaign, variant):
    a = in_line(variant)
    b = in_line(variant)
    prepare(b, 10)
    make_staff(client, ["view_allocation"])

    response = client.get(reverse("admin:fulfillment_fairness"), {"campaign": campaign.slug})

    assert response.status_code == 200
    page = text(response)
    assert str(variant) in page
    assert "1 order overtaken without a recorded reason." in page
    assert a.number in page and b.number in page


def test_fairness_page_needs_view_allocation(client, campaign):
    make_staff(client, ["view_stocklot"])

    assert client.get(reverse("admin:fulfillment_fairness")).status_code == 403
    assert client.get(reverse("admin:fulfillment_stuck_orders")).status_code == 403


def test_fulfillment_index_links_to_the_audit_pages(client, campaign):
    make_staff(client, ["view_allocation"])

    page = client.get(reverse("admin:app_list", args=["fulfillment"])).content.decode()

    assert reverse("admin:fulfillment_fairness") in page
    assert reverse("admin:fulfillment_stuck_orders") in page


def stuck_numbers(response) -> list[str]:
    return re.findall(r'class="stuck-order" data-order="(\d+)"', response.content.decode())


def test_stuck_orders_lists_exactly_the_overtaken_received_orders_oldest_first(
    client, campaign, variant
):
    ops = staff_user()
    customer = CustomerFactory(phone="+821098765432", name="홍길동")
    # In line: a (submitted at 5, stuck), held (stuck but justified), late (submitted after
    # every later move: not stuck), done (prepared in order), then the movers.
    a = in_line(variant, submitted=5, customer=customer)
    held = in_line(variant, submitted=2)
    holds.place_hold(order=held, staff_user=ops, reason="ID check", now=at(3))
    late = in_line(variant, submitted=None)
    no_unit = in_line(variant, submitted=1, unit=None)
    done = in_line(variant)
    prepare(done, 8)
    movers = [in_line(variant) for _ in range(2)]
    prepare(movers[0], 10)
    prepare(movers[1], 12)
    services.submit_order(
        order=late, customer=late.reservation.customer, values=complete_answers(late), now=at(13)
    )
    in_line(variant)  # waiting behind everyone: not overtaken
    other_variant = VariantFactory(campaign=campaign)
    prepare(in_line(other_variant), 9)
    make_staff(client, ["view_allocation"])

    response = client.get(reverse("admin:fulfillment_stuck_orders"), {"campaign": campaign.slug})

    assert response.status_code == 200
    # Oldest submission first: no_unit (1), held (2), a (5).
    assert stuck_numbers(response) == [no_unit.number, held.number, a.number]
    page = text(response)
    assert "홍길동" not in page and "98765432" not in page
    assert str(customer) in page  # masked, as Customer.__str__ shows it
    assert "ID check" in page
    assert "No unit allocated" in page
    assert page.count("Unexplained: passed while it was ready to move") == 1


def test_stuck_orders_empty(client, campaign, variant):
    for minutes in (1, 2):
        prepare(in_line(variant), minutes)
    make_staff(client, ["view_allocation"])

    response = client.get(reverse("admin:fulfillment_stuck_orders"), {"campaign": campaign.slug})

    assert stuck_numbers(response) == []
    assert "No stuck orders." in text(response)


def test_a_dawn_order_waiting_for_its_embargo_is_overtaken_with_a_reason():
    """Courier parcels may leave the day before launch, dawn ones only at 18:00: a later
    courier position shipped first is justified, not unexplained."""
    import datetime as dt

    from django.utils import timezone

    from fulfillment.audit import Justification, fairness_report
    from fulfillment.services.embargo import embargo_lifts_at
    from orders import services
    from orders.models import OrderStatus
    from orders.tests.factories import order_in
    from reservations.tests.factories import CampaignFactory, ReservationFactory, VariantFactory

    campaign = CampaignFactory(before_launch=True)
    variant = VariantFactory(campaign=campaign)
    dawn = order_in(
        OrderStatus.PREPARING, reservation=ReservationFactory(variant=variant, fulfilment="dawn")
    )
    courier = order_in(
        OrderStatus.PREPARING,
        reservation=ReservationFactory(variant=variant, fulfilment="courier"),
    )
    courier_from = embargo_lifts_at(courier.reservation, OrderStatus.SHIPPED)
    dawn_from = embargo_lifts_at(dawn.reservation, OrderStatus.SHIPPED)
    assert courier_from < dawn_from
    services.transition(
        order=courier,
        to=OrderStatus.SHIPPED,
        actor=services.Actor.courier("c"),
        courier="CJ",
        tracking_number="1",
        now=courier_from + dt.timedelta(hours=1),
    )
    services.transition(
        order=dawn,
        to=OrderStatus.SHIPPED,
        actor=services.Actor.courier("c"),
        courier="CJ",
        tracking_number="2",
        now=dawn_from,
    )
    assert timezone.localtime(dawn_from).hour == 18

    report = fairness_report(campaign=campaign)
    [row] = report.variants
    assert row.overtaken == 1
    assert row.justified[Justification.NOT_READY] == 1
    assert row.unexplained == 0
    assert report.is_fair
