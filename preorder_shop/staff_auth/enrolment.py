"""Setting up a staff member's second factor: an authenticator app (TOTP) confirmed by a
first code, then ten single-use recovery codes, shown once."""

import base64
import io

import segno
from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from .signin import normalise_code

RECOVERY_CODE_COUNT = 10


def pending_device(user) -> TOTPDevice:
    """The app being set up: an unconfirmed device, made on the first visit."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    return device


def readable_secret(device: TOTPDevice) -> str:
    """The key as authenticator apps take it typed: base32 in groups of four."""
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_svg(device: TOTPDevice) -> bytes:
    out = io.BytesIO()
    segno.make(device.config_url, error="m").save(out, kind="svg", scale=5, border=4)
    return out.getvalue()


def confirm(device: TOTPDevice, code: str) -> list[str] | None:
    """Confirm the app with its first code; return fresh recovery codes, or None when the
    code is wrong. Earlier recovery codes stop working."""
    code = normalise_code(code)
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        if device.confirmed or not code.isdigit() or not device.verify_token(code):
            return None
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        StaticDevice.objects.filter(user=device.user).delete()
        recovery = StaticDevice.objects.create(user=device.user, name="Recovery codes")
        codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
        StaticToken.objects.bulk_create(StaticToken(device=recovery, token=c) for c in codes)
    return codes
