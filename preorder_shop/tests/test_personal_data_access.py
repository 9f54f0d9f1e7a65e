"""Personal data in admin: masked everywhere, even for staff with the permission; a reveal
needs the permission and a reason, a call is recorded and handed to the phone, and every
look is one append-only row in the access log (readable in admin, printed by a command)."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from preorder_shop.models import AccessKind, PersonalDataAccess
from preorder_shop.tests.factories import CustomerFactory
from tests.admin_client import make_staff
from tests.pages import text

pytestmark = pytest.mark.django_db

PHONE, NAME = "+821098765432", "김민수"
VIEW = ["view_customer"]
REASON = "Customer called about a wrong delivery address"


@pytest.fixture
def customer():
    return CustomerFactory(phone=PHONE, name=NAME)


def change_url(customer) -> str:
    return reverse("admin:preorder_shop_customer_change", args=[customer.pk])


def reveal_url(customer) -> str:
    return reverse("admin:preorder_shop_customer_reveal", args=[customer.pk])


def call_url(customer) -> str:
    return reverse("admin:preorder_shop_customer_call", args=[customer.pk])


def assert_masked(page: str) -> None:
    assert "010-****-5432" in page
    assert "김*수" in page
    assert "9876" not in page
    assert NAME not in page


def test_change_page_stays_masked_even_with_the_permission(client, customer):
    staff = make_staff(client, "lead", [*VIEW, "view_personal_data", "call_customer"])
    page = text(staff.get(change_url(customer)))
    assert_masked(page)
    # The controls are there; the number is not, not even in the call form.
    assert reveal_url(customer) in page
    assert call_url(customer) in page
    assert not PersonalDataAccess.objects.exists()


def test_controls_only_for_those_who_may_use_them(client, customer):
    page = text(make_staff(client, "agent", VIEW).get(change_url(customer)))
    assert reveal_url(customer) not in page
    assert call_url(customer) not in page


def test_reveal_with_a_reason_shows_full_details_once_and_records_one_row(client, customer):
    staff = make_staff(client, "lead", [*VIEW, "view_personal_data"])
    form = staff.get(reveal_url(customer))
    assert form.status_code == 200
    assert_masked(text(form))

    page = text(
        staff.post(
            reveal_url(customer),
            {"reason_code": "customer_called", "reason": f"  {REASON}  "},
            REMOTE_ADDR="203.0.113.9",
        )
    )

    assert NAME in page
    assert "010-9876-5432" in page
    row = PersonalDataAccess.objects.get()
    assert row.kind == AccessKind.VIEW
    assert row.staff_user == staff.user
    assert row.customer == customer
    assert row.fields == ["name", "phone"]
    assert row.reference == f"customer {customer.pk}"
    assert row.reason_code == "customer_called"
    assert row.reason == REASON
    assert row.ip_address == "203.0.113.9"
    assert timezone.now() - row.at < dt.timedelta(minutes=1)
    # The change page did not become unmasked: the look was for that response only.
    assert_masked(text(staff.get(change_url(customer))))


@pytest.mark.parametrize("reason", ["", "   ", "because"])
def test_reveal_without_a_reason_says_so_and_shows_and_records_nothing(client, customer, reason):
    staff = make_staff(client, "lead", [*VIEW, "view_personal_data"])
    response = staff.post(reveal_url(customer), {"reason_code": "other", "reason": reason})
    assert response.status_code == 200
    page = text(response)
    assert "Say why you need the full details, in at least 10 characters." in page
    assert_masked(page)
    assert not PersonalDataAccess.objects.exists()


def test_reveal_needs_the_permission(client, customer):
    staff = make_staff(client, "agent", VIEW)
    assert staff.get(reveal_url(customer)).status_code == 403
    response = staff.post(reveal_url(customer), {"reason": REASON})
    assert response.status_code == 403
    assert NAME not in text(response)
    assert not PersonalDataAccess.objects.exists()


def test_reveal_of_a_missing_customer_is_a_404(client):
    staff = make_staff(client, "lead", [*VIEW, "view_personal_data"])
    url = reverse("admin:preorder_shop_customer_reveal", args=[999999])
    assert staff.post(url, {"reason": REASON}).status_code == 404


def test_call_records_then_hands_the_number_to_the_phone(client, customer):
    staff = make_staff(client, "agent", [*VIEW, "call_customer"])

    response = staff.post(call_url(customer))

    assert response.status_code == 302
    assert response["Location"] == f"tel:{PHONE}"
    assert PHONE not in response.content.decode()
    row = PersonalDataAccess.objects.get()
    assert (row.kind, row.customer, row.fields) == (AccessKind.CALL, customer, ["phone"])
    assert row.staff_user == staff.user


def test_call_needs_its_permission_and_a_post(client, customer):
    staff = make_staff(client, "viewer", [*VIEW, "view_personal_data"])
    assert staff.post(call_url(customer)).status_code == 403
    granted = make_staff(client, "agent", [*VIEW, "call_customer"])
    assert granted.get(call_url(customer)).status_code == 405
    assert not PersonalDataAccess.objects.exists()


def test_access_rows_cannot_be_changed_or_deleted(client, customer):
    make_staff(client, "agent", [*VIEW, "call_customer"]).post(call_url(customer))
    row = PersonalDataAccess.objects.get()
    for sql in [
        "UPDATE preorder_shop_personaldataaccess SET reason = 'nothing' WHERE id = %s",
        "DELETE FROM preorder_shop_personaldataaccess WHERE id = %s",
    ]:
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [row.pk])
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        PersonalDataAccess.objects.filter(pk=row.pk).delete()
    assert PersonalDataAccess.objects.get(pk=row.pk).reason == ""


def test_a_view_row_without_a_reason_is_refused_by_the_database(client, customer):
    staff = make_staff(client, "lead", VIEW).user
    with pytest.raises(DatabaseError, match="pd_access_view_has_reason"), transaction.atomic():
        PersonalDataAccess.objects.create(
            staff_user=staff, kind="view", customer=customer, fields=["name"], reference="x"
        )


def test_auditors_read_the_log_in_admin_but_change_nothing(client, customer):
    make_staff(client, "agent", [*VIEW, "call_customer"]).post(call_url(customer))
    row = PersonalDataAccess.objects.get()
    auditor = make_staff(client, "auditor", ["view_personaldataaccess"])
    listing = text(auditor.get(reverse("admin:preorder_shop_personaldataaccess_changelist")))
    assert "agent" in listing
    assert "김*수 010-****-5432" in listing
    assert NAME not in listing
    detail = reverse("admin:preorder_shop_personaldataaccess_change", args=[row.pk])
    assert auditor.get(detail).status_code == 200
    assert auditor.post(detail, {}).status_code == 403
    delete = reverse("admin:preorder_shop_personaldataaccess_delete", args=[row.pk])
    assert auditor.post(delete, {"post": "yes"}).status_code == 403
    assert make_staff(client, "nobody", VIEW).get(detail).status_code == 403


def report(*args) -> str:
    out = StringIO()
    call_command("pii_access_report", *args, stdout=out)
    return out.getvalue()


def test_report_prints_the_log_from_a_day_and_of_a_user(client, customer):
    agent = make_staff(client, "agent", [*VIEW, "call_customer"])
    agent.post(call_url(customer))
    lead = make_staff(client, "lead", [*VIEW, "view_personal_data"])
    lead.post(reveal_url(customer), {"reason_code": "delivery_problem", "reason": REASON})
    # An old row, as written before the period asked for.
    PersonalDataAccess.objects.create(
        staff_user=agent.user,
        kind="call",
        customer=customer,
        fields=["phone"],
        reference="customer old",
        at=timezone.now() - dt.timedelta(days=40),
    )
    since = (timezone.localdate() - dt.timedelta(days=1)).isoformat()

    out = report("--since", since)

    assert "customer old" not in out
    assert "agent" in out and "lead" in out
    assert "Called" in out and "Viewed" in out
    assert f"Delivery problem · {REASON}" in out
    assert "김*수 010-****-5432" in out
    assert NAME not in out and "9876" not in out
    assert "2 access(es)." in out
    only_lead = report("--since", since, "--user", "lead")
    assert "Viewed" in only_lead and "Called" not in only_lead
    assert "customer old" in report()


def test_report_refuses_a_bad_date():
    with pytest.raises(CommandError, match="2026-12-01"):
        report("--since", "yesterday")
    assert "No personal data was accessed" in report("--since", "2999-01-01")
