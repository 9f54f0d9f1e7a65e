"""The FCFS ledger: reserve, limits, windows, idempotency, and what the database refuses."""

import uuid

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from preorder_shop.identifiers import RESERVATION_NUMBER
from preorder_shop.tests.factories import CustomerFactory
from reservations import services
from reservations.exceptions import (
    FulfilmentNotOffered,
    LimitReached,
    ReservationsClosed,
    ReservationsNotOpen,
)
from reservations.models import Fulfilment, Reservation, ReservationStatus

from .factories import CampaignFactory, ReservationFactory, VariantFactory

pytestmark = pytest.mark.django_db


def reserve(customer, variant, *, key=None, fulfilment=Fulfilment.COURIER, **kwargs):
    return services.reserve(
        customer_id=customer.pk,
        variant=variant,
        fulfilment=fulfilment,
        idempotency_key=key or uuid.uuid4(),
        **kwargs,
    )


def violated(excinfo) -> str:
    return excinfo.value.__cause__.diag.constraint_name


def test_reserve_assigns_number_position_and_first_slot():
    variant = VariantFactory()
    reservation = reserve(CustomerFactory(), variant)

    reservation.refresh_from_db()
    assert reservation.status == ReservationStatus.ACTIVE
    assert RESERVATION_NUMBER.is_valid(reservation.number)
    assert reservation.position > 0
    assert reservation.slot == 1
    assert reservation.campaign == variant.campaign


def test_positions_strictly_increase_in_acceptance_order():
    variant = VariantFactory()
    positions = [reserve(CustomerFactory(), variant).position for _ in range(5)]
    assert positions == sorted(positions)
    assert len(set(positions)) == 5


def test_position_is_not_derived_into_the_number():
    variant = VariantFactory()
    first, second = (reserve(CustomerFactory(), variant) for _ in range(2))
    assert second.position == first.position + 1
    assert abs(int(second.number) - int(first.number)) != 1


def test_same_idempotency_key_returns_the_same_reservation():
    variant, customer, key = VariantFactory(), CustomerFactory(), uuid.uuid4()
    first = reserve(customer, variant, key=key)
    again = reserve(customer, variant, key=key)
    assert again.pk == first.pk
    assert Reservation.objects.filter(customer=customer).count() == 1


def test_limit_of_one_refuses_a_second_reservation():
    variant, customer = VariantFactory(), CustomerFactory()
    reserve(customer, variant)
    with pytest.raises(LimitReached):
        reserve(customer, VariantFactory(campaign=variant.campaign))
    assert Reservation.objects.filter(customer=customer).count() == 1


def test_limit_counts_per_campaign():
    customer = CustomerFactory()
    reserve(customer, VariantFactory())
    reserve(customer, VariantFactory())  # another campaign
    assert Reservation.objects.filter(customer=customer).count() == 2


def test_limit_of_two_allows_two_then_refuses():
    variant = VariantFactory(campaign=CampaignFactory(per_customer_limit=2))
    customer = CustomerFactory()
    slots = [reserve(customer, variant).slot for _ in range(2)]
    assert sorted(slots) == [1, 2]
    with pytest.raises(LimitReached):
        reserve(customer, variant)


def test_cancelling_frees_the_slot_and_a_new_reservation_goes_to_the_back():
    variant, customer = VariantFactory(), CustomerFactory()
    first = reserve(customer, variant)
    later = reserve(CustomerFactory(), variant)
    services.cancel_reservation(reservation=first, by="customer")

    again = reserve(customer, variant)
    assert again.pk != first.pk
    assert again.position > later.position


def test_before_the_window_opens_nothing_is_reserved():
    variant = VariantFactory(campaign=CampaignFactory(not_open_yet=True))
    with pytest.raises(ReservationsNotOpen):
        reserve(CustomerFactory(), variant)
    assert not Reservation.objects.exists()


def test_after_the_window_closes_nothing_is_reserved():
    variant = VariantFactory(campaign=CampaignFactory(closed=True))
    with pytest.raises(ReservationsClosed):
        reserve(CustomerFactory(), variant)
    assert not Reservation.objects.exists()


