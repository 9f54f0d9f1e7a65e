"""An order's personal data in admin (orders/admin.py, fulfillment/order_admin.py): the
delivery address and the number to move stay masked; "Show full details" reveals them with
a reason, "Call" dials the recipient, and the courier manifest exports the orders ready to
ship with its own permission. Each use is one row in the personal data access log."""

import csv
import io

import pytest
from django.urls import reverse

from fulfillment.services import moves
from orders import services
from orders.models import ADDRESS_FIELDS, OrderStatus
from orders.tests.factories import give_unit, order_in, order_of
from preorder_shop.actors import Actor
from preorder_shop.models import AccessKind, PersonalDataAccess
from tests.admin_client import make_staff, run_action
from tests.pages import text

pytestmark = pytest.mark.django_db

S = OrderStatus
ORDERS = ["view_order"]
ADDRESS, RECIPIENT, RECIPIENT_PHONE = "서울특별시 중구 세종대로 110", "홍길동", "+821012345678"
REASON = "Courier cannot find the building entrance"
MANIFEST = reverse("admin:orders_order_courier_manifest")


def url(name: str, order) -> str:
    return reverse(f"admin:orders_order_{name}", args=[order.pk])


def test_order_page_masked_with_the_permission_and_reveal_records_one_row(client):
    order = order_of("+821011112222", "김민수")
    staff = make_staff(client, "lead", [*ORDERS, "view_personal_data"])
    page = text(staff.get(url("change", order)))
    assert ADDRESS not in page and RECIPIENT not in page
    assert url("reveal", order) in page

    missing = text(staff.post(url("reveal", order), {"reason": ""}))
    assert "Say why you need the full details" in missing
    assert ADDRESS not in missing
    assert not PersonalDataAccess.objects.exists()

    shown = text(
        staff.post(url("reveal", order), {"reason_code": "delivery_problem", "reason": REASON})
    )
    assert ADDRESS in shown and RECIPIENT in shown and "010-1234-5678" in shown
    row = PersonalDataAccess.objects.get()
    assert row.kind == AccessKind.VIEW
    assert row.customer == order.reservation.customer
    assert row.reference == f"order {order.number}"
    assert row.fields == ["recipient_name", "recipient_phone", "postcode", "address_line1"]
    assert (row.reason_code, row.reason) == ("delivery_problem", REASON)


def test_call_from_an_order_dials_the_recipient_and_records_it(client):
    order = order_of("+821011112222", "김민수")
    staff = make_staff(client, "agent", [*ORDERS, "call_customer"])
    page = text(staff.get(url("change", order)))
    assert url("call", order) in page
    assert RECIPIENT_PHONE not in page

    response = staff.post(url("call", order))

    assert response["Location"] == f"tel:{RECIPIENT_PHONE}"
    row = PersonalDataAccess.objects.get()
    assert (row.kind, row.fields, row.reference) == (
        AccessKind.CALL,
        ["recipient_phone"],
        f"order {order.number}",
    )
    assert row.customer == order.reservation.customer


@pytest.fixture
def preparing():
    return [order_in(S.PREPARING), order_in(S.PREPARING)]


def test_manifest_exports_the_orders_ready_to_ship_and_records_one_row(client, preparing):
    received = order_of("+821033334444", "이서연")
    staff = make_staff(client, "ops", [*ORDERS, "export_personal_data"])

    confirm = text(run_action(staff, "courier_manifest", [*preparing, received]))
    assert "2 orders being prepared" in confirm
    assert "1 selected order is left out" in confirm
    assert ADDRESS not in confirm
    assert not PersonalDataAccess.objects.exists()

    response = staff.post(MANIFEST, {"order": [o.pk for o in [*preparing, received]]})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["number", "recipient_name", "recipient_phone"]
    assert sorted(r[0] for r in rows[1:]) == sorted(o.number for o in preparing)
    assert rows[1][1:4] == [RECIPIENT, "010-1234-5678", "04524"]
    row = PersonalDataAccess.objects.get()
    assert row.kind == AccessKind.EXPORT
    assert row.staff_user == staff.user
    assert sorted(row.objects_shown) == sorted(o.number for o in preparing)
    assert row.customer_count == 2
    assert row.customer is None
    assert "recipient_phone" in row.fields and "address_line1" in row.fields
    assert row.reason_code == "courier_manifest"


def test_manifest_needs_export_personal_data(client, preparing):
    staff = make_staff(client, "lead", [*ORDERS, "view_personal_data", "change_order"])
    assert "courier_manifest" not in text(staff.get(reverse("admin:orders_order_changelist")))

    response = staff.post(MANIFEST, {"order": [o.pk for o in preparing]})

    assert response.status_code == 403
    assert staff.get(MANIFEST).status_code == 403
    assert RECIPIENT not in response.content.decode()
    assert not PersonalDataAccess.objects.exists()


def test_manifest_of_nothing_ready_exports_and_records_nothing(client):
    received = order_of("+821033334444", "이서연")
    staff = make_staff(client, "ops", [*ORDERS, "export_personal_data"])
    for data in [{"order": [received.pk]}, {"order": ["x", "-1", "9" * 40]}, {}]:
        response = staff.post(MANIFEST, data, follow=True)
        assert "None of these orders is ready" in text(response)
    assert not PersonalDataAccess.objects.exists()


def test_manifest_cells_never_start_a_formula(client):
    # Written while received (the database fixes the address once preparation starts).
    order = order_in(S.RECEIVED)
    address = {name: getattr(order, name) for name in ADDRESS_FIELDS}
    services.change_delivery_address(
        order=order, actor=Actor.customer(), **{**address, "delivery_note": "=HYPERLINK(1)"}
    )
    give_unit(order.reservation)
    moves.start_preparing(order=order, actor=Actor.worker("test-worker"))
    staff = make_staff(client, "ops", [*ORDERS, "export_personal_data"])
    body = staff.post(MANIFEST, {"order": [order.pk]}).content.decode("utf-8-sig")
    assert "'=HYPERLINK(1)" in body
