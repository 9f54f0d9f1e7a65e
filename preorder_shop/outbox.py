"""The transactional outbox: queue a message inside the transaction that caused it; send it
after commit, exactly once per row, retrying with backoff; a beat sweep catches the rest.

Delivery is at-least-once only across a crash between handing a message to the channel and
recording it as sent: the channel receives the row's idempotency key so a provider can drop
such a repeat.

Clocks: production passes no `now`, and every claim and result is stamped with the time it
happens. Tests pass `now` to drive the clock; it is then used for every stamp of that call.
"""

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterable
from typing import TypeVar

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Case, F, JSONField, Value, When
from django.template import Context
from django.template.loader import get_template
from django.utils import timezone, translation
from django.utils.module_loading import import_string

from . import pacing, tasks  # the tasks call back into this module, so import the module only
from .models import OutboxChannel, OutboxMessage, OutboxStatus
from .phone import mask_phone

logger = logging.getLogger(__name__)
T = TypeVar("T")

MAX_ATTEMPTS = 5
SENDING_LEASE = dt.timedelta(minutes=5)  # a claim older than this belongs to a dead worker
SWEEP_BATCH = 200
LEASE_EXPIRED_ERROR = "No result within the sending lease (worker lost?)."
# A claimed row's reads and its result are tried again on a new connection when the one they
# ran on is lost (a database restart takes well under a second): 0.25 + 0.5 + ... = 5 s.
RECONNECT_TRIES = 6
RECONNECT_PAUSE = 0.25


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
        _send_after_commit(message.pk)
    return message


# Columns a set-based caller's SELECT must produce, in this order.
BATCH_COLUMNS = (
    "channel",
    "recipient",
    "template_key",
    "language",
    "payload",
    "idempotency_key",
    "reference",
)


