"""Staff and orders in Django admin: masked lists, search, filters and read-only status. The
forward-move actions are fulfilment's (fulfillment/tests/test_order_actions.py)."""

import datetime as dt
import re
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from orders import services
from orders.models import ADDRESS_FIELDS, Order, OrderStatus, OrderTransition
from orders.tests.factories import order_of
from preorder_shop.actors import Actor
from tests.admin_client import ORDER_CHANGELIST as CHANGELIST
from tests.admin_client import make_staff
from tests.pages import text

pytestmark = pytest.mark.django_db

S = OrderStatus
BASE_PERMISSIONS = ["view_order", "change_order", "view_ordertransition"]


@pytest.fixture
def ops(client):
    """Order operations staff: may move orders, sees masked personal data."""
    return make_staff(client, "ops", [*BASE_PERMISSIONS, "transition_order"])


def change_url(order) -> str:
    return reverse("admin:orders_order_change", args=[order.pk])


def listed_pks(response) -> set[int]:
    return {int(pk) for pk in re.findall(r'name="_selected_action" value="(\d+)"', text(response))}


class _FormFields(HTMLParser):
    """The name/value pairs a browser would post from the admin change form."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, str] = {}
        self._in_form = False
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and attrs.get("id") == "order_form":
            self._in_form = True
        if not self._in_form or "name" not in attrs:
            return
        if tag == "input" and attrs.get("type") not in {"submit", "checkbox", "radio"}:
            self.data[attrs["name"]] = attrs.get("value") or ""
        elif tag == "textarea":
            self._textarea = attrs["name"]
            self.data[self._textarea] = ""

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        if tag == "form":
            self._in_form = False


def change_form_data(page: str) -> dict[str, str]:
    parser = _FormFields()
    parser.feed(page)
    assert parser.data, "no change form on the page"
    return parser.data


# The list: masked, searchable, filterable.


def test_order_list_renders_and_filters_by_age(ops):
    old = order_of("+821011110001", "김민수")
    new = order_of("+821011110002", "이서연")
    Order.objects.filter(pk=old.pk).update(
        submitted_at=old.submitted_at - dt.timedelta(days=2),
        created_at=old.created_at - dt.timedelta(days=2),
    )
    url = reverse(CHANGELIST)

    response = ops.get(url)
    assert response.status_code == 200
    assert "over 1 day" in text(response)
    assert listed_pks(response) == {old.pk, new.pk}
    assert listed_pks(ops.get(url, {"age": "1"})) == {old.pk}
    assert listed_pks(ops.get(url, {"age": "3"})) == set()


def test_order_list_masks_names_and_phones(ops):
    order = order_of("+821098765432", "김민수")
    services.change_delivery_address(
        order=order,
        actor=Actor.customer(),
        **{**{name: getattr(order, name) for name in ADDRESS_FIELDS}, "recipient_name": "박서준"},
    )
    page = text(ops.get(reverse(CHANGELIST)))
    assert order.number in page
    assert "김*수 010-****-5432" in page
    for secret in ["김민수", "박서준", "+821098765432", "010-9876-5432", "98765432", "9876-"]:
        assert secret not in page


def test_search_by_order_number_reservation_number_and_last_four_digits(ops):
    mine = order_of("+821011112222", "김민수")
    other = order_of("+821033334444", "이서연")
    url = reverse(CHANGELIST)

    assert listed_pks(ops.get(url, {"q": mine.number})) == {mine.pk}
    assert listed_pks(ops.get(url, {"q": other.reservation.number})) == {other.pk}
    assert listed_pks(ops.get(url, {"q": "2222"})) == {mine.pk}
    assert listed_pks(ops.get(url, {"q": "4444"})) == {other.pk}
    assert listed_pks(ops.get(url, {"q": "1111"})) == set()  # the middle digits find nothing


def test_status_filter(ops):
    received = order_of("+821011110001", "김민수", S.RECEIVED)
    preparing = order_of("+821011110002", "이서연", S.PREPARING)
    shipped = order_of("+821011110003", "박도윤", S.SHIPPED)
    url = reverse(CHANGELIST)

    assert listed_pks(ops.get(url)) == {received.pk, preparing.pk, shipped.pk}
    assert listed_pks(ops.get(url, {"status__exact": "preparing"})) == {preparing.pk}
    assert listed_pks(ops.get(url, {"status__exact": "received"})) == {received.pk}
    assert listed_pks(ops.get(url, {"status__exact": "cancelled"})) == set()


# The change page.


def test_change_page_shows_history_inline_and_notifications(ops):
    order = order_of("+821011112222", "김민수", S.SHIPPED)
    response = ops.get(change_url(order))
    assert response.status_code == 200
    page = text(response)
    assert "status changes" in page.lower()
    # Three rows (draft→received, received→preparing, preparing→shipped), read-only.
    assert 'name="transitions-TOTAL_FORMS" value="3"' in page
    assert "test-worker" in page
    assert "test-courier" in page
    assert 'name="transitions-0-reason"' not in page
    assert 'name="transitions-0-DELETE"' not in page
    for key in ["order.received", "order.preparing", "order.shipped"]:
        assert key in page
    assert "CJ" in page and "123456789012" in page


def test_address_masked_even_with_the_personal_data_permission(client):
    """Full details only by a recorded reveal (tests/test_personal_data_doors.py)."""
    order = order_of("+821011112222", "김민수")
    assert order.address_line1 == "서울특별시 중구 세종대로 110"

    for staff in [
        make_staff(client, "agent", BASE_PERMISSIONS),
        make_staff(client, "auditor", [*BASE_PERMISSIONS, "view_personal_data"]),
    ]:
        page = text(staff.get(change_url(order)))
        assert "서울특별시 중구 세종대로 110" not in page
        assert "+821012345678" not in page
        assert "010-1234-5678" not in page
        assert "홍길동" not in page
        assert "홍*동 010-****-5678" in page


def test_status_cannot_be_changed_through_the_change_form(ops):
    order = order_of("+821011112222", "김민수")
    page = ops.get(change_url(order)).content.decode()
    assert 'name="status"' not in page
    data = change_form_data(page)
    data.update({"status": "delivered", "number": "12345678901", "_save": "Save"})

    response = ops.post(change_url(order), data)

    assert response.status_code == 302  # saved: the posted status was simply ignored
    order.refresh_from_db()
    assert order.status == S.RECEIVED
    assert order.number != "12345678901"
    assert OrderTransition.objects.filter(order=order).count() == 1


def test_orders_cannot_be_added_or_deleted(ops):
    order = order_of("+821011112222", "김민수")
    assert ops.get(reverse("admin:orders_order_add")).status_code == 403
    assert ops.get(reverse("admin:orders_order_delete", args=[order.pk])).status_code == 403
