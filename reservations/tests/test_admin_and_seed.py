import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.urls import reverse

from preorder_shop.tests.factories import CustomerFactory
from reservations import services
from reservations.demo import DEMO_SLUG
from reservations.models import Campaign, CancelledBy, Reservation, ReservationStatus, Variant
from tests.admin_client import sign_in_to_admin

from .factories import ReservationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    user = get_user_model().objects.create_user("agent", password="pw", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            codename__in=["view_reservation", "change_reservation", "view_customer"]
        )
    )
    sign_in_to_admin(client, user)
    client.user = user
    return client


def test_reservation_list_masks_personal_data(staff_client):
    customer = CustomerFactory(phone="+821098765432", name="김민수")
    ReservationFactory(customer=customer)
    page = staff_client.get(reverse("admin:reservations_reservation_changelist")).content.decode()
    assert "010-****-5432" in page
    assert "김*수" in page
    assert "9876" not in page
    assert "김민수" not in page


def test_customer_detail_masked_even_with_permission(staff_client):
    """Full details only by a recorded reveal (test_personal_data_access.py)."""
    customer = CustomerFactory(phone="+821098765432", name="김민수")
    url = reverse("admin:preorder_shop_customer_change", args=[customer.pk])
    assert "010-****-5432" in staff_client.get(url).content.decode()

    staff_client.user.user_permissions.add(Permission.objects.get(codename="view_personal_data"))
    staff_client.user = get_user_model().objects.get(pk=staff_client.user.pk)
    sign_in_to_admin(staff_client, staff_client.user)
    page = staff_client.get(url).content.decode()
    assert "010-****-5432" in page
    assert "9876" not in page
    assert "김민수" not in page


def test_staff_search_by_last_four_digits_and_by_number(staff_client):
    mine = ReservationFactory(customer=CustomerFactory(phone="+821011112222"))
    other = ReservationFactory(customer=CustomerFactory(phone="+821033334444"))
    url = reverse("admin:reservations_reservation_changelist")

    page = staff_client.get(url, {"q": "2222"}).content.decode()
    assert mine.number in page
    assert other.number not in page

    page = staff_client.get(url, {"q": other.number}).content.decode()
    assert other.number in page
    assert mine.number not in page


def test_staff_cancel_action_goes_through_the_service(staff_client):
    active = ReservationFactory()
    cancelled = ReservationFactory()
    services.cancel_reservation(reservation=cancelled, by=CancelledBy.CUSTOMER)
    response = staff_client.post(
        reverse("admin:reservations_reservation_changelist"),
        {"action": "cancel_selected", "_selected_action": [active.pk, cancelled.pk]},
        follow=True,
    )
    page = response.content.decode()
    assert "Cancelled 1 reservation." in page
    assert "1 reservation was not active" in page
    active.refresh_from_db()
    assert active.status == ReservationStatus.CANCELLED
    assert active.cancelled_by == CancelledBy.STAFF
    assert active.cancelled_by_user == staff_client.user


def test_reservations_cannot_be_added_or_deleted_in_admin(staff_client):
    reservation = ReservationFactory()
    assert staff_client.get(reverse("admin:reservations_reservation_add")).status_code == 403
    delete_url = reverse("admin:reservations_reservation_delete", args=[reservation.pk])
    assert staff_client.get(delete_url).status_code == 403


def test_seed_demo_is_idempotent_and_realistic():
    call_command("seed_demo", "--reservations", "300")
    call_command("seed_demo", "--reservations", "300")

    campaign = Campaign.objects.get(slug=DEMO_SLUG)
    variants = Variant.objects.filter(campaign=campaign)
    assert Campaign.objects.filter(slug=DEMO_SLUG).count() == 1
    assert variants.values("model_name").distinct().count() == 3
    assert 24 <= variants.count() <= 48
    reservations = Reservation.objects.filter(campaign=campaign).order_by("position")
    assert reservations.count() == 300
    assert reservations.values("customer").distinct().count() == 300
    created = [r.created_at for r in reservations]
    assert created == sorted(created)  # acceptance times follow queue positions


def test_seed_demo_tops_up_synthetic_reservations():
    call_command("seed_demo", "--reservations", "50")
    first = set(Reservation.objects.values_list("number", flat=True))
    call_command("seed_demo", "--reservations", "80")
    after = Reservation.objects.order_by("position")
    assert after.count() == 80
    assert first <= set(after.values_list("number", flat=True))
    newest = list(after)[50:]
    assert min(r.position for r in newest) > max(r.position for r in after if r.number in first)