def queue_from_select(
    select_sql: str, params: list | dict, *, ctes: str = "", keys_are_new: bool = False
) -> int:
    """Queue one message per row of `select_sql` (producing BATCH_COLUMNS, payload as
    jsonb) in the caller's transaction: for batches of thousands, where a row-by-row
    queue_message would dominate. Keys already queued are skipped. After commit sweep tasks
    send them, several in parallel for a large batch; the beat sweep catches up if they are
    lost. Returns rows queued.

    ctes: WITH clauses (without the WITH) that `select_sql` reads, so that a statement which
    writes rows (a data-modifying WITH) queues their messages in the same statement.
    keys_are_new: the caller's keys name rows its own statement or transaction just created,
    so none can be queued yet; the insert then skips ON CONFLICT's per-row speculative
    insertion (half the cost of a batch, measured), and a repeated key raises IntegrityError.
    """
    columns = ", ".join(BATCH_COLUMNS)
    with_clause = f"WITH {ctes}" if ctes else ""
    on_conflict = "" if keys_are_new else "ON CONFLICT (idempotency_key) DO NOTHING"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            {with_clause}
            INSERT INTO preorder_shop_outboxmessage
                ({columns}, redact_when_final, status, attempts, next_attempt_at,
                 last_error, created_at)
            SELECT {columns}, false, 'pending', 0, now(), '', now()
              FROM ({select_sql}) AS batch ({columns})
            {on_conflict}
            """,  # noqa: S608 - the SQL is the caller's constants; values are parameters
            params,
        )
        queued = cursor.rowcount
    if queued:
        # One sweeper sends one row at a time (each a provider round trip): a batch gets as
        # many sweepers as it has SWEEP_BATCHes, up to OUTBOX_BATCH_SWEEPERS (the worker
        # processes that may send at once); SKIP LOCKED keeps them off each other's rows.
        sweepers = min(-(-queued // SWEEP_BATCH), settings.OUTBOX_BATCH_SWEEPERS)

        def sweep_outbox() -> None:
            for _ in range(sweepers):
                tasks.sweep_outbox.delay()

        transaction.on_commit(sweep_outbox, robust=True)
    return queued


def _send_after_commit(message_id: int) -> None:
    def send_outbox_message() -> None:
        tasks.send_outbox_message.delay(message_id)

    # robust: a broker that is down at commit time must not fail the request; the sweep
    # sends the row later. (A named function, not functools.partial: Django logs a robust
    # callback's failure by its __qualname__, which a partial lacks.)
    transaction.on_commit(send_outbox_message, robust=True)


def render(message: OutboxMessage) -> tuple[str, str]:
    """(subject, body) in the message's language, from templates/notifications/<key>.txt;
    the first line is the e-mail subject (SMS sends the whole text).

    Plain text, so no HTML escaping: a reason such as "customer's request" stays as typed.
    `site_url` (settings.SITE_URL, if set) lets a template turn a path into a link.
    """
    template = get_template(f"notifications/{message.template_key}.txt")
    context = {"site_url": getattr(settings, "SITE_URL", ""), **message.payload}
    with translation.override(message.language):
        text = template.template.render(Context(context, autoescape=False))
    lines = [line.rstrip() for line in text.strip().splitlines()]
    text = "\n".join(line for line in lines if line)
    subject = text.splitlines()[0] if text else ""
    return subject, text


def channel_for(name: str):
    return import_string(settings.OUTBOX_CHANNELS[name])()


def mask_recipient(channel: str, recipient: str) -> str:
    """What lists and logs show: 010-****-5678, k***@example.com."""
    if channel == OutboxChannel.EMAIL:
        local, at, domain = recipient.partition("@")
        return f"{local[:1]}***{at}{domain}" if at else "***"
    try:
        return mask_phone(recipient)
    except Exception:  # not a parseable number: show nothing of it
        return "***"


def _claim(message_id: int, now: dt.datetime) -> bool:
    """Move one due row from pending to sending; only one caller can win it."""
    return bool(
        OutboxMessage.objects.filter(
            pk=message_id, status=OutboxStatus.PENDING, next_attempt_at__lte=now
        ).update(status=OutboxStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    )


def _claim_next(now: dt.datetime) -> OutboxMessage | None:
    """Claim the most overdue row no other sweeper holds (FOR UPDATE SKIP LOCKED)."""
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(status=OutboxStatus.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at", "pk")
            .first()
        )
        if message is None:
            return None
        message.status = OutboxStatus.SENDING
        message.claimed_at = now
        message.attempts += 1
        message.save(update_fields=["status", "claimed_at", "attempts"])
    return message


def _wipe_payload_if_redacted():
    return Case(
        When(redact_when_final=True, then=Value({}, output_field=JSONField())),
        default=F("payload"),
    )


def _finish(message: OutboxMessage, *, error: str | None, now: dt.datetime) -> None:
    """Record the outcome of this claim; a claim the sweep has taken back records nothing."""
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
    if fields["status"] != OutboxStatus.PENDING and message.redact_when_final:
        fields["payload"] = {}
    claim = OutboxMessage.objects.filter(
        pk=message.pk, status=OutboxStatus.SENDING, claimed_at=message.claimed_at
    )
    _reconnecting(lambda: claim.update(**fields))


def _reconnecting(operation: Callable[[], T]) -> T:
    """Run one step of a claimed row, again on a new connection if its connection was lost.
    Without this a row whose message has left (or whose read failed after the claim) stays
    "sending" until SENDING_LEASE runs out and is then sent a second time, and a render that
    reads the database counts a restart as a failed attempt. Each step is safe to repeat:
    the reads, and a result write guarded by the claim."""
    for attempt in range(1, RECONNECT_TRIES):
        try:
            return operation()
        except (OperationalError, InterfaceError):
            if connection.in_atomic_block:
                raise
            logger.warning("outbox: database connection lost, trying again (%s)", attempt)
            connection.close()
            time.sleep(RECONNECT_PAUSE * attempt)
    return operation()


def _send_claimed(message: OutboxMessage, *, now: dt.datetime | None) -> None:
    try:
        # Templates may read live facts (an expected delivery), so rendering is a read too.
        subject, body = _reconnecting(lambda: render(message))
        pacing.wait_for_turn(message.channel)
        channel_for(message.channel).send(
            recipient=message.recipient,
            subject=subject,
            body=body,
            idempotency_key=message.idempotency_key,
        )
    except Exception as exc:  # any channel failure is recorded and retried
        logger.warning(
            "outbox message %s (attempt %s) failed: %s", message.pk, message.attempts, exc
        )
        _finish(message, error=f"{type(exc).__name__}: {exc}", now=now or timezone.now())
    else:
        _finish(message, error=None, now=now or timezone.now())


def deliver(message_id: int, *, now: dt.datetime | None = None) -> bool:
    """Send one message if it is still due; return whether this call sent (or tried) it.

    A retried or redelivered task finds the row sending or sent and does nothing.
    """
    if not _claim(message_id, now or timezone.now()):
        return False
    _send_claimed(_reconnecting(lambda: OutboxMessage.objects.get(pk=message_id)), now=now)
    return True


def _reclaim_abandoned(now: dt.datetime) -> None:
    """Claims older than the lease belong to a dead worker: try again, or give up."""
    abandoned = OutboxMessage.objects.filter(
        status=OutboxStatus.SENDING, claimed_at__lt=now - SENDING_LEASE
    )
    abandoned.filter(attempts__gte=MAX_ATTEMPTS).update(
        status=OutboxStatus.FAILED,
        claimed_at=None,
        last_error=LEASE_EXPIRED_ERROR,
        payload=_wipe_payload_if_redacted(),
    )
    abandoned.update(
        status=OutboxStatus.PENDING,
        claimed_at=None,
        last_error=LEASE_EXPIRED_ERROR,
        next_attempt_at=now,
    )


def sweep(*, now: dt.datetime | None = None, batch: int = SWEEP_BATCH) -> int:
    """Send what is due and was never sent (lost task, broker down, retry time reached);
    return how many rows this sweep tried.

    Rows are claimed one at a time with SELECT ... FOR UPDATE SKIP LOCKED, right before
    each is sent: several sweepers never take the same row, and a row's lease starts when
    its sending does (not when a long batch began). Abandoned claims go back first.
    """
    _reclaim_abandoned(now or timezone.now())
    tried = 0
    while tried < batch:
        message = _claim_next(now or timezone.now())
        if message is None:
            break
        _send_claimed(message, now=now)
        tried += 1
    return tried


def retry(ids: Iterable[int], *, now: dt.datetime | None = None) -> int:
    """Give failed rows a fresh set of attempts, due now; return how many were reset.

    Rows whose payload was wiped when they failed (one-time codes) cannot be sent again and
    are left alone.
    """
    now = now or timezone.now()
    with transaction.atomic():
        retried = list(
            OutboxMessage.objects.select_for_update()
            .filter(pk__in=list(ids), status=OutboxStatus.FAILED, redact_when_final=False)
            .values_list("pk", flat=True)
        )
        OutboxMessage.objects.filter(pk__in=retried).update(
            status=OutboxStatus.PENDING, attempts=0, next_attempt_at=now
        )
        for message_id in retried:
            _send_after_commit(message_id)
    return len(retried)
