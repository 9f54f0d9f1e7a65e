"""Notices, and the customers of several campaigns, variants and ways of receiving that the
notice tests message and show them to."""

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from orders.models import OrderStatus
from orders.tests.factories import order_in, staff_user
from preorder_shop.tests.factories import CustomerFactory
from reservations.models import CancelledBy, Fulfilment, Reservation
from reservations.services import cancel_reservation
from reservations.tests.factories import (
    CampaignFactory,
    ReservationFactory,
    VariantFactory,
    expire,
)
from support.models import Notice


def notice(campaign, **fields) -> Notice:
    now = timezone.now()
    values = {
        "title_ko": "배송 지연 안내",
        "body_ko": "새벽 배송이 하루 늦어집니다.",
        "title_en": "Delivery delay",
        "body_en": "Dawn delivery is one day late.",
        "starts_at": now - dt.timedelta(hours=1),
        "ends_at": now + dt.timedelta(days=1),
        "published": True,
        "created_by": staff_user("notice-author"),
        **fields,
    }
    return Notice.objects.create(campaign=campaign, **values)


@dataclass
class World:
    """Campaign A (variants a1, a2; per-customer limit 2) and campaign B, and customers:

    courier_a1   a1 by courier, active
    dawn_a2      a2 at dawn, order received (reservation ordered)
    both         a1 and a2 by courier, both active (one message, never two)
    english      a1 at dawn, active, reads English
    cancelled    a1 by courier, cancelled
    expired      a2 by courier, expired
    order_gone   a1 by courier, order cancelled (and its reservation with it)
    only_b       campaign B only
    """

    a: object
    b: object
    a1: object
    a2: object
    customers: dict
    reservations: dict

    def phones(self, *names: str) -> set[str]:
        return {self.customers[n].phone for n in names}


def world() -> World:
    a = CampaignFactory(per_customer_limit=2)
    b = CampaignFactory()
    a1 = VariantFactory(campaign=a)
    a2 = VariantFactory(campaign=a)
    b1 = VariantFactory(campaign=b)
    c = {
        name: CustomerFactory(language="en" if name == "english" else "ko")
        for name in [
            "courier_a1",
            "dawn_a2",
            "both",
            "english",
            "cancelled",
            "expired",
            "order_gone",
            "only_b",
        ]
    }
    r = {
        "courier_a1": ReservationFactory(customer=c["courier_a1"], variant=a1),
        "dawn_a2": order_in(
            OrderStatus.RECEIVED,
            reservation=ReservationFactory(
                customer=c["dawn_a2"], variant=a2, fulfilment=Fulfilment.DAWN
            ),
        ).reservation,
        "both_a1": ReservationFactory(customer=c["both"], variant=a1),
        "both_a2": ReservationFactory(customer=c["both"], variant=a2, slot=2),
        "english": ReservationFactory(
            customer=c["english"], variant=a1, fulfilment=Fulfilment.DAWN
        ),
        "cancelled": ReservationFactory(customer=c["cancelled"], variant=a1),
        "expired": expire(ReservationFactory(customer=c["expired"], variant=a2)),
        "order_gone": order_in(
            OrderStatus.CANCELLED,
            reservation=ReservationFactory(customer=c["order_gone"], variant=a1),
        ).reservation,
        "only_b": ReservationFactory(customer=c["only_b"], variant=b1),
    }
    cancel_reservation(reservation=r["cancelled"], by=CancelledBy.CUSTOMER)
    r = {name: Reservation.objects.get(pk=row.pk) for name, row in r.items()}
    return World(a=a, b=b, a1=a1, a2=a2, customers=c, reservations=r)
