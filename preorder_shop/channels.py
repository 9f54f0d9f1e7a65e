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
    """Development SMS: writes the message to the log, with the number masked."""

    def send(self, *, recipient: str, subject: str, body: str, idempotency_key: str) -> None:
        logger.info("SMS to %s [%s]: %s", mask_phone(recipient), idempotency_key, body)


class EmailChannel:
    """E-mail through Django's configured e-mail backend."""

    def send(self, *, recipient: str, subject: str, body: str, idempotency_key: str) -> None:
        send_mail(subject, body, None, [recipient], fail_silently=False)
