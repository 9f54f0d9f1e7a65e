"""Helpers for tests of the line's counters (reservations.lines): the state of the tables,
what it must be (counted naively), and the writes that end reservations as the apps do."""

from django.db import connection, transaction
from django.utils import timezone

from preorder_shop.actors import Actor
from reservations import lines, services
from reservations.history import record_change, record_changes
from reservations.models import CancelledBy, ChangedField, Reservation, ReservationStatus

B = lines.BUCKET


def execute(sql: str, params=None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def next_position_at(position: int) -> None:
    """The next reservation (of any variant) draws `position`; only ever moves forward."""
    [(last,)] = execute("SELECT last_value FROM reservations_queue_position_seq")
    assert position > last, "the sequence only moves forward here"
    execute("SELECT setval('reservations_queue_position_seq', %s)", [position - 1])


def skip_positions(count: int) -> None:
    [(last,)] = execute("SELECT last_value FROM reservations_queue_position_seq")
    next_position_at(last + 1 + count)


def holding(variant) -> list[Reservation]:
    return list(Reservation.objects.holding().filter(variant=variant).order_by("position"))


def counted_upto(variant) -> int | None:
    rows = execute(
        "SELECT counted_upto FROM reservations_line_count WHERE variant_id = %s", [variant.pk]
    )
    return rows[0][0] if rows else None


def refreshed(variant) -> bool:
    return execute(
        "SELECT total_at IS NOT NULL FROM reservations_line_count WHERE variant_id = %s",
        [variant.pk],
    ) == [(True,)]


def stored_buckets(variant) -> dict[int, int]:
    rows = execute(
        "SELECT bucket, holding FROM reservations_line_bucket"
        " WHERE variant_id = %s AND holding > 0",
        [variant.pk],
    )
    return dict(rows)


def naive_buckets(variant) -> dict[int, int]:
    """What the buckets must hold: holding reservations at or below the watermark."""
    upto = counted_upto(variant) or 0
    buckets: dict[int, int] = {}
    for r in holding(variant):
        if r.position <= upto:
            buckets[r.position // B] = buckets.get(r.position // B, 0) + 1
    return buckets


@transaction.atomic  # the history row commits with the change (migration 0006)
def expire_set_based(variant, *, up_to_position: int) -> list[int]:
    """The order-form deadline's UPDATE (orders.services.batch.close_order_window), bounded
    to a part of the line, with the history rows the database requires."""
    ids = [
        row[0]
        for row in execute(
            "UPDATE reservations_reservation SET status = 'expired'"
            " WHERE variant_id = %s AND status = 'active' AND position <= %s RETURNING id",
            [variant.pk, up_to_position],
        )
    ]
    record_changes(
        reservation_ids=ids,
        field=ChangedField.STATUS,
        from_value=ReservationStatus.ACTIVE,
        to_value=ReservationStatus.EXPIRED,
        actor=Actor.worker("order-deadline"),
        at=timezone.now(),
    )
    return ids


@transaction.atomic  # the history row commits with the change (migration 0006)
def submit_order(reservation) -> None:
    """Active -> ordered, as the order machine moves it: the reservation keeps its place."""
    Reservation.objects.filter(pk=reservation.pk).update(status=ReservationStatus.ORDERED)
    record_change(
        reservation=reservation,
        field=ChangedField.STATUS,
        from_value=ReservationStatus.ACTIVE,
        to_value=ReservationStatus.ORDERED,
        actor=Actor.customer(),
        at=timezone.now(),
    )


@transaction.atomic  # the history row commits with the change (migration 0006)
def cancel(reservation) -> None:
    """Cancel whatever holds: an active one through the service, an ordered one as the order
    machine's cancel does (one UPDATE of the row)."""
    reservation.refresh_from_db()
    if reservation.status == ReservationStatus.ACTIVE:
        services.cancel_reservation(reservation=reservation, by=CancelledBy.CUSTOMER)
        return
    now = timezone.now()
    Reservation.objects.filter(pk=reservation.pk).update(
        status=ReservationStatus.CANCELLED, cancelled_at=now, cancelled_by=CancelledBy.CUSTOMER
    )
    record_change(
        reservation=reservation,
        field=ChangedField.STATUS,
        from_value=reservation.status,
        to_value=ReservationStatus.CANCELLED,
        actor=Actor.customer(),
        at=now,
    )
