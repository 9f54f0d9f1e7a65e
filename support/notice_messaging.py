"""Messaging every customer a notice concerns (issue 14, section 4), set-based: one
INSERT ... SELECT into the outbox over the customers with a reservation of the notice's
scope that holds its place or has a live order (support.site_notices says who a notice
concerns; the SQL below says the same with the same constants). One message per customer,
however many reservations they hold; the idempotency key is the notice and the customer, so
a second click, or a retried request, queues nothing more, and a customer who becomes
affected later is messaged by the next click only.

Staff see `preview` (how many will be messaged now) and confirm with that count; the
INSERT checks the count in the same statement (one snapshot) and queues nothing when it has
changed, so what staff confirmed is what is sent.
"""

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from orders.models import CLOSED_STATUSES
from preorder_shop.actors import Actor
from preorder_shop.exceptions import DomainError
from preorder_shop.operations import record_operation
from preorder_shop.outbox import queue_from_select
from reservations.models import HOLDING_STATUSES

from .models import Notice

TEMPLATE_KEY = "support.notice"

# The customers to message now: concerned by the notice, and not messaged about it yet.
TARGETS = """
targets AS (
    SELECT c.id, c.phone, c.language
      FROM preorder_shop_customer c
     WHERE c.id IN (
               SELECT r.customer_id
                 FROM reservations_reservation r
                WHERE r.campaign_id = %(campaign)s
                  AND (%(variant)s::bigint IS NULL OR r.variant_id = %(variant)s::bigint)
                  AND (%(fulfilment)s::text = '' OR r.fulfilment = %(fulfilment)s::text)
                  AND (r.status = ANY(%(holding)s::text[])
                       OR EXISTS (SELECT 1 FROM orders_order o
                                   WHERE o.reservation_id = r.id
                                     AND o.status <> ALL(%(closed)s::text[]))))
       AND NOT EXISTS (SELECT 1 FROM preorder_shop_outboxmessage m
                        WHERE m.idempotency_key = %(key_prefix)s::text || c.id)
)
"""

COUNT = f"WITH {TARGETS} SELECT count(*) FROM targets"  # noqa: S608 - constants only

MESSAGES = """
SELECT 'sms', t.phone, %(template)s::text, t.language,
       jsonb_build_object(
           'title', CASE WHEN t.language = 'en' THEN %(title_en)s::text
                         ELSE %(title_ko)s::text END,
           'text', CASE WHEN t.language = 'en' THEN %(text_en)s::text
                        ELSE %(text_ko)s::text END,
           'path', %(path)s::text),
       %(key_prefix)s::text || t.id, %(reference)s::text
  FROM targets t
 WHERE (SELECT count(*) FROM targets) = %(expected)s
"""


class NoticeNotMessageable(DomainError):
    code = "notice_not_messageable"
    default_message = _("This notice has ended, so its customers cannot be messaged about it.")


class AffectedCountChanged(DomainError):
    code = "notice_affected_count_changed"
    default_message = _(
        "The number of customers to message has changed since the preview. Check the new "
        "number and confirm again."
    )


@dataclass(frozen=True)
class Messaged:
    queued: int


def _params(notice: Notice) -> dict:
    title_en, text_en, _language = notice.text_in("en")
    return {
        "campaign": notice.campaign_id,
        "variant": notice.variant_id,
        "fulfilment": notice.fulfilment,
        "holding": list(HOLDING_STATUSES),
        "closed": list(CLOSED_STATUSES),
        "key_prefix": f"notice:{notice.pk}:customer:",
        "reference": f"notice:{notice.pk}",
        "template": TEMPLATE_KEY,
        "title_ko": notice.title_ko,
        "text_ko": notice.body_ko,
        "title_en": title_en,
        "text_en": text_en,
        "path": reverse("orders:my_reservations"),
    }


def preview(*, notice: Notice) -> int:
    """How many customers `publish_and_message` would message now."""
    with connection.cursor() as cursor:
        cursor.execute(COUNT, _params(notice))
        return cursor.fetchone()[0]


def publish_and_message(
    *,
    notice_id: int,
    staff_user: AbstractBaseUser,
    expected: int,
    now: dt.datetime | None = None,
) -> Messaged:
    """Publish the notice (if it is not yet) and queue one SMS to every customer it
    concerns who has not had it, provided they are still `expected` in number (the
    preview's count). In one transaction, recorded in the operations log."""
    now = now or timezone.now()
    with transaction.atomic():
        notice = Notice.objects.select_for_update().get(pk=notice_id)
        if notice.ends_at <= now:
            raise NoticeNotMessageable()
        queued = queue_from_select(
            MESSAGES, {**_params(notice), "expected": expected}, ctes=TARGETS
        )
        # Nothing queued: either the count moved since the preview (refuse, nothing is
        # published), or another click has just messaged them all (nothing left to send).
        if queued == 0 and preview(notice=notice) not in (0, expected):
            raise AffectedCountChanged()
        notice.published = True
        notice.messaged_at = now
        notice.updated_at = now
        notice.save(update_fields=["published", "messaged_at", "updated_at"])
        record_operation(
            action="support.notice.messaged",
            actor=Actor.staff(staff_user),
            summary={"notice": notice.pk, "expected": expected, "queued": queued},
            reference=f"notice:{notice.pk}",
            at=now,
        )
    return Messaged(queued=queued)
