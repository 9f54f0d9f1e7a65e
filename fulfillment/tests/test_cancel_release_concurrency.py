"""A cancel racing an allocation run, on real separate connections: the run has given the
reservation a unit and not committed yet, so the cancel cannot see that unit. The trigger
of migration 0012 waits for the run (the variant's queue lock) and then releases it; without
that wait the unit stayed held for a cancelled reservation until the next run."""

import threading

import pytest
from django.db import connection, transaction

from fulfillment.models import Allocation
from fulfillment.services.allocation import allocate_variant
from fulfillment.tests.factories import StockLotFactory, ordered_reservation, reservations_in_line
from orders.services import cancel_by_customer
from reservations.models import CancelledBy, Reservation, ReservationStatus
from reservations.services import cancel_reservation
from reservations.tests.factories import VariantFactory

pytestmark = pytest.mark.django_db(transaction=True)


def cancel_plain(reservation: Reservation) -> None:
    cancel_reservation(reservation=reservation, by=CancelledBy.CUSTOMER)


def cancel_order(reservation: Reservation) -> None:
    """The order machine's cancel: the order's row first, then a plain UPDATE of the
    reservation; only the trigger can make it wait."""
    cancel_by_customer(reservation=reservation, customer=reservation.customer)


@pytest.mark.parametrize(
    ("make", "cancel"),
    [
        (lambda v: reservations_in_line(v, 1)[0], cancel_plain),
        (ordered_reservation, cancel_order),
    ],
    ids=["reservation", "received-order"],
)
def test_a_cancel_during_a_run_that_gives_it_a_unit_releases_that_unit(make, cancel):
    variant = VariantFactory()
    StockLotFactory(variant=variant, quantity=1)
    ends = make(variant)
    given, commit_run, cancelled = threading.Event(), threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            with transaction.atomic():
                outcome["run"] = allocate_variant(variant=variant)
                given.set()
                assert commit_run.wait(timeout=30)
        except Exception as exc:
            outcome["run_error"] = exc
        finally:
            given.set()
            connection.close()

    def end() -> None:
        try:
            cancel(Reservation.objects.select_related("customer").get(pk=ends.pk))
        except Exception as exc:
            outcome["cancel_error"] = exc
        finally:
            cancelled.set()
            connection.close()

    runner = threading.Thread(target=run)
    runner.start()
    assert given.wait(timeout=30)
    ender = threading.Thread(target=end)
    ender.start()
    waited = not cancelled.wait(timeout=1.0)  # the cancel waits for the run to commit
    commit_run.set()
    runner.join(timeout=30)
    ender.join(timeout=30)
    assert not runner.is_alive() and not ender.is_alive()
    assert "run_error" not in outcome and "cancel_error" not in outcome, outcome

    assert outcome["run"].allocated == 1
    assert Reservation.objects.get(pk=ends.pk).status == ReservationStatus.CANCELLED
    unit = Allocation.objects.get(reservation=ends)
    assert unit.released_at is not None, "a cancelled reservation still holds a unit"
    assert unit.release_reason == "reservation_ended"
    assert waited, "the cancel did not wait for the allocation run in flight"
    with connection.cursor() as cursor:
        cursor.execute("SELECT active FROM fulfillment_lot_usage WHERE lot_id = %s", [unit.lot_id])
        assert cursor.fetchone() == (0,)
