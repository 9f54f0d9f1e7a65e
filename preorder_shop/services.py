"""Sign-in by one-time code: request a code for a mobile number, then verify it."""

import datetime as dt
import hmac
import secrets

from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from . import ratelimit
from .exceptions import CodeExpired, RateLimited, WrongCode
from .models import Customer, OneTimeCode
from .tasks import deliver_sms

CODE_LIFETIME = dt.timedelta(minutes=5)
CODE_REQUESTS_PER_PHONE = ratelimit.Limit("otp-request-phone", max_hits=3, window_seconds=600)
CODE_REQUESTS_PER_CLIENT = ratelimit.Limit("otp-request-ip", max_hits=20, window_seconds=3600)
WRONG_CODES_PER_PHONE = ratelimit.Limit(
    "otp-wrong-phone", max_hits=5, window_seconds=900, lock_seconds=900
)
WRONG_CODES_PER_CLIENT = ratelimit.Limit(
    "otp-wrong-ip", max_hits=20, window_seconds=900, lock_seconds=900
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


def request_code(*, phone: str, client_ip: str) -> str:
    """Issue a new code for `phone` (E.164) and send it by SMS after commit.

    Earlier unused codes for the number stop working. Returns the code so development
    builds can show it on the page; production never displays it.
    """
    _refuse_if_blocked(
        WRONG_CODES_PER_PHONE, phone, _("Too many wrong codes: this number is locked.")
    )
    _refuse_if_blocked(
        CODE_REQUESTS_PER_PHONE, phone, _("Too many codes were requested for this number.")
    )
    _refuse_if_blocked(
        CODE_REQUESTS_PER_CLIENT, client_ip, _("Too many codes were requested from this device.")
    )
    ratelimit.hit(CODE_REQUESTS_PER_PHONE, phone)
    ratelimit.hit(CODE_REQUESTS_PER_CLIENT, client_ip)

    code = f"{secrets.randbelow(10**6):06d}"
    now = timezone.now()
    text = _("[Pre-order] Your sign-in code is %(code)s. It expires in 5 minutes.") % {
        "code": code
    }
    with transaction.atomic():
        OneTimeCode.objects.filter(phone=phone, used_at__isnull=True).update(used_at=now)
        OneTimeCode.objects.create(
            phone=phone,
            code_hash=hash_code(phone=phone, code=code),
            created_at=now,
            expires_at=now + CODE_LIFETIME,
        )
        transaction.on_commit(lambda: deliver_sms.delay(phone, text))
    return code


def verify_code(*, phone: str, name: str, code: str, client_ip: str) -> Customer:
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
    if not codes_match(stored_hash=current.code_hash, phone=phone, code=code):
        ratelimit.hit(WRONG_CODES_PER_CLIENT, client_ip)
        if ratelimit.hit(WRONG_CODES_PER_PHONE, phone) >= WRONG_CODES_PER_PHONE.max_hits:
            raise RateLimited(
                _("Too many wrong codes: this number is locked."),
                retry_after=WRONG_CODES_PER_PHONE.lock_seconds or 0,
            )
        raise WrongCode()
    with transaction.atomic():
        # The conditional update is the single-use guarantee: of two concurrent
        # verifications of the same code, exactly one changes the row.
        claimed = OneTimeCode.objects.filter(pk=current.pk, used_at__isnull=True).update(
            used_at=now
        )
        if not claimed:
            raise CodeExpired()
        customer, created = Customer.objects.get_or_create(
            phone=phone, defaults={"name": name, "last_signed_in_at": now}
        )
        if not created:
            customer.name = name
            customer.last_signed_in_at = now
            customer.save(update_fields=["name", "last_signed_in_at"])
    ratelimit.reset(WRONG_CODES_PER_PHONE, phone)
    return customer
