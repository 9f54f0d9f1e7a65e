"""The customer's notification of an order's move, built once for both ways it is sent:
one at a time by transition(), and set-based by transition_many() for a pipeline batch.
PAYLOAD lists each field with its SQL over the batch's rows and its value for one order, so
a template sees the same payload whichever way the move was made."""

import json
from collections.abc import Callable
from typing import Any

from django.db import connection
from django.urls import reverse

from preorder_shop.models import OutboxChannel
from preorder_shop.outbox import queue_message
from reservations.models import Variant

from ..models import Order


def order_page_path(order: Order) -> str:
    """The customer's page of the order (the reservation's, before it has a number)."""
    if order.number:
        return reverse("orders:order_detail", kwargs={"number": order.number})
    return reverse("orders:reservation_detail", kwargs={"number": order.reservation.number})


# key -> (SQL over orders o, reservations r, customers c; value for one order). In SQL the
# variant label comes from the %(labels)s map and the page path from the order-page URL
# split around the number: a batch moves submitted orders only, which all have one.
PAYLOAD: dict[str, tuple[str, Callable[[Order], Any]]] = {
    "order_number": ("o.number", lambda o: o.number),
    "reservation_number": ("r.number", lambda o: o.reservation.number),
    "variant": ("%(labels)s::jsonb ->> r.variant_id::text", lambda o: str(o.reservation.variant)),
    "customer_name": ("c.name", lambda o: o.reservation.customer.name),
    "courier": ("o.courier", lambda o: o.courier),
    "tracking_number": ("o.tracking_number", lambda o: o.tracking_number),
    "status_url": ("%(url_prefix)s || o.number || %(url_suffix)s", order_page_path),
}


def notify(order: Order, reason: str, **extra: Any) -> None:
    """Queue the customer's message for the status `order` is now in (once per status)."""
    customer = order.reservation.customer
    queue_message(
        channel=OutboxChannel.SMS,
        recipient=customer.phone,
        template_key=f"order.{order.status}",
        payload={
            **{key: value(order) for key, (_sql, value) in PAYLOAD.items()},
            "reason": reason,
            **extra,
        },
        language=customer.language,
        idempotency_key=f"order:{order.pk}:{order.status}",
        reference=f"order:{order.pk}",
    )


_PAYLOAD_SQL = ", ".join(f"'{key}', {sql}" for key, (sql, _value) in PAYLOAD.items())

# The rows queue_from_select inserts for a batch of moved orders (reason: none).
NOTIFY_BATCH = f"""
SELECT 'sms', c.phone, 'order.' || o.status, c.language,
       jsonb_build_object({_PAYLOAD_SQL}, 'reason', ''),
       'order:' || o.id || ':' || o.status, 'order:' || o.id
  FROM orders_order o
  JOIN reservations_reservation r ON r.id = o.reservation_id
  JOIN preorder_shop_customer c ON c.id = r.customer_id
 WHERE o.id = ANY(%(ids)s)
"""  # noqa: S608 (built from the constants above)


def batch_params(order_ids: list[int]) -> dict:
    marker = "00000000000"
    prefix, suffix = reverse("orders:order_detail", kwargs={"number": marker}).split(marker)
    # The ids as one array parameter: an ORM __in over thousands of ids built, sent and
    # parsed a placeholder each (measured: a tenth of a pipeline batch).
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT DISTINCT r.variant_id
              FROM orders_order o JOIN reservations_reservation r ON r.id = o.reservation_id
             WHERE o.id = ANY(%s)
            """,
            [order_ids],
        )
        variants = Variant.objects.filter(pk__in=[row[0] for row in cursor.fetchall()])
    return {
        "labels": json.dumps({str(v.pk): str(v) for v in variants}),
        "url_prefix": prefix,
        "url_suffix": suffix,
    }
