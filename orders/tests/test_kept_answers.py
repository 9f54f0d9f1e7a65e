"""Kept answers (preorder_shop.kept_answers): a poll's last answer is served again, in one
statement and unrendered, until something it shows changes; never after. These tests
commit (transaction=True): inside one test transaction no kept answer ever stands, since
its own changes are never older than its snapshot."""

import datetime as dt
import threading
import time

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from fulfillment.services.holds import place_hold
from orders import status_load
from orders.models import Order, OrderStatus
from preorder_shop import kept_answers, tasks
from preorder_shop.models import ApiToken
from reservations.lines import refresh_line_counts
from reservations.models import Campaign
from reservations.tests.factories import ReservationFactory
from support.tests.notice_factories import notice
from tests.concurrency import InThread, execute

from .api import kept_answer_statements, status_reads, status_url, token_client
from .factories import PATH, give_unit, order_in, staff_user

pytestmark = pytest.mark.django_db(transaction=True)
S = OrderStatus


def counted(order):
    refresh_line_counts(variant_ids=[order.reservation.variant_id])
    return order


@pytest.fixture
def order():
    return counted(order_in(S.RECEIVED))


def poll(api, order, **headers):
    with CaptureQueriesContext(connection) as queries:
        response = api.get(status_url(order.number), **headers)
    return response, queries.captured_queries


def test_a_kept_answer_is_served_in_one_statement_without_reading_or_rendering(order, monkeypatch):
    api = token_client(order.reservation.customer)
    fresh, reads = poll(api, order)
    assert fresh.status_code == 200
    assert len(kept_answer_statements(reads)) == 2  # asked for one, kept this one

    def no_reading(**_kwargs):
        raise AssertionError("read afresh")

    monkeypatch.setattr(status_load, "by_token", no_reading)
    again, reads = poll(api, order)
    assert len(reads) == 1  # the token and the kept answer
    assert again.status_code == 200
    assert again.content == fresh.content  # byte for byte what was rendered
    for header in ("ETag", "Cache-Control", "Vary", "Poll-Interval", "Content-Type"):
        assert again[header] == fresh[header], header

    revalidated, reads = poll(api, order, HTTP_IF_NONE_MATCH=fresh["ETag"])
    assert revalidated.status_code == 304
    assert revalidated.content == b""
    assert revalidated["Poll-Interval"] == fresh["Poll-Interval"]
    assert len(reads) == 1


def test_a_304_read_afresh_keeps_the_etag_and_a_body_is_then_rendered_once(order):
    api = token_client(order.reservation.customer)
    etag = api.get(status_url(order.number))["ETag"]
    ReservationFactory(variant=order.reservation.variant)
    counted(order)  # the total moves: the kept answer ends (and the ETag with it)
    etag = api.get(status_url(order.number))["ETag"]
    Order.objects.filter(pk=order.pk).update(tracking_number="")  # marks, shows nothing new

    afresh, reads = poll(api, order, HTTP_IF_NONE_MATCH=etag)
    assert afresh.status_code == 304
    assert len(status_reads(reads)) == 1  # read afresh, kept without a body
    kept_304, reads = poll(api, order, HTTP_IF_NONE_MATCH=etag)
    assert (kept_304.status_code, len(reads)) == (304, 1)

    body, reads = poll(api, order)  # the body was never rendered: read and render once
    assert (body.status_code, body["ETag"], len(status_reads(reads))) == (200, etag, 1)
    again, reads = poll(api, order)
    assert (again.content, len(reads)) == (body.content, 1)


def test_a_kept_answer_is_kept_per_language(order):
    customer = order.reservation.customer
    english = token_client(customer, HTTP_ACCEPT_LANGUAGE="en")
    korean = token_client(customer, HTTP_ACCEPT_LANGUAGE="ko")
    assert english.get(status_url(order.number)).json()["status_label"] == "Received"
    assert korean.get(status_url(order.number)).json()["status_label"] != "Received"
    assert english.get(status_url(order.number)).json()["status_label"] == "Received"


def test_only_its_customer_with_a_live_token_gets_a_kept_answer(order):
    api = token_client(order.reservation.customer)
    assert api.get(status_url(order.number)).status_code == 200

    stranger = token_client(ReservationFactory().customer)
    theirs = stranger.get(status_url(order.number))
    unknown = stranger.get(status_url("12345678901"))
    assert theirs.status_code == unknown.status_code == 404
    assert theirs.content == unknown.content

    ApiToken.objects.filter(customer=order.reservation.customer).update(revoked_at=timezone.now())
    assert api.get(status_url(order.number)).status_code == 401


def kept_rows() -> int:
    return execute("SELECT count(*) FROM preorder_shop_kept_answer")[0][0]


