"""A logging filter that masks Korean mobile numbers and e-mail addresses in every record.

Installed on every handler in settings.LOGGING, on the Celery worker's handlers and on
gunicorn's (preorder_shop/gunicorn.py). Numbers come out as preorder_shop.phone.mask_phone
writes them (010-****-5678) and addresses as outbox.mask_recipient does (k***@example.com),
whatever form they were logged in: 010-1234-5678, 01012345678, +821012345678, +82 10 1234
5678, 010.1234.5678. Names and addresses cannot be recognised by a pattern: no code logs
them (tests/test_logs_carry_no_personal_data.py runs a whole flow and searches the output).
This module imports nothing of Django, so gunicorn and Celery can load it before settings.
"""

import logging
import re
from typing import Any

_SEP = r"[ .\-]?"
# 010 plus 8 digits (and the retired 011/016-019 with 7 or 8), nationally or after +82 / 82,
# never as part of a longer run of digits (an order number, a tracking number).
MOBILE = re.compile(
    rf"(?<![\d+])(?:\+?82{_SEP}(?:\(0\))?0?|0)(1[016789]){_SEP}(\d{{3,4}}){_SEP}(\d{{4}})(?!\d)"
)
EMAIL = re.compile(r"(?<![\w.+\-])([\w.+\-])[\w.+\-]*@([\w\-]+(?:\.[\w\-]+)+)")


def mask_text(text: str) -> str:
    """The text with every mobile number and e-mail address in it masked."""
    text = MOBILE.sub(lambda m: f"0{m[1]}-{'*' * len(m[2])}-{m[3]}", text)
    return EMAIL.sub(lambda m: f"{m[1]}***@{m[2]}", text)


class MaskPersonalData(logging.Filter):
    """Masks the formatted message, the traceback and the stack of a record in place.

    The message is formatted here (args folded in) so a number passed as an argument is
    masked too; the record is changed for every handler after this one as well."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_text(message)
        if masked != message or record.args:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_text(record.stack_info)
        return True


def install(logger: logging.Logger, **_: Any) -> None:
    """Put the filter on each handler of `logger` that lacks it (a Celery signal receiver:
    the worker replaces the handlers settings.LOGGING made with its own)."""
    for handler in logger.handlers:
        if not any(isinstance(f, MaskPersonalData) for f in handler.filters):
            handler.addFilter(MaskPersonalData())
