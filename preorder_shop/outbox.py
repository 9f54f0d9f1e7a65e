"""The transactional outbox: queue a message inside the transaction that caused it; send it
after commit, exactly once per row, retrying with backoff; a beat sweep catches the rest.

Delivery is at-least-once only across a crash between handing a message to the channel and
recording it as sent: the channel receives the row's idempotency key so a provider can drop
such a repeat.
"""

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.module_loading import import_string

from . import tasks  # the tasks call back into this module, so import the module only
from .models import OutboxMessage, OutboxStatus

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
SENDING_LEASE = dt.timedelta(minutes=5)  # a claim older than this belongs to a dead worker
SWEEP_BATCH = 200


def backoff(attempts: int) -> dt.timedelta:
    """30 s, 1 min, 2 min, 4 min, ... capped at 30 min."""
    return dt.timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 1800))


def queue_message(
    *,
    channel: str,
    recipient: str,
    template_key: str,
    payload: dict,
    idempotency_key: str,
    language: str = "ko",
    reference: str = "",
    redact_when_final: bool = False,
) -> OutboxMessage:
    """Write the message in the caller's transaction; send it once that commits.

    Queuing the same idempotency key twice keeps the first row and sends nothing more.
    """
    message, created = OutboxMessage.objects.get_or_create(
        idempotency_key=idempotency_key,
        defaults={
            "channel": channel,
            "recipient": recipient,
            "template_key": template_key,
            "payload": payload,
            "language": language,
            "reference": reference,
            "redact_when_final": redact_when_final,
        },
    )
    if created:
        # robust: a broker that is down at commit time must not fail the request; the
        # sweep sends the row later.
        transaction.on_commit(lambda: tasks.send_outbox_message.delay(message.pk), robust=True)
    return message


def render(message: OutboxMessage) -> tuple[str, str]:
    """(subject, body) in the message's language, from templates/notifications/<key>.txt;
    the first line is the e-mail subject (SMS sends the whole text)."""
    with translation.override(message.language):
        text = render_to_string(f"notifications/{message.template_key}.txt", message.payload)
    text = "\n".join(line.rstrip() for line in text.strip().splitlines())
    subject = text.splitlines()[0] if text else ""
    return subject, text


def channel_for(name: str):
    return import_string(settings.OUTBOX_CHANNELS[name])()


def _claim(message_id: int, now: dt.datetime) -> bool:
    """Move one due row from pending to sending; only one caller can win it."""
    return bool(
        OutboxMessage.objects.filter(
            pk=message_id, status=OutboxStatus.PENDING, next_attempt_at__lte=now
        ).update(status=OutboxStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    )


def _finish(message: OutboxMessage, *, error: str | None, now: dt.datetime) -> None:
    message.refresh_from_db(fields=["attempts"])
    fields = {"claimed_at": None}
    if error is None:
        fields.update(status=OutboxStatus.SENT, sent_at=now, last_error="")
    elif message.attempts >= MAX_ATTEMPTS:
        fields.update(status=OutboxStatus.FAILED, last_error=error)
    else:
        fields.update(
            status=OutboxStatus.PENDING,
            last_error=error,
            next_attempt_at=now + backoff(message.attempts),
        )
    final = fields["status"] in (OutboxStatus.SENT, OutboxStatus.FAILED)
    if final and message.redact_when_final:
        fields["payload"] = {}
    OutboxMessage.objects.filter(pk=message.pk, status=OutboxStatus.SENDING).update(**fields)


def _send_claimed(message: OutboxMessage) -> None:
    try:
        subject, body = render(message)
        channel_for(message.channel).send(
            recipient=message.recipient,
            subject=subject,
            body=body,
            idempotency_key=message.idempotency_key,
        )
    except Exception as exc:  # any channel failure is recorded and retried
        logger.warning("outbox message %s failed: %s", message.pk, exc)
        _finish(message, error=f"{type(exc).__name__}: {exc}", now=timezone.now())
    else:
        _finish(message, error=None, now=timezone.now())


def deliver(message_id: int, *, now: dt.datetime | None = None) -> bool:
    """Send one message if it is still due; return whether this call sent (or tried) it."""
    if not _claim(message_id, now or timezone.now()):
        return False
    _send_claimed(OutboxMessage.objects.get(pk=message_id))
    return True


def sweep(*, now: dt.datetime | None = None, batch: int = SWEEP_BATCH) -> int:
    """Send what is due and was never sent (lost task, broker down, retry time reached).

    Claims with SELECT ... FOR UPDATE SKIP LOCKED, so several sweepers never take the same
    row; claims abandoned by a dead worker go back to pending first.
    """
    now = now or timezone.now()
    OutboxMessage.objects.filter(
        status=OutboxStatus.SENDING, claimed_at__lt=now - SENDING_LEASE
    ).update(status=OutboxStatus.PENDING, claimed_at=None, next_attempt_at=now)
    with transaction.atomic():
        claimed = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(status=OutboxStatus.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at", "pk")[:batch]
        )
        ids = [m.pk for m in claimed]
        OutboxMessage.objects.filter(pk__in=ids).update(
            status=OutboxStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1
        )
    for message in OutboxMessage.objects.filter(pk__in=ids).order_by("pk"):
        _send_claimed(message)
    return len(ids)
