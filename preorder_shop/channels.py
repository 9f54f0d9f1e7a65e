"""Outgoing message channels behind one interface; settings.OUTBOX_CHANNELS names the class
for each channel (sms, email)."""

import logging
from typing import Protocol

from django.core.mail import send_mail

from .phone import mask_phone

logger = logging.getLogger(__name__)


class Channel(Protocol):
    def send(self, *, recipient: str, subject: str, body: str, idempotency_key: str) -> None:
        """Deliver or raise. `idempotency_key` lets a provider drop a repeated request."""


class LogSmsChannel:
    """Development SMS: logs that a message went out, never what it says.

    The body names the customer ("김민수님, ...") and may carry a sign-in code; the line has
    the masked number, the idempotency key (which says what kind of message it was, e.g.
    order:12:shipped or signin-code:7) and the body's length. In DEBUG the sign-in code is
    shown on the page instead (OTP_SHOW_CODE_ON_PAGE)."""

    def send(self, *, recipient: str, subject: str, body: str, idempotency_key: str) -> None:
        logger.info(
            "SMS to %s [%s]: %s characters", mask_phone(recipient), idempotency_key, len(body)
        )


class EmailChannel:
    """E-mail through Django's configured e-mail backend."""

    def send(self, *, recipient: str, subject: str, body: str, idempotency_key: str) -> None:
        send_mail(subject, body, None, [recipient], fail_silently=False)
