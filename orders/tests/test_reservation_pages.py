"""The customer's reservation pages (list, detail, cancel), served by the orders app."""

import re

import pytest
from django.urls import reverse

from orders.tests.pages import masked
from reservations.models import CancelledBy, Reservation, ReservationStatus
from reservations.tests.factories import ReservationFactory, VariantFactory
from tests.pages import text

pytestmark = pytest.mark.django_db


def detail_url(reservation) -> str:
    return reverse("orders:reservation_detail", args=[reservation.number])


def reserve_url(campaign):
    return reverse("reservations:reserve", kwargs={"slug": campaign.slug})


def test_reserve_form_and_resubmission_give_one_reservation(signed_in, customer):
    variant = VariantFactory()
    page = text(signed_in.get(variant.campaign.get_absolute_url()))
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page).group(1)
    data = {"variant": variant.pk, "fulfilment": "courier", "idempotency_key": key}

    first = signed_in.post(reserve_url(variant.campaign), data)
    second = signed_in.post(reserve_url(variant.campaign), data)

    reservation = Reservation.objects.get(customer=customer)
    assert first["Location"] == second["Location"] == detail_url(reservation)
    page = text(signed_in.get(detail_url(reservation)))
    assert f"#1 of 1 for {variant}" in page


def test_my_reservations_show_number_variant_status_and_standing(signed_in, customer):
    variant = VariantFactory(model_name="iPhone 15", capacity_gb=128, colour="Pink")
    ReservationFactory.create_batch(2, variant=variant)
    mine = ReservationFactory(customer=customer, variant=variant)
    page = text(signed_in.get(reverse("orders:my_reservations")))
    assert mine.number in page
    assert "#3 of 3 for iPhone 15 128 GB Pink" in page
    assert "Active" in page


def test_a_foreign_reservation_number_reveals_nothing(signed_in):
    foreign = ReservationFactory()
    unknown = signed_in.get(reverse("orders:reservation_detail", args=["12345678"]))
    theirs = signed_in.get(detail_url(foreign))
    assert unknown.status_code == theirs.status_code == 404
    assert foreign.customer.name not in text(theirs)
    # The same page but for the address itself (the language switch returns to it).
    assert masked(text(unknown).replace("12345678", foreign.number)) == masked(text(theirs))


def test_a_foreign_reservation_cannot_be_cancelled(signed_in):
    foreign = ReservationFactory()
    url = reverse("orders:reservation_cancel", args=[foreign.number])
    assert signed_in.get(url).status_code == 404
    response = signed_in.post(url, {"confirm": "reservation"})
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == ReservationStatus.ACTIVE


def test_cancel_button_only_while_active_and_server_refuses_otherwise(signed_in, customer):
    reservation = ReservationFactory(customer=customer)
    cancel_url = reverse("orders:reservation_cancel", args=[reservation.number])
    assert "Cancel reservation" in text(signed_in.get(detail_url(reservation)))

    response = signed_in.post(cancel_url, {"confirm": "reservation"}, follow=True)
    page = text(response)
    assert "is cancelled" in page
    assert "Cancel reservation" not in page
    reservation.refresh_from_db()
    assert reservation.status == ReservationStatus.CANCELLED
    assert reservation.cancelled_by == CancelledBy.CUSTOMER
    cancelled_at = reservation.cancelled_at

    again = text(signed_in.post(cancel_url, {"confirm": "reservation"}, follow=True))
    assert "can no longer be cancelled" in again
    reservation.refresh_from_db()
    assert reservation.cancelled_at == cancelled_at


def test_cancel_acts_only_on_a_confirming_post(signed_in, customer):
    reservation = ReservationFactory(customer=customer)
    url = reverse("orders:reservation_cancel", args=[reservation.number])
    assert signed_in.get(url).status_code == 200  # the confirmation page
    assert signed_in.post(url)["Location"] == url  # no confirm field: back to it
    assert signed_in.put(url).status_code == 405
    reservation.refresh_from_db()
    assert reservation.status == ReservationStatus.ACTIVE
