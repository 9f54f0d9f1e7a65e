"""Cancel reservation, cancel order and discard draft ask first, on a page of their own that
says exactly what will happen; the POST acts only with the confirm field naming what that
page said (orders.selectors.CancelPlan.token, "draft" for a discard)."""

import pytest
from django.urls import reverse

from fulfillment.services.allocation import allocate_variant
from fulfillment.tests.factories import StockLotFactory, holders
from orders.models import Order, OrderStatus
from orders.services import submit_order
from orders.tests.factories import RatePlanFactory, complete_answers, give_unit, order_in
from reservations.models import ReservationStatus
from reservations.tests.factories import ReservationFactory
from tests.pages import text

pytestmark = pytest.mark.django_db

S = OrderStatus
RESERVED = "A phone is reserved for you."


@pytest.fixture
def reservation(customer):
    reservation = ReservationFactory(customer=customer)
    RatePlanFactory(campaign=reservation.campaign)
    return reservation


def detail_url(reservation) -> str:
    return reverse("orders:reservation_detail", args=[reservation.number])


def cancel_url(reservation) -> str:
    return reverse("orders:reservation_cancel", args=[reservation.number])


def order_cancel_url(order) -> str:
    return reverse("orders:order_cancel", args=[order.number])


def discard_url(reservation) -> str:
    return reverse("orders:order_discard", args=[reservation.number])


def status_of(obj) -> str:
    obj.refresh_from_db()
    return obj.status


# The reservation's cancel.


def test_the_reservation_page_links_to_the_confirmation_instead_of_acting(signed_in, reservation):
    page = signed_in.get(detail_url(reservation)).content.decode()
    assert f'href="{cancel_url(reservation)}"' in page
    assert f'action="{cancel_url(reservation)}"' not in page


def test_the_confirmation_says_what_happens_and_a_bare_post_does_nothing(signed_in, reservation):
    page = text(signed_in.get(cancel_url(reservation)))
    assert f"Cancel reservation {reservation.number}?" in page
    assert f"Your reservation {reservation.number} for {reservation.variant} is cancelled." in page
    assert "You give up your place in line: #1 of 1." in page
    assert "This also cancels order" not in page
    assert (
        'name="confirm" value="reservation"'
        in signed_in.get(cancel_url(reservation)).content.decode()
    )

    bare = signed_in.post(cancel_url(reservation))
    assert (bare.status_code, bare["Location"]) == (302, cancel_url(reservation))
    assert status_of(reservation) == ReservationStatus.ACTIVE


def test_with_a_live_order_the_page_says_it_cancels_that_order_too(signed_in, reservation):
    order = order_in(S.RECEIVED, reservation=reservation)
    page = text(signed_in.get(cancel_url(reservation)))
    assert f"This also cancels order {order.number}." in page

    response = signed_in.post(
        cancel_url(reservation), {"confirm": f"order-{order.number}"}, follow=True
    )
    assert f"Your reservation {reservation.number} is cancelled." in text(response)
    assert status_of(order) == S.CANCELLED
    assert status_of(reservation) == ReservationStatus.CANCELLED


def test_with_a_draft_the_page_says_the_form_is_discarded_too(signed_in, reservation):
    order_in(S.DRAFT, reservation=reservation)
    page = text(signed_in.get(cancel_url(reservation)))
    assert "Your unfinished order form is discarded with it." in page


def test_a_confirmation_opened_before_the_order_was_submitted_cancels_nothing(
    signed_in, reservation
):
    """Page opened with a draft ("discarded with it"); the order is submitted in another
    tab; the old page's confirm must not cancel an order it never mentioned."""
    draft = order_in(S.DRAFT, reservation=reservation)
    assert "discarded with it" in text(signed_in.get(cancel_url(reservation)))
    order = submit_order(
        order=draft, customer=reservation.customer, values=complete_answers(draft)
    )

    stale = signed_in.post(cancel_url(reservation), {"confirm": "draft"})

    assert stale.status_code == 409
    page = text(stale)
    assert "What would happen has changed since you opened this page." in page
    assert f"This also cancels order {order.number}." in page
    assert status_of(order) == S.RECEIVED
    assert status_of(reservation) == ReservationStatus.ORDERED


