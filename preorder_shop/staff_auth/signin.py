"""Judging one admin sign-in: password, second factor, throttle, audit row."""

import enum
from dataclasses import dataclass

from django.contrib.auth import authenticate, get_user_model
from django.db import transaction
from django.http import HttpRequest
from django_otp import user_has_device
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from preorder_shop.client import client_key

from . import throttle
from .models import Outcome, StaffSignInAttempt


class Refusal(enum.Enum):
    WRONG = "wrong"
    THROTTLED = "throttled"


@dataclass(frozen=True)
class Verdict:
    user: object | None = None
    device: Device | None = None
    refusal: Refusal | None = None
    wait_minutes: int = 0


def normalise_code(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def verify_second_factor(user, code: str) -> Device | None:
    """The device that accepts `code`: six digits are an authenticator app's code, anything
    else a recovery code (used up by accepting it). django-otp's own per-device throttle,
    in PostgreSQL, still applies to whoever knows the password."""
    code = normalise_code(code)
    if not code or not code.isascii():
        return None
    model = TOTPDevice if code.isdigit() and len(code) == 6 else StaticDevice
    with transaction.atomic():
        devices = model.objects.devices_for_user(user, confirmed=True).select_for_update()
        for device in devices:
            if device.verify_token(code):
                return device
    return None


def masked_name(username: str) -> str:
    """A typed name that is no account: its first two characters, the rest as dots."""
    shown = username[:2]
    return shown + "•" * min(max(len(username) - len(shown), 1), 8)


def _record(username: str, user, address: str, outcome: Outcome) -> None:
    known = user is not None or get_user_model().objects.filter(username=username).exists()
    StaffSignInAttempt.objects.create(
        account=username if known else masked_name(username),
        known_account=known,
        address=address,
        outcome=outcome,
    )


def judge(request: HttpRequest, *, username: str, password: str, code: str) -> Verdict:
    """Decide one attempt; the caller signs the user in when the verdict has no refusal.

    A right password with a right second factor always passes. A right password alone
    passes (to enrolment, or in DEBUG) only while the throttle has not been reached, and a
    refusal never says whether the password was right."""
    address = client_key(request)
    count = throttle.count_attempt(username=username, address=address)
    user = authenticate(request, username=username, password=password)
    if user is not None and not (user.is_active and user.is_staff):
        user = None
    device = verify_second_factor(user, code) if user is not None and code else None
    if device is not None:
        verdict, outcome = Verdict(user=user, device=device), Outcome.SIGNED_IN
    elif user is not None and not count.over and not user_has_device(user):
        verdict, outcome = Verdict(user=user), Outcome.PASSWORD_ONLY
    elif count.over:
        verdict = Verdict(refusal=Refusal.THROTTLED, wait_minutes=count.wait_minutes())
        outcome = Outcome.THROTTLED
    else:
        verdict, outcome = Verdict(refusal=Refusal.WRONG), Outcome.WRONG
    if verdict.refusal is None:
        count.refund()
    _record(username, user, address, outcome)
    return verdict
