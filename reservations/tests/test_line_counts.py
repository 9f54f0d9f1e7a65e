"""Place in line and the line's total from the line's counters (reservations.lines, migration
0009): a place is exact at read time, the total exact as of its time, whatever mix of
arrivals, cancels, set-based expiries, deletions and refreshes came before."""

import datetime as dt

import pytest
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from preorder_shop.actors import Actor
from reservations import lines, selectors, tasks
from reservations.history import record_changes
from reservations.models import HOLDING_STATUSES, ChangedField, Reservation, ReservationStatus
from tests.pages import text

from .factories import CampaignFactory, ReservationFactory, VariantFactory
from .line_checks import (
    cancel,
    counted_upto,
    execute,
    expire_set_based,
    holding,
    naive_buckets,
    next_position_at,
    refreshed,
    skip_positions,
    stored_buckets,
    submit_order,
)

pytestmark = pytest.mark.django_db
B = lines.BUCKET


def assert_standings(variant, *, total_at_refresh: int | None) -> None:
    """Every holding reservation's place is its naive place; the total is the naive count of
    the last refresh (never below the place), or the live count before any refresh."""
    line = holding(variant)
    for place, reservation in enumerate(line, start=1):
        standing = selectors.queue_standing(reservation)
        if total_at_refresh is None:
            assert standing == selectors.QueueStanding(place=place, total=len(line))
        else:
            assert (standing.place, standing.total) == (place, max(total_at_refresh, place))
            assert standing.total_at is not None
    assert stored_buckets(variant) == naive_buckets(variant)


def test_without_a_count_the_standing_is_counted_live_in_one_query(
    django_assert_num_queries,
):
    variant = VariantFactory()
    line = [ReservationFactory(variant=variant) for _ in range(3)]
    assert counted_upto(variant) is None

    with django_assert_num_queries(1):
        standing = selectors.queue_standing(line[1])

    assert standing == selectors.QueueStanding(place=2, total=3, total_at=None)


def test_a_refreshed_total_carries_its_time_and_newcomers_are_last_in_it(
    django_assert_num_queries,
):
    variant = VariantFactory()
    line = [ReservationFactory(variant=variant) for _ in range(3)]
    before = timezone.now()

    assert lines.refresh_line_counts(variant_ids=[variant.pk]) == [variant.pk]

    with django_assert_num_queries(1):
        standing = selectors.queue_standing(line[2])
    assert (standing.place, standing.total) == (3, 3)
    assert before <= standing.total_at <= timezone.now()
    # Arrivals after the count: their place is exact, the total waits for the next refresh.
    newcomers = [ReservationFactory(variant=variant) for _ in range(2)]
    assert selectors.queue_standing(newcomers[1]) == selectors.QueueStanding(
        place=5, total=5, total_at=standing.total_at
    )
    assert selectors.queue_standing(line[0]).total == 3
    cancel(line[0])
    assert selectors.queue_standing(line[2]).place == 2
    assert selectors.queue_standing(newcomers[0]).place == 3

    lines.refresh_line_counts(variant_ids=[variant.pk])
    assert_standings(variant, total_at_refresh=4)


def test_a_refresh_with_nothing_new_changes_nothing():
    variant = VariantFactory()
    mine, leaving = ReservationFactory(variant=variant), ReservationFactory(variant=variant)
    lines.refresh_line_counts(variant_ids=[variant.pk])
    first = selectors.queue_standing(mine)

    assert lines.refresh_line_counts() == []
    assert lines.refresh_line_counts(variant_ids=[variant.pk]) == []
    assert selectors.queue_standing(mine) == first
    # One leaves, one arrives: the line is recounted to the same total, which keeps its time
    # (what a poller is shown does not change).
    cancel(leaving)
    ReservationFactory(variant=variant)
    assert lines.refresh_line_counts(variant_ids=[variant.pk]) == [variant.pk]
    assert selectors.queue_standing(mine) == first
    assert_standings(variant, total_at_refresh=2)
    assert selectors.queue_standing(mine).total_at == first.total_at


