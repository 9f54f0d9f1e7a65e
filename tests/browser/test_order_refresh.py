"""The order page's htmx refresh in a real browser: Chromium revalidates the partial by
itself (Cache-Control: no-cache and the ETag), so an unchanged status is a 304 that htmx
swaps in from the browser's cache, and a changed one brings the new status and the new
interval. The refresh is asked for directly (htmx.ajax), not waited for: no timed test."""

from importlib import import_module

import pytest
from django.conf import settings
from django.utils import translation
from playwright.sync_api import BrowserContext, Page, expect

from fulfillment.services import moves
from orders import polling, views
from orders.models import OrderStatus
from orders.services import Actor
from orders.tests.factories import give_unit, order_in
from preorder_shop.customer_session import SESSION_KEY
from reservations.tests.factories import ReservationFactory

pytestmark = pytest.mark.django_db(transaction=True)
S = OrderStatus


def signed_in_as(context: BrowserContext, live_server, customer) -> None:
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = customer.pk
    session.save()
    cookie = {"name": settings.SESSION_COOKIE_NAME, "value": session.session_key}
    context.add_cookies([{**cookie, "url": live_server.url}])


def refresh(page: Page, path: str) -> None:
    page.evaluate(
        "path => htmx.ajax('GET', path, {target: '#order-status', swap: 'outerHTML'})", path
    )


def test_an_unchanged_status_is_a_304_the_browser_answers_from_its_cache(
    page: Page, context, live_server, look, campaign, monkeypatch
):
    served = []  # the live server runs in this process: count its 304s
    real = views.not_modified
    monkeypatch.setattr(
        views, "not_modified", lambda etag, **kw: served.append(etag) or real(etag, **kw)
    )
    reservation = ReservationFactory(variant=campaign.variants.order_by("pk").first())
    order = order_in(S.RECEIVED, reservation=reservation)
    give_unit(reservation)
    signed_in_as(context, live_server, reservation.customer)
    path = f"/my/orders/{order.number}/"
    page.goto(live_server.url + path)
    status = page.get_by_test_id("order-status")
    with translation.override("ko"):
        received = str(S.RECEIVED.label)
    expect(status).to_have_text(received)
    box = page.locator("#order-status")
    expect(box).to_have_attribute("hx-trigger", f"every {polling.MOVING}s")

    with page.expect_response(lambda r: r.url.endswith(path)):
        refresh(page, path)  # the first partial: the page itself was no partial
    with page.expect_response(lambda r: r.url.endswith(path)):
        refresh(page, path)
    expect(box).to_have_count(1)
    expect(status).to_be_visible()
    assert len(served) == 1  # the browser sent If-None-Match itself; htmx swapped the cache
    look(page, "order-refreshed-unchanged")

    moves.start_preparing(order=order, actor=Actor.worker("browser-test"))
    with page.expect_response(lambda r: r.url.endswith(path)):
        refresh(page, path)
    expect(page.get_by_test_id("order-status")).not_to_have_text(received)
    assert len(served) == 1
    expect(page.locator("#order-status")).to_have_count(1)
    look(page, "order-refreshed-preparing")