def test_a_reservation_that_cannot_be_cancelled_gets_no_confirmation(signed_in, reservation):
    order_in(S.PREPARING, reservation=reservation)
    response = signed_in.get(cancel_url(reservation), follow=True)
    assert response.redirect_chain[-1][0] == detail_url(reservation)
    assert "can no longer be cancelled" in text(response)
    assert "Cancel reservation" not in text(response)


def test_after_the_cancel_commits_no_page_says_a_phone_is_reserved(signed_in, customer):
    mine = ReservationFactory(customer=customer)
    next_in_line = ReservationFactory(variant=mine.variant)
    StockLotFactory(variant=mine.variant, quantity=1)
    allocate_variant(variant=mine.variant)
    assert RESERVED in text(signed_in.get(detail_url(mine)))

    signed_in.post(cancel_url(mine), {"confirm": "reservation"})

    page = text(signed_in.get(detail_url(mine)))
    assert "Cancelled" in page
    assert RESERVED not in page
    allocate_variant(variant=mine.variant)
    assert holders(mine.variant) == [next_in_line.pk]


# The order's cancel.


def test_the_order_cancel_confirmation_names_the_reservation_it_ends(signed_in, reservation):
    order = order_in(S.RECEIVED, reservation=reservation)
    give_unit(reservation)
    page = signed_in.get(reverse("orders:order_detail", args=[order.number])).content.decode()
    assert f'href="{order_cancel_url(order)}"' in page
    assert f'action="{order_cancel_url(order)}"' not in page

    confirmation = text(signed_in.get(order_cancel_url(order)))
    assert f"Cancel order {order.number}?" in confirmation
    assert f"This also cancels your reservation {reservation.number}." in confirmation

    assert signed_in.post(order_cancel_url(order))["Location"] == order_cancel_url(order)
    assert status_of(order) == S.RECEIVED

    response = signed_in.post(
        order_cancel_url(order), {"confirm": f"order-{order.number}"}, follow=True
    )
    assert f"Your order {order.number} is cancelled." in text(response)
    assert status_of(order) == S.CANCELLED
    assert RESERVED not in text(signed_in.get(detail_url(reservation)))


def test_an_order_being_prepared_gets_no_cancel_confirmation(signed_in, reservation):
    order = order_in(S.PREPARING, reservation=reservation)
    response = signed_in.get(order_cancel_url(order), follow=True)
    assert "can no longer be cancelled" in text(response)
    confirmed = signed_in.post(
        order_cancel_url(order), {"confirm": f"order-{order.number}"}, follow=True
    )
    assert "can no longer be cancelled" in text(confirmed)
    assert status_of(order) == S.PREPARING


# Discarding the draft.


def test_discard_asks_first_and_keeps_the_reservation(signed_in, reservation):
    signed_in.post(reverse("orders:order_form", args=[reservation.number]))
    draft = Order.objects.get(reservation=reservation)
    form_page = signed_in.get(reverse("orders:order_form", args=[reservation.number]))
    assert f'href="{discard_url(reservation)}"' in form_page.content.decode()

    page = text(signed_in.get(discard_url(reservation)))
    assert "Discard this order form?" in page
    assert f"Your reservation {reservation.number} stays active." in page
    assert "You can start a new order form until" in page

    assert signed_in.post(discard_url(reservation))["Location"] == discard_url(reservation)
    assert status_of(draft) == S.DRAFT

    signed_in.post(discard_url(reservation), {"confirm": "draft"})
    assert status_of(draft) == S.DISCARDED
    assert status_of(reservation) == ReservationStatus.ACTIVE


def test_without_a_draft_the_discard_page_sends_back_to_the_reservation(signed_in, reservation):
    response = signed_in.get(discard_url(reservation))
    assert response["Location"] == detail_url(reservation)
