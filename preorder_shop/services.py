"""Sign-in by one-time code: request a code for a mobile number, then verify it."""

import datetime as dt
import hmac
import secrets

from django.db import transaction
from django.db.models import DateTimeField, F, Value
from django.db.models.functions import Greatest
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from . import ratelimit
from .exceptions import CodeExpired, RateLimited, WrongCode
from .models import Customer, OneTimeCode, OutboxChannel
from .outbox import queue_message

CODE_LIFETIME = dt.timedelta(minutes=5)
# Limits that protect one person are keyed on the number; the per-address ceilings are set
# for carrier-grade NAT (thousands of customers behind one address on launch morning) and
# stop floods, not people. All fail closed while Redis is down: a code request costs an SMS
# and could flood a number, and a guess at a code must never go uncounted.
CODE_REQUESTS_PER_PHONE = ratelimit.Limit(
    "otp-request-phone",
    max_hits=3,
    window_seconds=600,
    when_down=ratelimit.WhenDown.FAIL_CLOSED,
    why="Each code is an SMS that costs money; uncounted, a number could be flooded.",
)
CODE_REQUESTS_PER_CLIENT = ratelimit.Limit(
    "otp-request-ip",
    max_hits=2000,
    window_seconds=3600,
    when_down=ratelimit.WhenDown.FAIL_CLOSED,
    why="A flood of SMS to many numbers from one address costs money and harms them.",
)
WRONG_CODES_PER_PHONE = ratelimit.Limit(
    "otp-wrong-phone",
    max_hits=5,
    window_seconds=900,
    lock_seconds=900,
    when_down=ratelimit.WhenDown.FAIL_CLOSED,
    why="An uncounted guess at a six-digit code would unlock the number for guessing.",
)
WRONG_CODES_PER_CLIENT = ratelimit.Limit(
    "otp-wrong-ip",
    max_hits=1000,
    window_seconds=900,
    lock_seconds=900,
    when_down=ratelimit.WhenDown.FAIL_CLOSED,
    why="Guessing across many numbers from one address must stay bounded.",
)


def hash_code(*, phone: str, code: str) -> str:
    """Keyed hash: a stolen table of hashes does not give away 6-digit codes."""
    return salted_hmac("preorder_shop.one-time-code", f"{phone}:{code}").hexdigest()


def codes_match(*, stored_hash: str, phone: str, code: str) -> bool:
    return hmac.compare_digest(stored_hash, hash_code(phone=phone, code=code))


def _refuse_if_blocked(limit: ratelimit.Limit, subject: str, message: str) -> None:
    wait = ratelimit.blocked_for(limit, subject)
    if wait:
        raise RateLimited(message, retry_after=wait)


def _count_or_refuse(limit: ratelimit.Limit, subject: str, message: str) -> None:
    if ratelimit.hit(limit, subject) > limit.max_hits:
        raise RateLimited(message, retry_after=ratelimit.blocked_for(limit, subject) or 1)


def request_code(*, phone: str, client_ip: str) -> str:
    """Issue a new code for `phone` (E.164); the SMS leaves through the outbox after commit.

    Earlier unused codes for the number stop working. Returns the code so development
    builds can show it on the page; production never displays it.
    """
    _refuse_if_blocked(
        WRONG_CODES_PER_PHONE, phone, _("Too many wrong codes: this number is locked.")
    )
    # Count first, then judge: parallel requests cannot all slip in under the limit.
    _count_or_refuse(
        CODE_REQUESTS_PER_PHONE, phone, _("Too many codes were requested for this number.")
    )
    _count_or_refuse(
        CODE_REQUESTS_PER_CLIENT, client_ip, _("Too many codes were requested from this device.")
    )

    code = f"{secrets.randbelow(10**6):06d}"
    now = timezone.now()
    with transaction.atomic():
        # A parallel request may have committed a newer code meanwhile: retire it no earlier
        # than it was created.
        OneTimeCode.objects.filter(phone=phone, used_at__isnull=True).update(
            used_at=Greatest(F("created_at"), Value(now, output_field=DateTimeField()))
        )
        issued = OneTimeCode.objects.create(
            phone=phone,
            code_hash=hash_code(phone=phone, code=code),
            created_at=now,
            expires_at=now + CODE_LIFETIME,
        )
        queue_message(
            channel=OutboxChannel.SMS,
            recipient=phone,
            template_key="signin.code",
            payload={"code": code, "minutes": int(CODE_LIFETIME.total_seconds() // 60)},
            language=translation.get_language() or "ko",
            idempotency_key=f"signin-code:{issued.pk}",
            redact_when_final=True,
        )
    return code


def verify_code(
    *, phone: str, name: str, code: str, client_ip: str, language: str = "ko"
) -> Customer:
    """Check `code` for `phone`; on success use it up and return the (new or known) customer."""
    _refuse_if_blocked(
        WRONG_CODES_PER_PHONE, phone, _("Too many wrong codes: this number is locked.")
    )
    _refuse_if_blocked(
        WRONG_CODES_PER_CLIENT, client_ip, _("Too many wrong codes from this device.")
    )
    now = timezone.now()
    current = (
        OneTimeCode.objects.filter(phone=phone, used_at__isnull=True, expires_at__gt=now)
        .order_by("-created_at")
        .first()
    )
    if current is None:
        raise CodeExpired()
    # Every comparison counts as an attempt, for the number and for the device, before it
    # is made, so parallel guesses cannot exceed either limit; a correct code resets the
    # number's counter below and takes its device hit back.
    attempts = ratelimit.hit(WRONG_CODES_PER_PHONE, phone)
    if attempts > WRONG_CODES_PER_PHONE.max_hits:
        raise RateLimited(
            _("Too many wrong codes: this number is locked."),
            retry_after=ratelimit.blocked_for(WRONG_CODES_PER_PHONE, phone) or 1,
        )
    _count_or_refuse(
        WRONG_CODES_PER_CLIENT, client_ip, _("Too many wrong codes from this device.")
    )
    if not codes_match(stored_hash=current.code_hash, phone=phone, code=code):
        if attempts >= WRONG_CODES_PER_PHONE.max_hits:
            raise RateLimited(
                _("Too many wrong codes: this number is locked."),
                retry_after=ratelimit.blocked_for(WRONG_CODES_PER_PHONE, phone) or 1,
            )
        raise WrongCode()
    ratelimit.refund(WRONG_CODES_PER_CLIENT, client_ip)
    with transaction.atomic():
        # The conditional update is the single-use guarantee: of two concurrent
        # verifications of the same code, exactly one changes the row.
        claimed = OneTimeCode.objects.filter(pk=current.pk, used_at__isnull=True).update(
            used_at=now
        )
        if not claimed:
            raise CodeExpired()
        customer, created = Customer.objects.get_or_create(
            phone=phone, defaults={"name": name, "last_signed_in_at": now, "language": language}
        )
        if not created:
            customer.name = name
            customer.language = language
            customer.last_signed_in_at = now
            customer.save(update_fields=["name", "language", "last_signed_in_at"])
    ratelimit.reset(WRONG_CODES_PER_PHONE, phone)
    return customer
