"""Outgoing message channels behind one interface. Settings name the class to use."""

import logging
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from .phone import mask_phone

logger = logging.getLogger(__name__)


class SmsChannel(Protocol):
    def send(self, *, to: str, text: str) -> None: ...


class LogSmsChannel:
    """Development SMS: writes the message to the log, with the number masked."""

    def send(self, *, to: str, text: str) -> None:
        logger.info("SMS to %s: %s", mask_phone(to), text)


def sms_channel() -> SmsChannel:
    return import_string(settings.SMS_CHANNEL)()