def test_a_line_not_counted_yet_is_not_kept():
    """Its total is counted live on every poll, and someone joining behind marks nothing."""
    order = order_in(S.RECEIVED)
    api = token_client(order.reservation.customer)
    assert api.get(status_url(order.number)).json()["standing"]["total_at"] is None
    assert kept_rows() == 0
    counted(order)
    assert api.get(status_url(order.number)).json()["standing"]["total_at"] is not None
    assert kept_rows() == 1


def test_a_change_committed_while_the_answer_was_read_is_never_hidden_by_it(order):
    """The race a kept answer must not lose: a change (preparing starts) is made but not yet
    committed while a poll reads and keeps the old status; then it commits. The kept
    answer's snapshot (since) is older than the change's transaction, so the change's mark
    ends it, although the mark was written before the answer was kept."""
    give_unit(order.reservation)  # preparing needs one (fulfillment 0008)
    api = token_client(order.reservation.customer)
    made, release = threading.Event(), threading.Event()

    def prepare_and_wait():
        with transaction.atomic():
            moved = PATH[S.PREPARING][0](order)
            made.set()
            assert release.wait(30)
        return moved

    writer = InThread(prepare_and_wait)
    assert made.wait(30), "the change was never made"
    assert api.get(status_url(order.number)).json()["status"] == "received"
    assert kept_rows() == 1  # kept, with the old status
    release.set()
    assert writer.join().status == S.PREPARING

    assert api.get(status_url(order.number)).json()["status"] == "preparing"


def test_a_hold_ends_the_kept_answer(order):
    give_unit(order.reservation)
    api = token_client(order.reservation.customer)
    assert api.get(status_url(order.number)).json()["expected_delivery"]["on_hold"] is False
    place_hold(order=order, staff_user=staff_user("holder"), reason="address check")
    assert api.get(status_url(order.number)).json()["expected_delivery"]["on_hold"] is True


def wait_past(moment: dt.datetime) -> None:
    time.sleep(max(0.0, (moment - timezone.now()).total_seconds()) + 0.05)


def test_time_alone_ends_a_kept_answer_when_a_window_closes():
    """The order form window closes with no write: the reservation's answer was kept only
    until then (reservations.Campaign.next_moment)."""
    reservation = ReservationFactory()
    closes = timezone.now() + dt.timedelta(seconds=1.5)
    Campaign.objects.filter(pk=reservation.campaign_id).update(order_closes_at=closes)
    refresh_line_counts(variant_ids=[reservation.variant_id])
    api = token_client(reservation.customer)
    url = f"/api/v1/reservations/{reservation.number}"
    first = api.get(url).json()
    assert first["actions"]["write_order"] is True
    assert api.get(url).json() == first  # kept
    assert execute("SELECT kept_until FROM preorder_shop_kept_answer")[0][0] == closes

    wait_past(closes)
    after = api.get(url).json()
    assert after["actions"]["write_order"] is False
    assert after["actions"]["note"]


def test_time_alone_ends_a_kept_answer_when_a_notice_starts(order):
    starts = timezone.now() + dt.timedelta(seconds=1.5)
    notice(order.reservation.campaign, starts_at=starts)
    api = token_client(order.reservation.customer, HTTP_ACCEPT_LANGUAGE="ko")
    assert api.get(status_url(order.number)).json()["notices"] == []
    assert api.get(status_url(order.number)).json()["notices"] == []  # kept until it starts

    wait_past(starts)
    shown = api.get(status_url(order.number)).json()["notices"]
    assert [n["title"] for n in shown] == ["배송 지연 안내"]


def test_prune_forgets_old_answers_and_marks_only(order):
    api = token_client(order.reservation.customer)
    assert api.get(status_url(order.number)).status_code == 200
    marks = execute("SELECT count(*) FROM preorder_shop_change_mark")[0][0]
    assert marks > 0
    assert kept_answers.prune() == (0, 0)

    execute(
        "UPDATE preorder_shop_kept_answer SET made_at = now() - %s",
        [kept_answers.LIFETIME + dt.timedelta(seconds=1)],
    )
    execute(
        "UPDATE preorder_shop_change_mark SET at = now() - %s WHERE id IN"
        " (SELECT id FROM preorder_shop_change_mark ORDER BY id LIMIT 1)",
        [kept_answers.MARKS_KEPT],
    )
    assert tasks.prune_kept_answers() == (1, 1)  # beat runs it every 10 minutes
    assert execute("SELECT count(*) FROM preorder_shop_change_mark")[0][0] == marks - 1
    entry = settings.CELERY_BEAT_SCHEDULE["prune-kept-answers"]
    assert entry == {"task": "preorder_shop.tasks.prune_kept_answers", "schedule": 600.0}
