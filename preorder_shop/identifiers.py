"""Customer-facing identifiers: random digits plus a Damm check digit (python-stdnum).

Reservation numbers have 8 digits and order numbers 11, so one can never pass for the other,
and the check digit catches every single mistyped digit and every swap of neighbours. Numbers
are drawn at random (never derived from a queue position), so they cannot be guessed.
"""

import secrets
import unicodedata
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum import damm


@dataclass(frozen=True)
class IdentifierKind:
    name: str
    length: int

    def generate(self) -> str:
        # The first digit is never 0 so the number survives spreadsheets and phone keypads.
        body = str(10 ** (self.length - 2) + secrets.randbelow(9 * 10 ** (self.length - 2)))
        return body + damm.calc_check_digit(body)

    def is_valid(self, value: str) -> bool:
        return (
            len(value) == self.length
            and value.isascii()
            and value.isdigit()
            and value[0] != "0"
            and damm.is_valid(value)
        )


RESERVATION_NUMBER = IdentifierKind("reservation", 8)
ORDER_NUMBER = IdentifierKind("order", 11)


def clean_reservation_number(raw: str) -> str:
    """Return the 8-digit reservation number typed as `raw`, or raise a specific error."""
    # NFKC turns full-width digits (what some Korean keyboards type) into ASCII ones.
    value = unicodedata.normalize("NFKC", "".join(raw.split())).replace("-", "")
    if not (value.isascii() and value.isdigit()):
        raise ValidationError(_("A reservation number has digits only."), code="not_digits")
    if len(value) == ORDER_NUMBER.length:
        raise ValidationError(
            _(
                "This looks like an order number (11 digits). "
                "Enter the 8-digit reservation number instead."
            ),
            code="order_number_given",
        )
    if len(value) != RESERVATION_NUMBER.length:
        raise ValidationError(
            _("A reservation number has exactly 8 digits; you entered %(count)d."),
            code="wrong_length",
            params={"count": len(value)},
        )
    if not RESERVATION_NUMBER.is_valid(value):
        raise ValidationError(
            _("This reservation number is not valid. Check it for a mistyped digit."),
            code="bad_check_digit",
        )
    return value
