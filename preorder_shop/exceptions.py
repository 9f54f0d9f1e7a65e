"""Domain errors: each carries a message fit to show the customer as it is."""

import datetime as dt

from django.utils import dateformat, timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext


class DomainError(Exception):
    """A rule said no. `message` is translatable and specific; nothing was changed."""

    default_message = _("This action is not possible right now.")

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)


class RateLimited(DomainError):
    def __init__(self, message: str, *, retry_after: int) -> None:
        self.retry_after = retry_after
        until = timezone.localtime() + dt.timedelta(seconds=retry_after)
        minutes = max(1, (retry_after + 59) // 60)
        wait = ngettext(
            "Try again after %(time)s (in %(minutes)d minute).",
            "Try again after %(time)s (in %(minutes)d minutes).",
            minutes,
        ) % {
            "time": dateformat.time_format(until, pgettext("clock time", "H:i")),
            "minutes": minutes,
        }
        super().__init__(f"{message} {wait}")


class WrongCode(DomainError):
    default_message = _("That code is not correct. Check the message and try again.")


class CodeExpired(DomainError):
    default_message = _("This code has expired or was already used. Request a new code.")
