import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from preorder_shop.tests.factories import CustomerFactory
from reservations import selectors, services
from reservations.exceptions import NotCancellable
from reservations.models import CancelledBy, ReservationStatus

from .factories import CampaignFactory, ReservationFactory, VariantFactory

pytestmark = pytest.mark.django_db


def test_customer_cancel_records_who_and_when():
    reservation = ReservationFactory()
    cancelled = services.cancel_reservation(reservation=reservation, by=CancelledBy.CUSTOMER)

    cancelled.refresh_from_db()
    assert cancelled.status == ReservationStatus.CANCELLED
    assert cancelled.cancelled_at is not None
    assert cancelled.cancelled_by == CancelledBy.CUSTOMER
    assert cancelled.cancelled_by_user is None


def test_staff_cancel_records_the_staff_member():
    staff = get_user_model().objects.create_user("agent", password="x", is_staff=True)
    reservation = ReservationFactory()
    services.cancel_reservation(reservation=reservation, by=CancelledBy.STAFF, staff_user=staff)

    reservation.refresh_from_db()
    assert reservation.cancelled_by == CancelledBy.STAFF
    assert reservation.cancelled_by_user == staff


def test_staff_cancel_must_name_the_staff_member():
    reservation = ReservationFactory()
    with pytest.raises(ValueError, match="staff"):
        services.cancel_reservation(reservation=reservation, by=CancelledBy.STAFF)
    reservation.refresh_from_db()
    assert reservation.status == ReservationStatus.ACTIVE


def test_a_cancelled_reservation_cannot_be_cancelled_again():
    reservation = ReservationFactory()
    first = services.cancel_reservation(reservation=reservation, by=CancelledBy.CUSTOMER)
    with pytest.raises(NotCancellable):
        services.cancel_reservation(reservation=reservation, by=CancelledBy.CUSTOMER)
    reservation.refresh_from_db()
    assert reservation.cancelled_at == first.cancelled_at


def test_actions_follow_the_state():
    reservation = ReservationFactory()
    assert reservation.can_cancel()
    services.cancel_reservation(reservation=reservation, by=CancelledBy.CUSTOMER)
    reservation.refresh_from_db()
    assert not reservation.can_cancel()


def test_standing_counts_only_holders_of_the_same_variant():
    variant = VariantFactory()
    ahead = [ReservationFactory(variant=variant) for _ in range(3)]
    ReservationFactory(variant=VariantFactory(campaign=variant.campaign))  # other variant
    mine = ReservationFactory(variant=variant)
    ReservationFactory(variant=variant)  # behind me

    assert selectors.queue_standing(mine) == selectors.QueueStanding(place=4, total=5)

    services.cancel_reservation(reservation=ahead[0], by=CancelledBy.CUSTOMER)
    assert selectors.queue_standing(mine) == selectors.QueueStanding(place=3, total=4)


def test_a_cancelled_reservation_has_no_standing():
    reservation = ReservationFactory()
    services.cancel_reservation(reservation=reservation, by=CancelledBy.CUSTOMER)
    reservation.refresh_from_db()
    assert selectors.queue_standing(reservation) is None


def test_availability_explains_why_not():
    now = timezone.now()
    customer = CustomerFactory()
    not_open = CampaignFactory(not_open_yet=True)
    closed = CampaignFactory(closed=True)
    open_campaign = CampaignFactory()

    def check(campaign, who):
        return selectors.reserve_availability(campaign=campaign, customer=who, now=now)

    assert "open on" in check(not_open, customer).reason
    assert "closed on" in check(closed, customer).reason
    assert check(open_campaign, None).needs_sign_in
    assert check(open_campaign, customer).allowed

    ReservationFactory(customer=customer, variant=VariantFactory(campaign=open_campaign))
    held = check(open_campaign, customer)
    assert not held.allowed
    assert "already hold 1 reservation" in held.reason


def test_variant_counts_include_only_holding_reservations():
    campaign = CampaignFactory()
    variant = VariantFactory(campaign=campaign)
    VariantFactory(campaign=campaign)
    kept, dropped = ReservationFactory(variant=variant), ReservationFactory(variant=variant)
    services.cancel_reservation(reservation=dropped, by=CancelledBy.CUSTOMER)

    counts = {v.pk: v.reserved for v in selectors.variants_with_counts(campaign)}
    assert counts[variant.pk] == 1
    assert sorted(counts.values()) == [0, 1]
    assert kept.status == ReservationStatus.ACTIVE
