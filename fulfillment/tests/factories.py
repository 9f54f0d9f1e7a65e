"""Stock lots and the reservations allocation works on."""

import datetime as dt

import factory
from django.utils import timezone

from fulfillment.models import Allocation, StockLot
from orders.tests.factories import order_in
from reservations.models import Reservation, Variant
from reservations.tests.factories import ReservationFactory, VariantFactory


class StockLotFactory(factory.django.DjangoModelFactory):
    """A lot that arrived an hour ago; `arriving` puts it two days ahead."""

    class Meta:
        model = StockLot

    variant = factory.SubFactory(VariantFactory)
    quantity = 10
    arrives_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(hours=1))
    reference = factory.Sequence(lambda n: f"SHIP-{n:06d}")

    class Params:
        arriving = factory.Trait(
            arrives_at=factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=2))
        )


def reservations_in_line(variant: Variant, count: int) -> list[Reservation]:
    """`count` active reservations of `variant`, in queue order (each INSERT draws a later
    position than the one before)."""
    made = [ReservationFactory(variant=variant) for _ in range(count)]
    assert [r.position for r in made] == sorted(r.position for r in made)
    return made


def ordered_reservation(variant: Variant) -> Reservation:
    """A reservation of `variant` whose order form is submitted (status 'ordered')."""
    order = order_in("received", reservation__variant=variant)
    reservation = order.reservation
    reservation.refresh_from_db()
    return reservation


def holders(variant: Variant) -> list[int]:
    """Reservation ids holding a unit of `variant` now, in queue order."""
    return list(
        Allocation.objects.filter(variant=variant, released_at__isnull=True)
        .order_by("reservation__position")
        .values_list("reservation_id", flat=True)
    )


def active_units_by_lot(variant: Variant) -> dict[int, int]:
    counts: dict[int, int] = {}
    for lot_id in Allocation.objects.filter(variant=variant, released_at__isnull=True).values_list(
        "lot_id", flat=True
    ):
        counts[lot_id] = counts.get(lot_id, 0) + 1
    return counts