def test_bucket_boundaries():
    variant = VariantFactory()
    [(last,)] = execute("SELECT last_value FROM reservations_queue_position_seq")
    edge = (last // B + 2) * B  # a bucket's first position, k * B
    line = []
    for position in [edge - 1, edge, edge + 1, edge + B - 1, edge + B, edge + 2 * B]:
        next_position_at(position)
        line.append(ReservationFactory(variant=variant))
    positions = [r.position for r in line]
    assert positions == [edge - 1, edge, edge + 1, edge + B - 1, edge + B, edge + 2 * B]

    lines.refresh_line_counts(variant_ids=[variant.pk])
    k = edge // B
    assert stored_buckets(variant) == {k - 1: 1, k: 3, k + 1: 1, k + 2: 1}
    assert_standings(variant, total_at_refresh=6)
    for gone in [line[1], line[4]]:  # the first position of a bucket, twice
        cancel(gone)
        assert_standings(variant, total_at_refresh=6)
    expire_set_based(variant, up_to_position=edge + B - 1)  # the rest of three buckets
    assert_standings(variant, total_at_refresh=6)
    lines.refresh_line_counts(variant_ids=[variant.pk])
    assert_standings(variant, total_at_refresh=1)


def test_a_cancel_above_the_watermark_leaves_the_buckets_alone():
    variant = VariantFactory()
    counted = ReservationFactory(variant=variant)
    lines.refresh_line_counts(variant_ids=[variant.pk])
    skip_positions(B)
    newer = ReservationFactory(variant=variant)

    cancel(newer)

    assert stored_buckets(variant) == {counted.position // B: 1}
    assert_standings(variant, total_at_refresh=1)


def test_a_cancel_before_any_refresh_starts_the_count_at_zero():
    variant = VariantFactory()
    first, second = ReservationFactory(variant=variant), ReservationFactory(variant=variant)

    cancel(first)

    assert counted_upto(variant) == 0  # the cancel made the row the refresh will lock
    assert selectors.queue_standing(second) == selectors.QueueStanding(place=1, total=1)
    lines.refresh_line_counts(variant_ids=[variant.pk])
    assert_standings(variant, total_at_refresh=1)


def test_thousands_expired_by_one_statement_across_buckets():
    campaign = CampaignFactory()
    variant, other = VariantFactory(campaign=campaign), VariantFactory(campaign=campaign)
    customers = execute(
        "INSERT INTO preorder_shop_customer (phone, name, created_at)"
        " SELECT '+8210555' || lpad(i::text, 5, '0'), 'Bulk ' || i, now()"
        " FROM generate_series(1, 9000) AS i RETURNING id"
    )
    # Positions follow the rows; every third goes to the other variant, so both lines span
    # bucket boundaries with gaps.
    execute(
        "INSERT INTO reservations_reservation (campaign_id, variant_id, customer_id, fulfilment,"
        " number, slot, status, idempotency_key, created_at, cancelled_by)"
        " SELECT %s, CASE WHEN n %% 3 = 0 THEN %s ELSE %s END, c, 'courier',"
        " (10000000 + n)::text, 1, 'active', gen_random_uuid(), now(), ''"
        " FROM unnest(%s::bigint[]) WITH ORDINALITY AS u(c, n)",
        [campaign.pk, other.pk, variant.pk, [c for (c,) in customers]],
    )
    lines.refresh_line_counts(variant_ids=[variant.pk, other.pk])
    line = holding(variant)
    assert len(line) == 6000
    assert len(stored_buckets(variant)) >= 2

    ended = expire_set_based(variant, up_to_position=line[4500].position)
    cancelled = execute(  # and a set-based cancel of a few of both variants, one statement
        "UPDATE reservations_reservation SET status = 'cancelled', cancelled_at = now(),"
        " cancelled_by = 'staff' WHERE variant_id IN (%s, %s) AND status = 'active'"
        " AND position %% 7 = 0 RETURNING id",
        [variant.pk, other.pk],
    )
    record_changes(
        reservation_ids=[pk for (pk,) in cancelled],
        field=ChangedField.STATUS,
        from_value=ReservationStatus.ACTIVE,
        to_value=ReservationStatus.CANCELLED,
        actor=Actor.operator("test"),
        at=timezone.now(),
    )

    assert len(ended) == 4501
    for v in (variant, other):
        assert stored_buckets(v) == naive_buckets(v)
    remaining = holding(variant)
    assert selectors.queue_standing(remaining[-1]).place == len(remaining)
    assert selectors.queue_standing(remaining[0]).place == 1


def test_deleted_reservations_leave_the_line():
    variant = VariantFactory()
    line = [ReservationFactory(variant=variant) for _ in range(4)]
    lines.refresh_line_counts(variant_ids=[variant.pk])

    Reservation.objects.filter(pk__in=[line[0].pk, line[2].pk]).delete()

    assert stored_buckets(variant) == naive_buckets(variant)
    assert selectors.queue_standing(line[3]).place == 2


def test_truncating_the_reservations_empties_the_counts():
    variant = VariantFactory()
    ReservationFactory(variant=variant)
    lines.refresh_line_counts(variant_ids=[variant.pk])

    execute("SET CONSTRAINTS ALL IMMEDIATE")  # TRUNCATE refuses pending deferred checks
    execute("TRUNCATE reservations_reservation CASCADE")

    assert execute("SELECT count(*) FROM reservations_line_bucket") == [(0,)]
    assert execute("SELECT count(*) FROM reservations_line_count") == [(0,)]


def test_the_trigger_and_the_reads_use_the_same_bucket_size():
    [(body,)] = execute("SELECT prosrc FROM pg_proc WHERE proname = 'reservations_line_left'")
    assert f"l.p / {B} AS bucket" in body
    assert [s.value for s in HOLDING_STATUSES] == ["active", "ordered"]  # the SQL's literals


def test_beat_refreshes_every_ten_seconds_through_the_task():
    entry = settings.CELERY_BEAT_SCHEDULE["refresh-line-counts"]
    assert entry["task"] == "reservations.tasks.refresh_line_counts"
    assert entry["schedule"] == 10.0
    variant = VariantFactory()
    ReservationFactory(variant=variant)

    assert tasks.refresh_line_counts.apply().get() >= 1
    assert tasks.refresh_line_counts.apply().get() == 0
    assert counted_upto(variant) is not None


def test_the_page_says_when_the_total_was_counted(signed_in, customer):
    variant = VariantFactory(model_name="iPhone 15", capacity_gb=128, colour="Pink")
    ReservationFactory(variant=variant)
    mine = ReservationFactory(customer=customer, variant=variant)
    lines.refresh_line_counts(variant_ids=[variant.pk])
    at = timezone.localtime(selectors.queue_standing(mine).total_at)

    page = text(signed_in.get(reverse("orders:reservation_detail", args=[mine.number])))

    assert f"#2 of 2 for iPhone 15 128 GB Pink (total as of {at:%H:%M:%S})" in page


def test_the_total_time_reads_the_korean_way():
    reservation = ReservationFactory()
    at = dt.datetime(2026, 12, 2, 6, 4, 5, tzinfo=dt.UTC)  # 15:04:05 in Seoul
    standing = selectors.QueueStanding(place=1234, total=5678, total_at=at)

    with translation.override("ko"):
        rendered = render_to_string(
            "reservations/_standing.html", {"standing": standing, "reservation": reservation}
        )

    assert "1,234" in rendered and "5,678" in rendered
    assert "오후 3:04:05" in rendered


OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("reserve"), st.integers(0, 1)),
        st.tuples(st.just("cancel"), st.integers(0, 10_000)),
        st.tuples(st.just("order"), st.integers(0, 10_000)),
        st.tuples(st.just("expire"), st.integers(0, 1), st.integers(0, 10_000)),
        st.tuples(st.just("delete"), st.integers(0, 10_000)),
        st.tuples(st.just("skip"), st.integers(0, 2 * B)),
        st.tuples(st.just("refresh")),
    ),
    max_size=30,
)


