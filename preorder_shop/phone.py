"""Korean mobile numbers: parsing, normalising and masking (python's phonenumbers library)."""

import re

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

INVALID_MOBILE = _("Enter a Korean mobile number such as 010-1234-5678.")
# Since the 2G shutdown every Korean mobile number is 010 plus 8 digits; phonenumbers still
# accepts the retired 011/016-019 and 7-digit 010 forms, which no customer can verify today.
E164_MOBILE_PATTERN = r"^\+8210[0-9]{8}$"


def normalize_mobile(raw: str) -> str:
    """Return the E.164 form (+821012345678) of a Korean mobile number, or raise ValidationError.

    010-1234-5678, 01012345678 and +82 10 1234 5678 are the same number.
    """
    # phonenumbers reads letters as keypad digits (010-abcd-efgh is someone's real number).
    if any(c.isalpha() for c in raw):
        raise ValidationError(INVALID_MOBILE, code="invalid_phone")
    try:
        number = phonenumbers.parse(raw.strip(), "KR")
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(INVALID_MOBILE, code="invalid_phone") from exc
    if (
        number.country_code != 82
        or not phonenumbers.is_valid_number(number)
        or phonenumbers.number_type(number) != phonenumbers.PhoneNumberType.MOBILE
    ):
        raise ValidationError(INVALID_MOBILE, code="invalid_phone")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if not re.match(E164_MOBILE_PATTERN, e164):
        raise ValidationError(INVALID_MOBILE, code="invalid_phone")
    return e164


def national_format(e164: str) -> str:
    """+821012345678 -> 010-1234-5678."""
    number = phonenumbers.parse(e164, "KR")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def mask_phone(e164: str) -> str:
    """+821012345678 -> 010-****-5678: what lists and logs show by default."""
    head, middle, tail = national_format(e164).split("-")
    return f"{head}-{'*' * len(middle)}-{tail}"


def mask_name(name: str) -> str:
    """김민수 -> 김*수, Alex -> A**x, 이수 -> 이*."""
    if len(name) <= 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]
