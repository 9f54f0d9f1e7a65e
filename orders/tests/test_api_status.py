"""GET /api/v1/orders/{number}: the order page's status for the app, as a conditional GET.

In every state the API says what the page says (status, timeline, next step, actions); a
matching If-None-Match is a 304 without rendering; foreign and unknown numbers are the same
404; a token that is revoked or expired is a 401."""

import datetime as dt
import html
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from orders import selectors
from orders.api.schemas import actions_out
from orders.models import OrderStatus
from preorder_shop import ratelimit
from preorder_shop.customer_session import SESSION_KEY
from preorder_shop.models import ApiToken
from reservations.tests.factories import ReservationFactory
from tests.pages import text

from .api import kept_answer_statements, status_reads, status_url, token_client
from .factories import give_unit, order_in

pytestmark = pytest.mark.django_db
S = OrderStatus
STATES = [
    S.DRAFT,
    S.RECEIVED,
    S.PREPARING,
    S.SHIPPED,
    S.DELIVERED,
    S.CANCELLED,
    S.DISCARDED,
    S.EXPIRED,
]


def signed_in(client, customer):
    session = client.session
    session[SESSION_KEY] = customer.pk
    session.save()
    return client


def at_ms(stamp: str) -> dt.datetime:
    """To the millisecond: JSON carries milliseconds, the page's datetime attribute more."""
    moment = dt.datetime.fromisoformat(stamp)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def page_status(page: str) -> dict:
    """What the order page's status partial shows, read back from its HTML."""
    label = re.search(r'data-testid="order-status"><strong>([^<]+)</strong>', page)
    next_step = re.search(r'data-testid="next-step">([^<]+)</p>', page)
    return {
        "status_label": html.unescape(label.group(1)),
        "next_step": html.unescape(next_step.group(1)),
        "timeline": [
            (html.unescape(lbl), at_ms(at))
            for lbl, at in re.findall(r'<li><span>([^<]+)</span> <time datetime="([^"]+)">', page)
        ],
        "cancel": 'data-testid="cancel-order"' in page,
    }


@pytest.mark.parametrize("state", STATES)
def test_the_api_and_the_pages_agree_in_every_state(client, state):
    reservation = ReservationFactory()
    order = order_in(state, reservation=reservation)
    customer = reservation.customer
    reservation.refresh_from_db()
    # The page's own selector: the buttons every page and the API show.
    actions = actions_out(selectors.customer_actions(reservation, now=timezone.now()))

    if order.number is None:
        # A form never submitted has no order number: no order page and no API status
        # address it. Its actions are the reservation page's buttons, and the status facts
        # (what the API would answer) carry the same ones.
        facts = selectors.status_facts(order)
        assert actions == {**facts.actions.__dict__}
        page = signed_in(client, customer).get(
            reverse("orders:reservation_detail", args=[reservation.number])
        )
        body = page.content.decode()
        assert ('data-testid="write-order"' in body) == actions["write_order"]
        assert ("Continue order form" in text(page)) == actions["resume_draft"]
        assert ('data-testid="cancel-reservation"' in body) == actions["cancel"]
        return

    api = token_client(customer)
    with CaptureQueriesContext(connection) as poll:
        data = api.get(status_url(order.number)).json()
    # One statement reads the status in every state: nothing it shows is left to a deferred
    # load (the poll reads only status_load.POLL_ORDER_FIELDS of the order). The others ask
    # for a kept answer (none stands inside this test's one transaction) and keep this one.
    reads = status_reads(poll)
    assert len(reads) == 1, [sql[:80] for sql in reads]
    assert len(kept_answer_statements(poll)) in (1, 2)
    page = signed_in(client, customer).get(reverse("orders:order_detail", args=[order.number]))
    shown = page_status(page.content.decode())

    assert data["status"] == state
    assert data["status_label"] == shown["status_label"]
    assert data["next_step"] == shown["next_step"]
    assert [(s["label"], at_ms(s["at"])) for s in data["timeline"]] == shown["timeline"]
    assert [s["status"] for s in data["timeline"]][-1] == state
    assert data["actions"] == actions
    assert data["actions"]["cancel"] == shown["cancel"]