def test_the_service_clock_decides_the_window_boundary():
    campaign = CampaignFactory()
    variant = VariantFactory(campaign=campaign)
    with pytest.raises(ReservationsClosed):
        reserve(CustomerFactory(), variant, now=campaign.reservation_closes_at)
    with pytest.raises(ReservationsNotOpen):
        reserve(
            CustomerFactory(),
            variant,
            now=campaign.reservation_opens_at - timezone.timedelta(microseconds=1),
        )


def test_fulfilment_must_be_offered():
    variant = VariantFactory()  # festival pickup is off by default
    with pytest.raises(FulfilmentNotOffered):
        reserve(CustomerFactory(), variant, fulfilment=Fulfilment.FESTIVAL)


# The database refuses the same things when the service is bypassed.


def test_database_refuses_a_second_holding_reservation_in_the_same_slot():
    existing = ReservationFactory()
    with pytest.raises(IntegrityError) as excinfo, transaction.atomic():
        ReservationFactory(customer=existing.customer, variant=existing.variant)
    assert violated(excinfo) == "reservation_customer_slot_unique"


def test_database_refuses_a_slot_beyond_the_campaign_limit():
    with pytest.raises(IntegrityError) as excinfo, transaction.atomic():
        ReservationFactory(slot=2)
    assert violated(excinfo) == "reservation_within_customer_limit"


def test_database_refuses_reservations_outside_the_window():
    variant = VariantFactory(campaign=CampaignFactory(closed=True))
    with pytest.raises(IntegrityError) as excinfo, transaction.atomic():
        ReservationFactory(variant=variant)
    assert violated(excinfo) == "reservation_inside_window"


def test_database_refuses_fulfilment_the_campaign_does_not_offer():
    with pytest.raises(IntegrityError) as excinfo, transaction.atomic():
        ReservationFactory(fulfilment=Fulfilment.FESTIVAL)
    assert violated(excinfo) == "reservation_fulfilment_offered"


def test_database_refuses_a_variant_of_another_campaign():
    with pytest.raises(IntegrityError) as excinfo, transaction.atomic():
        ReservationFactory(campaign=CampaignFactory(), variant=VariantFactory())
    assert violated(excinfo) == "reservation_variant_in_campaign"


@pytest.mark.parametrize(
    "assignment",
    ["position = position + 1000", "number = '12345674'", "created_at = now()", "slot = 2"],
)
def test_database_refuses_to_change_a_reservations_identity(assignment):
    reservation = ReservationFactory()
    with (
        pytest.raises(IntegrityError) as excinfo,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            f"UPDATE reservations_reservation SET {assignment} WHERE id = %s",  # noqa: S608
            [reservation.pk],
        )
    assert violated(excinfo) == "reservation_identity_immutable"


def test_database_refuses_to_revive_a_cancelled_reservation():
    reservation = ReservationFactory()
    services.cancel_reservation(reservation=reservation, by="customer")
    with (
        pytest.raises(IntegrityError) as excinfo,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE reservations_reservation SET status = 'active', cancelled_at = NULL,"
            " cancelled_by = '' WHERE id = %s",
            [reservation.pk],
        )
    assert violated(excinfo) == "reservation_final_status"


def test_database_refuses_a_cancellation_without_when_and_who():
    reservation = ReservationFactory()
    with pytest.raises(IntegrityError) as excinfo, transaction.atomic():
        Reservation.objects.filter(pk=reservation.pk).update(status=ReservationStatus.CANCELLED)
    assert violated(excinfo) == "reservation_cancellation_recorded"


def test_queue_positions_are_never_reused_after_a_failed_insert():
    variant, customer = VariantFactory(), CustomerFactory()
    first = reserve(customer, variant)
    with pytest.raises(LimitReached):
        reserve(customer, variant)
    nxt = reserve(CustomerFactory(), variant)
    assert nxt.position > first.position
