"""The team lead hears of every missed SLA deadline once (issue 15, section 2): a periodic
task (support.tasks.notify_sla_breaches) queues one e-mail per (ticket, deadline) to
settings.SUPPORT_TEAM_LEAD_EMAIL through the outbox, set-based. Once: the message's
idempotency key names the ticket and the deadline ("ticket:7:sla-breach:resolution"), and
the outbox's unique key drops a second one, whoever runs the task and however often. A
ticket in the queue (not solved or closed) is looked at, waiting on the customer too: a
deadline passed before the pause stays passed. The scan reads the queue's index
(ticket_queue_idx) up to `now`, so it costs the breached tickets, not the queue.
"""

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from preorder_shop.models import OutboxChannel
from preorder_shop.outbox import queue_from_select

from ..models import CLOCK_STATUSES, QUEUE_STATUSES

TEMPLATE = "support.sla_breach"

# PENDING_DUE written out as the index has it, so the planner can use ticket_queue_idx.
_BREACHED = """
SELECT %(channel)s, %(recipient)s, %(template)s, %(language)s,
       jsonb_build_object(
           'ticket_number', t.number,
           'deadline', d.kind,
           'due_at', to_char(d.due AT TIME ZONE %(zone)s, 'YYYY-MM-DD HH24:MI'),
           'ticket_path', %(admin_path)s || t.id || '/change/',
           'waiting', t.status <> ALL (%(clock)s)
       ),
       'ticket:' || t.id || ':sla-breach:' || d.kind,
       'ticket:' || t.id
  FROM support_ticket t
 CROSS JOIN LATERAL (VALUES
       ('first_response',
        CASE WHEN t.first_responded_at IS NULL THEN t.first_response_due_at END),
       ('resolution', t.resolution_due_at)) AS d (kind, due)
 WHERE t.status = ANY (%(queue)s)
   AND LEAST(CASE WHEN t.first_responded_at IS NULL THEN t.first_response_due_at END,
             t.resolution_due_at) <= %(now)s
   AND d.due <= %(now)s
"""


def notify_breaches(*, now: dt.datetime | None = None) -> int:
    """Queue the team lead's message for every deadline missed by `now` and not told yet;
    how many were queued. Nothing without a team lead address."""
    recipient = settings.SUPPORT_TEAM_LEAD_EMAIL
    if not recipient:
        return 0
    params = {
        "channel": OutboxChannel.EMAIL,
        "recipient": recipient,
        "template": TEMPLATE,
        "language": settings.LANGUAGE_CODE,
        "zone": settings.SUPPORT_TIME_ZONE,
        "admin_path": reverse("admin:support_ticket_changelist"),
        "clock": [str(s) for s in CLOCK_STATUSES],
        "queue": [str(s) for s in QUEUE_STATUSES],
        "now": now or timezone.now(),
    }
    with transaction.atomic():
        return queue_from_select(_BREACHED, params)
