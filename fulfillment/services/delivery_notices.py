"""A new message when a held unit's expected delivery changes (services.expected).

The festival draw's own messages (festival.won, festival.not_drawn) already carry the new
expected delivery, so the draw sends nothing more. A hold placed or released changes it
(no date while staff check the order); those doors call notify_delivery_changed with the
hold as the cause. The message names the cause in its idempotency key, so a retried call
sends nothing more, and a new cause (another hold) sends a new message. Its expected-delivery
line is read when it is sent, in the customer's language, like every other surface's.
Set-based: one statement for any number of reservations.
"""

import json

from django.urls import reverse

from preorder_shop.outbox import queue_from_select
from reservations.models import Variant

NOTIFY = """
SELECT 'sms', c.phone, 'delivery.changed', c.language,
       jsonb_build_object(
           'reservation_number', r.number, 'customer_name', c.name,
           'variant', %(labels)s::jsonb ->> r.variant_id::text,
           'status_url', replace(%(status_url)s::text, '00000000', r.number)),
       'delivery:' || %(cause)s::text || ':' || r.id, 'reservation:' || r.id
  FROM reservations_reservation r
  JOIN preorder_shop_customer c ON c.id = r.customer_id
 WHERE r.id = ANY(%(ids)s) AND r.status IN ('active', 'ordered')
   AND EXISTS (SELECT 1 FROM fulfillment_allocation a
                WHERE a.reservation_id = r.id AND a.variant_id = r.variant_id
                  AND a.released_at IS NULL)
"""


def notify_delivery_changed(*, reservation_ids: list[int], cause: str) -> int:
    """Queue 'delivery.changed' for each of these reservations that holds a unit (the
    others expect no delivery yet), in the caller's transaction, once per `cause` (e.g.
    "hold:42"). Returns how many were queued."""
    variants = Variant.objects.filter(reservations__id__in=reservation_ids).distinct()
    return queue_from_select(
        NOTIFY,
        {
            "ids": reservation_ids,
            "labels": json.dumps({str(v.pk): str(v) for v in variants}),
            "cause": cause,
            "status_url": reverse("orders:reservation_detail", kwargs={"number": "00000000"}),
        },
    )
