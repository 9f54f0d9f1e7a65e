"""Reservations have a history: every status change (ordered, cancelled, expired) and the
festival draw's outcome write one append-only row in the same transaction, whoever makes
the change; the database requires the row at commit; the reservation page shows it."""

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from fulfillment.services import lottery
from orders import services as order_services
from orders.models import OrderStatus
from orders.tests.factories import order_in, staff_user
from preorder_shop.actors import Actor, ActorKind
from reservations import services
from reservations.models import (
    CancelledBy,
    ChangedField,
    Fulfilment,
    ReservationChange,
    ReservationStatus,
)
from reservations.tests.factories import CampaignFactory, ReservationFactory, VariantFactory
from tests.pages import text

pytestmark = pytest.mark.django_db

OPS = Actor.operator("test-ops")

S = OrderStatus


def history(reservation) -> list[tuple]:
    return list(
        ReservationChange.objects.filter(reservation=reservation)
        .order_by("at", "pk")
        .values_list("field", "from_value", "to_value", "actor_kind")
    )


def test_a_customer_cancellation_is_recorded():
    reservation = ReservationFactory()
    services.cancel_reservation(reservation=reservation, by=CancelledBy.CUSTOMER)
    assert history(reservation) == [("status", "active", "cancelled", "customer")]


def test_a_staff_cancellation_names_the_staff_member():
    reservation = ReservationFactory()
    ops = staff_user("ops")
    services.cancel_reservation(reservation=reservation, by=CancelledBy.STAFF, staff_user=ops)
    change = ReservationChange.objects.get(reservation=reservation)
    assert (change.actor_kind, change.actor_user) == (ActorKind.STAFF, ops)


def test_submitting_the_order_form_and_cancelling_the_order_are_recorded():
    order = order_in(S.RECEIVED)
    reservation = order.reservation
    assert history(reservation) == [("status", "active", "ordered", "customer")]

    order_services.cancel_by_customer(reservation=reservation, customer=reservation.customer)

    assert history(reservation)[-1] == ("status", "ordered", "cancelled", "customer")


def test_the_order_form_deadline_expires_reservations_with_a_row_each():
    campaign = CampaignFactory()
    variant = VariantFactory(campaign=campaign)
    waiting = [ReservationFactory(variant=variant) for _ in range(3)]
    ordered = order_in(S.RECEIVED, reservation=ReservationFactory(variant=variant)).reservation

    after = campaign.order_closes_at + dt.timedelta(minutes=1)
    assert order_services.close_order_window(campaign=campaign, now=after) == 3

    for reservation in waiting:
        assert history(reservation) == [("status", "active", "expired", "worker")]
        assert ReservationChange.objects.get(reservation=reservation).at == after
    assert [row[2] for row in history(ordered)] == ["ordered"]


def test_the_festival_draw_records_each_entrants_outcome():
    campaign = CampaignFactory(with_festival=True, festival_capacity=1)
    variant = VariantFactory(campaign=campaign)
    entrants = [
        ReservationFactory(variant=variant, fulfilment=Fulfilment.FESTIVAL) for _ in range(3)
    ]
    seed = "5eed" * 16
    lottery.commit_draw(actor=OPS, campaign=campaign, seed=seed)
    lottery.reveal_draw(
        actor=OPS,
        campaign=campaign,
        seed=seed,
        now=campaign.reservation_closes_at + dt.timedelta(minutes=1),
    )

    outcomes = sorted(history(r)[0][:3] for r in entrants)
    assert outcomes == [
        ("festival_draw", "", "won"),
        ("fulfilment", "festival", "courier"),
        ("fulfilment", "festival", "courier"),
    ]


# The database


def test_a_raw_status_change_without_its_row_is_refused_at_commit():
    reservation = ReservationFactory()
    with (
        pytest.raises(IntegrityError) as refused,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE reservations_reservation SET status = 'expired' WHERE id = %s",
            [reservation.pk],
        )
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    assert refused.value.__cause__.diag.constraint_name == "reservation_history_required"
    reservation.refresh_from_db()
    assert reservation.status == ReservationStatus.ACTIVE


def test_the_history_is_append_only():
    reservation = ReservationFactory()
    services.cancel_reservation(reservation=reservation, by=CancelledBy.CUSTOMER)
    change = ReservationChange.objects.get(reservation=reservation)
    for statement in (
        "UPDATE reservations_reservationchange SET reason = 'rewritten' WHERE id = %s",
        "DELETE FROM reservations_reservationchange WHERE id = %s",
    ):
        with (
            pytest.raises(IntegrityError) as refused,
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [change.pk])
        assert refused.value.__cause__.diag.constraint_name == "reservation_history_append_only"
    assert ReservationChange.objects.filter(field=ChangedField.STATUS).count() == 1


# The page


def test_the_reservation_page_shows_its_history(signed_in, customer):
    order = order_in(S.RECEIVED, reservation=ReservationFactory(customer=customer))
    reservation = order.reservation
    order_services.cancel_by_customer(reservation=reservation, customer=customer)

    page = text(signed_in.get(reverse("orders:reservation_detail", args=[reservation.number])))

    history_html = page[page.index('data-testid="reservation-history"') :]
    labels = ["Reserved", "Order form submitted", "Cancelled by you"]
    positions = [history_html.index(label) for label in labels]
    assert positions == sorted(positions)
