"""The status ETag changes when, and only when, what the response shows changes: proven by
polling through a life (line moves, the line's counter, allocation, every transition) and
comparing the bodies of consecutive 200s; and the order page's htmx refresh is the same
conditional GET on its partial, at the polling rule's interval."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from fulfillment.services.allocation import allocate_variant
from fulfillment.tests.factories import StockLotFactory
from orders import polling
from orders.models import OrderStatus
from orders.services import cancel_by_customer
from preorder_shop.customer_session import SESSION_KEY
from reservations.lines import refresh_line_counts
from reservations.tests.factories import ReservationFactory, VariantFactory

from .api import status_reads, status_url, token_client
from .factories import PATH, order_in

pytestmark = pytest.mark.django_db
S = OrderStatus
HTMX = {"HTTP_HX_REQUEST": "true"}


def cancel(reservation) -> None:
    cancel_by_customer(reservation=reservation, customer=reservation.customer)


def test_the_etag_changes_exactly_when_the_body_does():
    order_life(kept=False)


@pytest.mark.django_db(transaction=True)
def test_the_etag_changes_exactly_when_the_body_does_with_kept_answers():
    """The same life, committed: unchanged answers are served kept (one statement), and
    every change shown ends the kept answer (preorder_shop.kept_answers)."""
    order_life(kept=True)


def revalidate(api, url: str, etag: str, answered: dict, *, what: str, kept: bool, shows_a_change):
    """Send the old `etag` again after a poll that `answered` (the new body)."""
    with CaptureQueriesContext(connection) as queries:
        revalidated = api.get(url, HTTP_IF_NONE_MATCH=etag)
    assert revalidated.status_code == (200 if shows_a_change else 304), what
    # The poll before kept what it answered, unless its line is not counted yet (then its
    # total is counted live, and answers are not kept).
    standing = answered["standing"]
    counted = standing is None or standing["total_at"] is not None
    if kept and counted:
        assert len(queries) == 1, what  # the token and the kept answer: 304 or its body
    elif not shows_a_change:
        # The token and the status, one statement, read afresh (inside one test transaction
        # no answer is kept).
        assert len(status_reads(queries)) == 1, what
    if not shows_a_change:
        assert revalidated.content == b""


def order_life(*, kept: bool):
    variant = VariantFactory()
    ahead = ReservationFactory(variant=variant)
    order = order_in(S.RECEIVED, reservation=ReservationFactory(variant=variant))
    api = token_client(order.reservation.customer, HTTP_ACCEPT_LANGUAGE="en")
    moving = {"order": order}

    def move(status):
        def step():
            for forward in PATH[status][len(PATH[status]) - 1 :]:
                moving["order"] = forward(moving["order"])

        return step

    behind: list = []
    # (what happens, whether the response shows a change)
    life = [
        ("a repeat poll", lambda: None, False),
        (
            "someone joins behind, the total counted live",
            lambda: behind.append(ReservationFactory(variant=variant)),
            True,
        ),
        (
            "the line's total becomes a refreshed counter",
            lambda: refresh_line_counts(variant_ids=[variant.pk]),
            True,
        ),
        ("someone behind cancels, the counter not refreshed", lambda: cancel(behind[0]), False),
        ("the total is refreshed", lambda: refresh_line_counts(variant_ids=[variant.pk]), True),
        (
            "refreshed again, nothing new",
            lambda: refresh_line_counts(variant_ids=[variant.pk]),
            False,
        ),
        (
            "someone joins behind, the counter not refreshed",
            lambda: behind.append(ReservationFactory(variant=variant)),
            False,
        ),
        ("the total is refreshed", lambda: refresh_line_counts(variant_ids=[variant.pk]), True),
        (
            "one joins and one behind cancels",
            lambda: (
                behind.append(ReservationFactory(variant=variant)),
                cancel(behind[1]),
            ),
            False,
        ),
        (
            "refreshed: the same total",
            lambda: refresh_line_counts(variant_ids=[variant.pk]),
            False,
        ),
        ("someone ahead cancels: the place moves", lambda: cancel(ahead), True),
        (
            "a unit is allocated",
            lambda: (
                StockLotFactory(variant=variant, quantity=1),
                allocate_variant(variant=variant),
            ),
            True,
        ),
        ("a repeat poll", lambda: None, False),
        ("preparing", move(S.PREPARING), True),
        ("shipped", move(S.SHIPPED), True),
        ("a repeat poll", lambda: None, False),
        ("delivered", move(S.DELIVERED), True),
        ("a repeat poll", lambda: None, False),
    ]

    def poll():
        response = api.get(status_url(order.number))
        assert response.status_code == 200
        return response["ETag"], response.json()

    etag, body = poll()
    assert body["standing"]["place"] == 2
    for what, happen, shows_a_change in life:
        happen()
        new_etag, new_body = poll()
        assert (new_body != body) == shows_a_change, what
        assert (new_etag != etag) == shows_a_change, what
        # And the old tag is answered as it should be: 304 only for the body it named.
        revalidate(
            api,
            status_url(order.number),
            etag,
            new_body,
            what=what,
            kept=kept,
            shows_a_change=shows_a_change,
        )
        etag, body = new_etag, new_body

    assert body["status"] == "delivered"
    assert body["poll_interval"] == polling.OVER


# The order page's own refresh.


@pytest.fixture
def page(client):
    order = order_in(S.RECEIVED)
    session = client.session
    session[SESSION_KEY] = order.reservation.customer_id
    session.save()
    return client, order


def test_the_partial_is_a_conditional_get(page):
    client, order = page
    url = reverse("orders:order_detail", args=[order.number])

    first = client.get(url, **HTMX)
    assert first.status_code == 200
    assert first["Cache-Control"] == "private, no-cache"
    vary = {v.strip() for v in first["Vary"].split(",")}
    assert {"HX-Request", "Cookie", "Accept-Language"} <= vary
    etag = first["ETag"]

    with CaptureQueriesContext(connection) as queries:
        again = client.get(url, HTTP_IF_NONE_MATCH=etag, **HTMX)
    assert again.status_code == 304
    # The session from the cache; then one statement (orders.status_load) for the order,
    # its history, the reservation's orders, the place in line and the held unit.
    assert len(queries) == 1
    assert again.content == b""
    assert again["ETag"] == etag

    cancel(order.reservation)
    changed = client.get(url, HTTP_IF_NONE_MATCH=etag, **HTMX)
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    assert "This order is cancelled" in changed.content.decode()


def test_the_partial_and_the_api_have_different_tags_for_the_same_facts(page):
    client, order = page
    partial = client.get(reverse("orders:order_detail", args=[order.number]), **HTMX)
    api = token_client(order.reservation.customer).get(status_url(order.number))
    assert partial["ETag"] != api["ETag"]  # one body is HTML, the other JSON
    assert (
        client.get(
            reverse("orders:order_detail", args=[order.number]),
            HTTP_IF_NONE_MATCH=api["ETag"],
            **HTMX,
        ).status_code
        == 200
    )


def test_the_full_page_is_never_a_304_and_says_it_varies_by_hx_request(page):
    client, order = page
    url = reverse("orders:order_detail", args=[order.number])
    etag = client.get(url, **HTMX)["ETag"]

    full = client.get(url, HTTP_IF_NONE_MATCH=etag)

    assert full.status_code == 200
    assert "ETag" not in full
    assert "HX-Request" in full["Vary"]


def interval(html: str) -> int:
    return int(re.search(r'hx-trigger="every (\d+)s"', html).group(1))


@pytest.mark.parametrize("status", [S.RECEIVED, S.PREPARING, S.SHIPPED, S.DELIVERED, S.CANCELLED])
def test_the_page_refreshes_at_the_rules_interval(client, status):
    order = order_in(status)
    session = client.session
    session[SESSION_KEY] = order.reservation.customer_id
    session.save()
    url = reverse("orders:order_detail", args=[order.number])
    expected = polling.poll_after(order_status=status, place=1)

    assert interval(client.get(url).content.decode()) == expected
    # The partial replaces itself, trigger included, so a new status brings a new interval.
    partial = client.get(url, **HTMX).content.decode()
    assert re.match(r'\s*<div id="order-status"', partial)
    assert interval(partial) == expected
    if status in (S.RECEIVED, S.PREPARING, S.SHIPPED):
        assert expected <= 30


def test_a_reservations_etag_changes_exactly_when_its_body_does():
    """GET /api/v1/reservations/{number}, polled while in line: its ETag hashes its body."""
    reservation_life(kept=False)


@pytest.mark.django_db(transaction=True)
def test_a_reservations_etag_changes_exactly_when_its_body_does_with_kept_answers():
    reservation_life(kept=True)


def reservation_life(*, kept: bool):
    from orders import services

    from .factories import complete_answers

    variant = VariantFactory()
    ahead = ReservationFactory(variant=variant)
    mine = ReservationFactory(variant=variant)
    api = token_client(mine.customer, HTTP_ACCEPT_LANGUAGE="en")
    url = f"/api/v1/reservations/{mine.number}"
    behind: list = []
    draft: list = []

    def submit():
        services.submit_order(
            order=draft[0], customer=mine.customer, values=complete_answers(draft[0])
        )

    life = [
        ("a repeat poll", lambda: None, False),
        (
            "someone joins behind, counted live",
            lambda: behind.append(ReservationFactory(variant=variant)),
            True,
        ),
        (
            "the total becomes a refreshed counter",
            lambda: refresh_line_counts(variant_ids=[variant.pk]),
            True,
        ),
        ("someone behind cancels, not refreshed", lambda: cancel(behind[0]), False),
        ("the total is refreshed", lambda: refresh_line_counts(variant_ids=[variant.pk]), True),
        ("someone ahead cancels: the place moves", lambda: cancel(ahead), True),
        (
            "the order form is opened",
            lambda: draft.append(services.open_draft(reservation=mine, customer=mine.customer)),
            True,
        ),
        ("a repeat poll", lambda: None, False),
        ("the order form is submitted", submit, True),
        ("a repeat poll", lambda: None, False),
    ]

    def poll():
        response = api.get(url)
        assert response.status_code == 200
        return response["ETag"], response.json()

    etag, body = poll()
    for what, happen, shows_a_change in life:
        happen()
        new_etag, new_body = poll()
        assert (new_body != body) == shows_a_change, what
        assert (new_etag != etag) == shows_a_change, what
        revalidate(api, url, etag, new_body, what=what, kept=kept, shows_a_change=shows_a_change)
        etag, body = new_etag, new_body
    assert body["status"] == "ordered"