@hypothesis_settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(operations=OPERATIONS)
def test_any_interleaving_keeps_places_exact_and_totals_as_of_the_refresh(operations):
    """Each example has its own two variants, so examples do not see each other's lines."""
    campaign = CampaignFactory()
    variants = [VariantFactory(campaign=campaign) for _ in range(2)]
    totals: dict[int, int | None] = {v.pk: None for v in variants}  # at the last refresh

    def pick(index: int, statuses) -> Reservation | None:
        rows = list(
            Reservation.objects.filter(variant__in=variants, status__in=statuses).order_by("pk")
        )
        return rows[index % len(rows)] if rows else None

    for operation in operations:
        match operation:
            case ("reserve", v):
                ReservationFactory(variant=variants[v])
            case ("cancel", i):
                if gone := pick(i, HOLDING_STATUSES):
                    cancel(gone)
            case ("order", i):
                if chosen := pick(i, [ReservationStatus.ACTIVE]):
                    submit_order(chosen)
            case ("expire", v, i):
                line = holding(variants[v])
                if line:
                    expire_set_based(variants[v], up_to_position=line[i % len(line)].position)
            case ("delete", i):
                # Only a reservation without history can go (its history is protected).
                unchanged = list(
                    Reservation.objects.filter(variant__in=variants, changes=None).order_by("pk")
                )
                if unchanged:
                    unchanged[i % len(unchanged)].delete()
            case ("skip", count):
                skip_positions(count)
            case ("refresh",):
                lines.refresh_line_counts(variant_ids=[v.pk for v in variants])
                for v in variants:
                    if refreshed(v):
                        totals[v.pk] = len(holding(v))
        for v in variants:
            assert_standings(v, total_at_refresh=totals[v.pk])
