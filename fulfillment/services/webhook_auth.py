"""The courier webhook's authentication: an HMAC-SHA256 signature over
f"{timestamp}.{nonce}.{raw body}" with settings.COURIER_WEBHOOK_SECRET, a timestamp within
five minutes of our clock, and a nonce used once: spent only by a request whose body is a
well-formed event. What an accepted request says goes to fulfillment.services.couriers like
any other courier input."""

import datetime as dt
import hashlib
import hmac

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from ..models import WebhookNonce
from .courier_input import CourierError, CourierInput, parse_webhook_body

# Signed webhooks must be this fresh (either way); nonces are kept at least twice as long.
WEBHOOK_WINDOW = dt.timedelta(minutes=5)
NONCE_RETENTION = 3 * WEBHOOK_WINDOW


class BadSignature(CourierError):
    code = "bad_signature"


class StaleRequest(CourierError):
    code = "stale_timestamp"


class ReplayedRequest(CourierError):
    code = "replayed"


def sign_webhook(*, timestamp: str, nonce: str, body: bytes, secret: str | None = None) -> str:
    key = (secret or settings.COURIER_WEBHOOK_SECRET).encode()
    message = timestamp.encode() + b"." + nonce.encode() + b"." + body
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def accept_webhook(
    *,
    timestamp: str | None,
    nonce: str | None,
    signature: str | None,
    body: bytes,
    now: dt.datetime | None = None,
) -> CourierInput:
    """The courier event a signed request carries, accepted once.

    In this order: the signature and timestamp (BadSignature, StaleRequest); the body, read
    and checked for form like any courier input (InvalidInput, InvalidOrderNumber, ...); then
    the nonce is spent (ReplayedRequest). A request refused before that leaves its nonce
    unused, so a courier can correct the body, sign it anew and send it with the same nonce;
    its own replay is refused again by the same checks, and changes nothing either way. The
    nonce is committed at once, before the event is recorded: a replay of an accepted request
    is refused even if recording the event failed. Of concurrent copies, the unique nonce
    lets one through."""
    now = now or timezone.now()
    check_signature(timestamp=timestamp, nonce=nonce, signature=signature, body=body, now=now)
    data = parse_webhook_body(body)
    spend_nonce(nonce=nonce, now=now)
    return data


def check_signature(
    *,
    timestamp: str | None,
    nonce: str | None,
    signature: str | None,
    body: bytes,
    now: dt.datetime,
) -> None:
    """Refuse a request that is unsigned, wrongly signed or stale, or whose nonce the database
    could not store. Writes nothing."""
    if not (timestamp and nonce and signature):
        raise BadSignature(
            "Missing X-Courier-Timestamp, X-Courier-Nonce or X-Courier-Signature header."
        )
    expected = sign_webhook(timestamp=timestamp, nonce=nonce, body=body)
    given = signature.strip().lower()
    if not (given.isascii() and hmac.compare_digest(expected, given)):
        raise BadSignature("The signature does not match the request.")
    try:
        sent_at = dt.datetime.fromtimestamp(int(timestamp), tz=dt.UTC)
    except (ValueError, OverflowError, OSError):
        raise BadSignature("X-Courier-Timestamp must be unix seconds.") from None
    if abs(now - sent_at) > WEBHOOK_WINDOW:
        raise StaleRequest(
            "The request's timestamp is more than 5 minutes away from our clock: resend it "
            "with a fresh timestamp and nonce."
        )
    max_length = WebhookNonce._meta.get_field("nonce").max_length
    if len(nonce) > max_length or not (nonce.isascii() and nonce.isprintable()):
        # A NUL or a 65th character would only be refused by the database.
        raise BadSignature(
            f"X-Courier-Nonce must be at most {max_length} printable ASCII characters."
        )


def spend_nonce(*, nonce: str, now: dt.datetime) -> None:
    """Record the nonce as used, committed at once; ReplayedRequest if it already was."""
    try:
        with transaction.atomic():
            WebhookNonce.objects.create(nonce=nonce, received_at=now)
    except IntegrityError:
        raise ReplayedRequest(
            "This nonce was already used: a replayed request is not processed again."
        ) from None


def prune_webhook_nonces(*, now: dt.datetime | None = None) -> int:
    """Forget nonces too old to matter (their requests would be refused as stale anyway)."""
    now = now or timezone.now()
    deleted, _ = WebhookNonce.objects.filter(received_at__lt=now - NONCE_RETENTION).delete()
    return deleted
