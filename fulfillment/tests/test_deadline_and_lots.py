"""The last-day reminder before held units are released, and lots that cannot shrink below
what they gave out."""

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from fulfillment.models import StockLot
from fulfillment.services import allocation
from orders.models import OrderStatus
from orders.tests.factories import order_in
from preorder_shop.models import OutboxMessage
from reservations.tests.factories import CampaignFactory, ReservationFactory, VariantFactory
from tests.admin_client import sign_in_to_admin

pytestmark = pytest.mark.django_db


@pytest.fixture
def variant():
    return VariantFactory(campaign=CampaignFactory())


def lot(variant, quantity):
    return StockLot.objects.create(
        variant=variant,
        quantity=quantity,
        arrives_at=timezone.now() - dt.timedelta(hours=1),
        reference=f"L{quantity}",
    )


def test_holders_without_an_order_form_are_reminded_once_on_the_last_day(variant):
    campaign = variant.campaign
    waiting = ReservationFactory(variant=variant)
    ordered = order_in(OrderStatus.RECEIVED, reservation=ReservationFactory(variant=variant))
    lot(variant, 2)
    allocation.allocate_variant(variant=variant)
    deadline = campaign.order_closes_at

    too_early = deadline - dt.timedelta(hours=30)
    assert allocation.remind_before_deadline(campaign=campaign, now=too_early) == 0
    last_day = deadline - dt.timedelta(hours=5)
    assert allocation.remind_before_deadline(campaign=campaign, now=last_day) == 1
    assert allocation.remind_before_deadline(campaign=campaign, now=last_day) == 0

    reminders = OutboxMessage.objects.filter(template_key="allocation.deadline_reminder")
    assert [m.reference for m in reminders] == [f"reservation:{waiting.pk}"]
    assert ordered.reservation_id != waiting.pk
    assert allocation.remind_before_deadline(campaign=campaign, now=deadline) == 0


def test_a_lot_cannot_shrink_below_its_allocated_units(variant):
    stock = lot(variant, 3)
    for _ in range(2):
        ReservationFactory(variant=variant)
    allocation.allocate_variant(variant=variant)

    StockLot.objects.filter(pk=stock.pk).update(quantity=2)  # still covers both units
    with pytest.raises(IntegrityError) as excinfo, transaction.atomic():
        StockLot.objects.filter(pk=stock.pk).update(quantity=1)
    assert excinfo.value.__cause__.diag.constraint_name == "stock_lot_within_allocations"
    with pytest.raises(IntegrityError), transaction.atomic():
        StockLot.objects.filter(pk=stock.pk).update(
            variant=VariantFactory(campaign=variant.campaign)
        )


def test_admin_explains_instead_of_failing_when_a_lot_would_shrink(client, admin_user, variant):
    admin_client = sign_in_to_admin(client, admin_user)
    stock = lot(variant, 3)
    for _ in range(2):
        ReservationFactory(variant=variant)
    allocation.allocate_variant(variant=variant)
    url = reverse("admin:fulfillment_stocklot_change", args=[stock.pk])
    response = admin_client.post(
        url,
        {
            "variant": variant.pk,
            "quantity": 1,
            "arrives_at_0": timezone.localtime(stock.arrives_at).strftime("%Y-%m-%d"),
            "arrives_at_1": timezone.localtime(stock.arrives_at).strftime("%H:%M:%S"),
            "reference": stock.reference,
        },
    )
    assert response.status_code == 200
    assert "2 units of this lot are allocated" in response.content.decode()
    stock.refresh_from_db()
    assert stock.quantity == 3