# Conditional GET.


@pytest.fixture
def order():
    return order_in(S.RECEIVED)


@pytest.fixture
def api(order):
    return token_client(order.reservation.customer, HTTP_ACCEPT_LANGUAGE="en")


def test_a_200_carries_its_validator_caching_headers_and_poll_interval(api, order):
    response = api.get(status_url(order.number))

    assert response.status_code == 200
    assert re.fullmatch(r'"[0-9a-f]{32}"', response["ETag"])
    assert response["Cache-Control"] == "private, no-cache"
    vary = {v.strip() for v in response["Vary"].split(",")}
    assert {"Authorization", "Accept-Language"} <= vary
    assert response["Poll-Interval"] == "25"
    assert response.json()["poll_interval"] == 25


@pytest.mark.parametrize(
    "header",
    [
        "{etag}",
        "W/{etag}",
        '"0000", {etag}',
        '"0000",W/{etag} , "1111"',
        "*",
    ],
)
def test_a_matching_if_none_match_is_a_304_without_a_body(api, order, header):
    etag = api.get(status_url(order.number))["ETag"]

    response = api.get(status_url(order.number), HTTP_IF_NONE_MATCH=header.format(etag=etag))

    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag
    assert response["Cache-Control"] == "private, no-cache"
    assert "Authorization" in response["Vary"]
    assert response["Poll-Interval"] == "25"


@pytest.mark.parametrize("header", ['"0000"', "", '"0000", W/"1111"', "garbage"])
def test_any_other_if_none_match_is_a_200(api, order, header):
    response = api.get(status_url(order.number), HTTP_IF_NONE_MATCH=header)
    assert response.status_code == 200
    assert response.json()["status"] == "received"


