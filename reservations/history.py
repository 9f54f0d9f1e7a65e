"""A reservation's history: one append-only row per change of its status or of how it is
received, and the festival draw's outcome, written in the same transaction as the change by
whichever app makes it (reservations, orders, the fulfilment lottery). The database requires
the row of every status and fulfilment change at commit (migration 0006)."""

import datetime as dt

from django.db import connection

from preorder_shop.actors import Actor

from .models import ChangedField, Reservation, ReservationChange

RECORD_MANY = """
INSERT INTO reservations_reservationchange
       (reservation_id, field, from_value, to_value, at, actor_kind, actor_user_id,
        actor_label, reason)
SELECT id, %(field)s, %(from)s, %(to)s, %(at)s, %(kind)s, %(user)s, %(label)s, %(reason)s
  FROM unnest(%(ids)s::bigint[]) AS changed(id)
"""


def record_change(
    *,
    reservation: Reservation,
    field: ChangedField,
    from_value: str,
    to_value: str,
    actor: Actor,
    at: dt.datetime,
    reason: str = "",
) -> ReservationChange:
    return ReservationChange.objects.create(
        reservation=reservation,
        field=field,
        from_value=from_value,
        to_value=to_value,
        at=at,
        reason=reason,
        **ReservationChange.fields_for(actor),
    )


def record_changes(
    *,
    reservation_ids: list[int],
    field: ChangedField,
    from_value: str,
    to_value: str,
    actor: Actor,
    at: dt.datetime,
    reason: str = "",
) -> int:
    """record_change for many reservations that made the same change, in one statement."""
    if not reservation_ids:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            RECORD_MANY,
            {
                "ids": list(reservation_ids),
                "field": field,
                "from": from_value,
                "to": to_value,
                "at": at,
                "kind": actor.kind,
                "user": actor.user.pk if actor.user else None,
                "label": actor.label,
                "reason": reason,
            },
        )
        return cursor.rowcount
