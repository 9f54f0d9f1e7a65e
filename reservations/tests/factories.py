import datetime as dt
import uuid

import factory
from django.utils import timezone

from preorder_shop.actors import Actor
from preorder_shop.identifiers import RESERVATION_NUMBER
from preorder_shop.tests.factories import CustomerFactory
from reservations.history import record_change
from reservations.models import (
    Campaign,
    ChangedField,
    Fulfilment,
    Reservation,
    ReservationStatus,
    Variant,
)


class CampaignFactory(factory.django.DjangoModelFactory):
    """Open for reservations now (the database checks the window against its own clock)."""

    class Meta:
        model = Campaign

    name = factory.Sequence(lambda n: f"Campaign {n}")
    slug = factory.Sequence(lambda n: f"campaign-{n}")
    device_line = "iPhone 15"
    reservation_opens_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=1))
    reservation_closes_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=3))
    order_opens_at = factory.LazyAttribute(lambda c: c.reservation_opens_at)
    order_closes_at = factory.LazyAttribute(
        lambda c: c.reservation_closes_at + dt.timedelta(days=2)
    )
    # Launched yesterday by default, so tests can ship and deliver without waiting for the
    # launch embargo; `before_launch` puts the launch after the order-form window.
    launch_date = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=1))

    class Params:
        not_open_yet = factory.Trait(
            reservation_opens_at=factory.LazyFunction(
                lambda: timezone.now() + dt.timedelta(days=1)
            ),
            reservation_closes_at=factory.LazyFunction(
                lambda: timezone.now() + dt.timedelta(days=4)
            ),
        )
        closed = factory.Trait(
            reservation_opens_at=factory.LazyFunction(
                lambda: timezone.now() - dt.timedelta(days=5)
            ),
            reservation_closes_at=factory.LazyFunction(
                lambda: timezone.now() - dt.timedelta(days=1)
            ),
        )
        with_festival = factory.Trait(offers_festival_pickup=True, festival_capacity=100)
        before_launch = factory.Trait(
            launch_date=factory.LazyAttribute(
                lambda c: timezone.localdate(c.order_closes_at) + dt.timedelta(days=2)
            )
        )


class VariantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Variant

    campaign = factory.SubFactory(CampaignFactory)
    model_name = "iPhone 15 Pro"
    capacity_gb = factory.Iterator([128, 256, 512, 1024])
    colour = factory.Sequence(lambda n: f"Colour {n}")
    price_krw = 1_550_000


class ReservationFactory(factory.django.DjangoModelFactory):
    """A row as the intake service would write it; the position comes from the sequence."""

    class Meta:
        model = Reservation

    variant = factory.SubFactory(VariantFactory)
    campaign = factory.SelfAttribute("variant.campaign")
    customer = factory.SubFactory(CustomerFactory)
    fulfilment = Fulfilment.COURIER
    number = factory.LazyFunction(RESERVATION_NUMBER.generate)
    slot = 1
    idempotency_key = factory.LazyFunction(uuid.uuid4)


def expire(reservation: Reservation) -> Reservation:
    """End `reservation` as the order-form deadline does (status 'expired'), with its
    history row, which the database requires at commit."""
    Reservation.objects.filter(pk=reservation.pk).update(status=ReservationStatus.EXPIRED)
    record_change(
        reservation=reservation,
        field=ChangedField.STATUS,
        from_value=reservation.status,
        to_value=ReservationStatus.EXPIRED,
        actor=Actor.worker("order-deadline"),
        at=timezone.now(),
    )
    reservation.refresh_from_db()
    return reservation