def test_a_304_renders_nothing(api, order, monkeypatch):
    etag = api.get(status_url(order.number))["ETag"]

    def no_rendering(facts):
        raise AssertionError("rendered on the 304 path")

    monkeypatch.setattr(selectors, "status_view", no_rendering)
    assert api.get(status_url(order.number), HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_a_304_read_afresh_reads_the_status_in_one_statement(api, order, monkeypatch):
    """With no kept answer standing (none does inside this test's transaction): one
    statement (orders.status_load.by_token) reads the token, and the order with its
    reservation, campaign, variant, history, the reservation's orders (allowed actions), the
    place in line and the held unit (expected delivery), with or without a unit held. No
    Redis either: the guessing lock is read on a miss only. (The kept answer's own path:
    test_kept_answers.py.)"""
    etag = api.get(status_url(order.number))["ETag"]
    redis_used = []
    monkeypatch.setattr(ratelimit, "redis_client", lambda: redis_used.append(1))
    with CaptureQueriesContext(connection) as queries:
        assert api.get(status_url(order.number), HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert len(status_reads(queries)) == 1, [q["sql"][:80] for q in queries]
    assert redis_used == []
    monkeypatch.undo()

    give_unit(order.reservation)
    etag = api.get(status_url(order.number))["ETag"]
    with CaptureQueriesContext(connection) as queries:
        assert api.get(status_url(order.number), HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert len(status_reads(queries)) == 1
    with CaptureQueriesContext(connection) as full:
        assert api.get(status_url(order.number)).status_code == 200
    assert len(status_reads(full)) == 1  # the same facts; only the rendering is added


def test_korean_and_english_are_different_bodies_with_different_tags(order):
    customer = order.reservation.customer
    english = token_client(customer, HTTP_ACCEPT_LANGUAGE="en").get(status_url(order.number))
    korean = token_client(customer, HTTP_ACCEPT_LANGUAGE="ko").get(status_url(order.number))

    assert english.json()["status_label"] == "Received"
    assert korean.json()["status_label"] != "Received"
    assert english["ETag"] != korean["ETag"]
    # The English tag does not validate the Korean body.
    again = token_client(customer, HTTP_ACCEPT_LANGUAGE="ko").get(
        status_url(order.number), HTTP_IF_NONE_MATCH=english["ETag"]
    )
    assert again.status_code == 200


def test_another_customers_token_gets_the_same_404_as_an_unknown_number(order):
    stranger = token_client(ReservationFactory().customer)
    theirs = stranger.get(status_url(order.number))
    unknown = stranger.get(status_url("12345678901"))
    malformed = stranger.get(status_url("O-1"))

    assert theirs.status_code == unknown.status_code == malformed.status_code == 404
    assert theirs.content == unknown.content == malformed.content
    assert theirs["Content-Type"] == "application/problem+json"
    assert theirs.json()["code"] == "not_found"
    assert "ETag" not in theirs


def test_a_revoked_or_expired_token_is_a_401(api, order):
    assert api.get(status_url(order.number)).status_code == 200
    token = ApiToken.objects.get(customer=order.reservation.customer)

    month_ago = timezone.now() - dt.timedelta(days=31)
    ApiToken.objects.filter(pk=token.pk).update(created_at=month_ago, last_used_at=month_ago)
    expired = api.get(status_url(order.number))
    ApiToken.objects.filter(pk=token.pk).update(
        last_used_at=timezone.now(), revoked_at=timezone.now()
    )
    revoked = api.get(status_url(order.number))

    for response in (expired, revoked):
        assert response.status_code == 401
        assert response.json()["code"] == "not_authenticated"
        assert "ETag" not in response


@pytest.mark.parametrize(
    "header", [None, "Bearer", "Bearer not-a-token", "Token abc", "Bearer " + "x" * 500]
)
@pytest.mark.parametrize("kind", ["order", "reservation"])
@pytest.mark.parametrize("number", ["own", "malformed"])
def test_the_polls_check_the_token_in_their_own_statement(order, header, kind, number):
    """The status polls authenticate inside their one statement (TokenAuth with
    checked_by_endpoint): any token that is not live is the same 401 as elsewhere, before
    the number is looked at, whether the number is the customer's own or malformed."""
    numbers = {"order": order.number, "reservation": order.reservation.number}
    path = {"order": status_url, "reservation": lambda n: f"/api/v1/reservations/{n}"}[kind]
    headers = {"HTTP_AUTHORIZATION": header} if header else {}
    response = Client(**headers).get(path(numbers[kind] if number == "own" else "12-x"))
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response["WWW-Authenticate"] == "Bearer"


def test_a_poll_slides_the_tokens_window_at_most_once_a_minute(api, order):
    etag = api.get(status_url(order.number))["ETag"]
    token = ApiToken.objects.get(customer=order.reservation.customer)
    two_minutes_ago = timezone.now() - dt.timedelta(minutes=2)
    ApiToken.objects.filter(pk=token.pk).update(
        created_at=two_minutes_ago, last_used_at=two_minutes_ago
    )

    assert api.get(status_url(order.number), HTTP_IF_NONE_MATCH=etag).status_code == 304
    token.refresh_from_db()
    assert token.last_used_at > two_minutes_ago + dt.timedelta(minutes=1)
    touched = token.last_used_at
    assert api.get(f"/api/v1/reservations/{order.reservation.number}").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at == touched  # within the minute: not written again


def test_a_session_cookie_is_no_token(client, order):
    response = signed_in(client, order.reservation.customer).get(status_url(order.number))
    assert response.status_code == 401


def test_the_polls_statements_are_prepared_once_per_connection(api, order):
    """preorder_shop.statements: the poll's statements (the token with its kept answer; the
    token with the status) are planned once per connection, not on every poll (psycopg
    prepares them; settings must not turn it off)."""
    for _ in range(3):
        assert api.get(status_url(order.number)).status_code == 200
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement FROM pg_prepared_statements WHERE NOT from_sql"
            " AND (statement LIKE '%%orders_ordertransition%%'"
            " OR statement LIKE '%%preorder_shop_apitoken%%')"
        )
        prepared = [row[0] for row in cursor.fetchall()]
    assert len(prepared) == 2, prepared
    assert sum("preorder_shop_kept_answer" in statement for statement in prepared) == 1
