"""Every kind of number the product issues, in one registry, and the one way to read them.

Event entry once accepted an 11-digit order number in the 8-digit reservation field. Here each
kind has a shape (prefix, length, alphabet, check character) chosen so that no two kinds can
be mistaken for each other, not even with one character missing or one too many (the
registry's tests prove it, position by position), and every door that takes a typed number
(forms, the courier importer, admin search, later the API, support and events) reads it with
the same cleaner and validator, so it can say "this is an order number, not a reservation
number" instead of "not found".

Issued today:
    reservation number  8 digits, no leading 0, last digit Damm
    order number       11 digits, no leading 0, last digit Damm
    ticket number      "T" + 9 digits (last Damm): 10 characters; without its "T" 9 digits,
                       a length no kind has, so a forgotten "T" is named as such
Reserved, not issued yet (`RESERVED_SHAPES`; register a kind with exactly this shape when it
becomes real, and the overlap tests cover it as they cover these now):
    prize code         13 characters of Crockford base 32 (no I, L, O, U), last Luhn mod 32

Numbers are drawn at random (never derived from a queue position), so they cannot be guessed;
Damm catches every single mistyped digit and every swap of neighbours, Luhn mod N every single
mistyped character.
"""

import contextlib
import itertools
import re
import secrets
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from django import forms
from django.core.exceptions import ValidationError
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from stdnum import damm, luhn

DIGITS = "0123456789"
CROCKFORD_BASE32 = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# Dropped wherever people put them: hyphens and dashes (NFKC has already turned full-width
# ones into "-"), and tabs and line ends pasted from a spreadsheet or a message.
SEPARATORS = frozenset("-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\t\n\r")
# Every Korean mobile number is 010 plus 8 digits (see preorder_shop.phone): the number people
# type most often into the wrong field.
MOBILE_NUMBER = re.compile(r"010[0-9]{8}")
SPACES = ("Zs", "Zl", "Zp")


class Check(StrEnum):
    DAMM = "damm"  # digits only: every single substitution and adjacent swap
    LUHN_MOD_N = "luhn_mod_n"  # any alphabet: every single substitution


@dataclass(frozen=True)
class Shape:
    """What a number of one kind looks like: `prefix`, then body characters from `alphabet`,
    the last of them the check character; `length` counts them all. A number without a
    prefix never starts with 0, so it survives spreadsheets and phone keypads."""

    length: int
    prefix: str = ""
    alphabet: str = DIGITS
    check: Check = Check.DAMM

    def allowed(self) -> list[frozenset[str]]:
        """The characters allowed at each position: the shape as a product of sets, which
        is what the overlap tests compare."""
        body = [frozenset(self.alphabet)] * (self.length - len(self.prefix))
        if not self.prefix:
            body[0] = body[0] - {"0"}
        return [frozenset(c) for c in self.prefix] + body

    @property
    def characters(self) -> frozenset[str]:
        return frozenset(self.prefix) | frozenset(self.alphabet)

    @property
    def pattern(self) -> str:
        """The shape as a regular expression (the database's check constraints use it)."""
        runs = ((chars, len(list(run))) for chars, run in itertools.groupby(self.allowed()))
        classes = (_character_class(c) + (f"{{{n}}}" if n > 1 else "") for c, n in runs)
        return "^" + "".join(classes) + "$"

    def matches(self, value: str) -> bool:
        """`value` has this shape; whether its check character is right is `is_valid`."""
        return len(value) == self.length and all(
            c in chars for c, chars in zip(value, self.allowed(), strict=True)
        )

    def misses_start(self, value: str) -> bool:
        """`value` would have this shape but for its start: its prefix left out ("T" of a
        ticket number), or, without a prefix, a leading 0."""
        if self.prefix:
            return self.matches(self.prefix + value)
        return (
            len(value) == self.length and set(value) <= self.characters and not self.matches(value)
        )

    def is_valid(self, value: str) -> bool:
        if not self.matches(value):
            return False
        body = value[len(self.prefix) :]
        if self.check == Check.DAMM:
            return damm.is_valid(body)
        return luhn.is_valid(body, self.alphabet)

    def generate(self) -> str:
        body = "".join(
            secrets.choice(sorted(chars)) for chars in self.allowed()[len(self.prefix) : -1]
        )
        if self.check == Check.DAMM:
            return self.prefix + body + damm.calc_check_digit(body)
        return self.prefix + body + luhn.calc_check_digit(body, self.alphabet)


def _character_class(chars: frozenset[str]) -> str:
    if len(chars) == 1:
        return re.escape(next(iter(chars)))
    if chars == frozenset(DIGITS):
        return "[0-9]"
    if chars == frozenset(DIGITS) - {"0"}:
        return "[1-9]"
    return "[" + "".join(re.escape(c) for c in sorted(chars)) + "]"


@dataclass(frozen=True)
class Wording:
    """What a kind's errors say, each a whole sentence so it translates as one."""

    rule: str  # "A reservation number has 8 digits."
    characters: str  # a character outside the kind's alphabet
    length: str  # wrong length; %(count)d is the length typed
    start: str  # right length and characters, wrong first one
    check: str  # wrong check character
    looks_like: str  # "This looks like a reservation number (8 digits)."
    enter_instead: str  # "Enter the 8-digit reservation number instead."


@dataclass(frozen=True, eq=False)
class IdentifierKind:
    """One kind of number: `name` is stable (error codes and params are made from it).
    Compared by identity: the registry holds each kind once, and its wording's lazy
    translations must not decide a hash."""

    name: str
    shape: Shape
    wording: Wording

    @property
    def length(self) -> int:
        return self.shape.length

    def generate(self) -> str:
        return self.shape.generate()

    def is_valid(self, value: str) -> bool:
        return self.shape.is_valid(value)


RESERVATION_NUMBER = IdentifierKind(
    "reservation_number",
    Shape(length=8),
    Wording(
        rule=_("A reservation number has 8 digits."),
        characters=_("A reservation number has digits only."),
        length=_("A reservation number has exactly 8 digits; you entered %(count)d."),
        start=_("A reservation number never starts with 0."),
        check=_("This reservation number is not valid. Check it for a mistyped digit."),
        looks_like=_("This looks like a reservation number (8 digits)."),
        enter_instead=_("Enter the 8-digit reservation number instead."),
    ),
)
ORDER_NUMBER = IdentifierKind(
    "order_number",
    Shape(length=11),
    Wording(
        rule=_("An order number has 11 digits."),
        characters=_("An order number has digits only."),
        length=_("An order number has exactly 11 digits; you entered %(count)d."),
        start=_("An order number never starts with 0."),
        check=_("This is not a valid 11-digit order number. Check it for a mistyped digit."),
        looks_like=_("This looks like an order number (11 digits)."),
        enter_instead=_("Enter the 11-digit order number instead."),
    ),
)
TICKET_NUMBER = IdentifierKind(
    "ticket_number",
    Shape(length=10, prefix="T"),
    Wording(
        rule=_("A ticket number is T followed by 9 digits."),
        characters=_("A ticket number has a T and then digits only."),
        length=_(
            "A ticket number has exactly 10 characters, T and 9 digits; you entered %(count)d."
        ),
        start=_("A ticket number starts with T."),
        check=_("This ticket number is not valid. Check it for a mistyped digit."),
        looks_like=_("This looks like a ticket number (T and 9 digits)."),
        enter_instead=_("Enter the ticket number (T and 9 digits) instead."),
    ),
)
REGISTRY: tuple[IdentifierKind, ...] = (RESERVATION_NUMBER, ORDER_NUMBER, TICKET_NUMBER)
RESERVED_SHAPES: dict[str, Shape] = {
    "prize_code": Shape(length=13, alphabet=CROCKFORD_BASE32, check=Check.LUHN_MOD_N),
}
CHARACTERS = frozenset().union(*(kind.shape.characters for kind in REGISTRY))

# Codes of the errors below, stable for machines (the API, the courier importer). A number
# of another kind is "<its kind's name>_given", e.g. "order_number_given".
EMPTY = "empty"
CONTROL_CHARACTER = "control_character"
BAD_CHARACTER = "bad_character"
MOBILE_NUMBER_GIVEN = "mobile_number_given"
WRONG_LENGTH = "wrong_length"
WRONG_START = "wrong_start"
BAD_CHECK_DIGIT = "bad_check_digit"
UNKNOWN_KIND = "unknown_kind"

LOOKS_LIKE_MOBILE = _("This looks like a mobile number.")


def _sentences(*parts: str) -> str:
    return format_lazy(" ".join(["{}"] * len(parts)), *parts)


def _normalise(raw: str) -> str:
    """`raw` as the registry compares it: NFKC (full-width digits and letters become ASCII),
    upper case, spaces and hyphens dropped. Refuses an empty value and control characters,
    NUL above all (PostgreSQL can neither store nor compare it)."""
    value = unicodedata.normalize("NFKC", raw).upper()
    value = "".join(
        c for c in value if c not in SEPARATORS and unicodedata.category(c) not in SPACES
    )
    if not value:
        raise ValidationError(_("Enter the number."), code=EMPTY)
    if any(unicodedata.category(c).startswith("C") for c in value):
        raise ValidationError(
            _("The number contains an invisible control character. Type it in again."),
            code=CONTROL_CHARACTER,
        )
    return value


def clean(raw: str) -> str:
    """The one cleaner: `raw` normalised (see _normalise), refused if it has a character
    that no kind of number uses."""
    value = _normalise(raw)
    foreign = next((c for c in value if c not in CHARACTERS), None)
    if foreign is not None:
        raise ValidationError(
            _("No number we issue contains “%(character)s”."),
            code=BAD_CHARACTER,
            params={"character": foreign},
        )
    return value


def identify(raw: str) -> tuple[IdentifierKind, str]:
    """Which kind of number `raw` is, and its clean value; or the most specific error."""
    value = clean(raw)
    for kind in REGISTRY:
        if kind.shape.matches(value):  # shapes are disjoint: at most one kind matches
            if not kind.is_valid(value):
                raise ValidationError(kind.wording.check, code=BAD_CHECK_DIGIT)
            return kind, value
    if MOBILE_NUMBER.fullmatch(value):
        raise ValidationError(
            _sentences(LOOKS_LIKE_MOBILE, _("It is not a number we issue.")),
            code=MOBILE_NUMBER_GIVEN,
        )
    for kind in REGISTRY:
        if kind.shape.misses_start(value):
            raise ValidationError(kind.wording.start, code=WRONG_START)
    raise ValidationError(
        _sentences(_("This is not a number we issue."), *(k.wording.rule for k in REGISTRY)),
        code=UNKNOWN_KIND,
    )


def validate(raw: str, expected: IdentifierKind) -> str:
    """The clean value of `raw` as an `expected` number, or why not, the most specific
    reason first: another kind's number, a mobile number, a character, the length, the first
    character, the check character."""
    value = _normalise(raw)
    wording = expected.wording
    for other in REGISTRY:
        if other is not expected and other.shape.matches(value):
            raise ValidationError(
                _sentences(other.wording.looks_like, wording.enter_instead),
                code=f"{other.name}_given",
                params={"given": other.name, "expected": expected.name},
            )
    if MOBILE_NUMBER.fullmatch(value):
        raise ValidationError(
            _sentences(LOOKS_LIKE_MOBILE, wording.enter_instead), code=MOBILE_NUMBER_GIVEN
        )
    foreign = next((c for c in value if c not in expected.shape.characters), None)
    if foreign is not None:
        raise ValidationError(
            wording.characters, code=BAD_CHARACTER, params={"character": foreign}
        )
    if expected.shape.misses_start(value):
        raise ValidationError(wording.start, code=WRONG_START)
    if len(value) != expected.length:
        raise ValidationError(wording.length, code=WRONG_LENGTH, params={"count": len(value)})
    if not expected.shape.matches(value):
        raise ValidationError(wording.start, code=WRONG_START)
    if not expected.is_valid(value):
        raise ValidationError(wording.check, code=BAD_CHECK_DIGIT)
    return value


class IdentifierField(forms.CharField):
    """A form field for one kind of number, read by `validate`."""

    def __init__(self, *, kind: IdentifierKind, **kwargs) -> None:
        # Room for what people type: full-width digits, spaces and hyphens.
        kwargs.setdefault("max_length", 32)
        self.kind = kind  # before the field's __init__, which asks widget_attrs
        super().__init__(**kwargs)

    def widget_attrs(self, widget):
        attrs = {**super().widget_attrs(widget), "autocomplete": "off", "spellcheck": "false"}
        if self.kind.shape.characters <= frozenset(DIGITS):
            attrs["inputmode"] = "numeric"  # the digit keypad on a phone
        return attrs

    def clean(self, value):
        value = super().clean(value)
        if value in self.empty_values:
            return value
        return validate(value, expected=self.kind)


class NumberSearch:
    """Admin mixin: a search term that is one of our numbers, however typed ("1234-5678",
    full-width digits), is searched as its clean value, so the exact lookups in
    `search_fields` ("=number", "=reservation__number") find the row; any other term (the
    last digits of a mobile number) is searched as typed. (The admin's search form itself
    refuses a NUL, which PostgreSQL could not compare.)"""

    def get_search_results(self, request, queryset, search_term):
        with contextlib.suppress(ValidationError):  # not one of our numbers: searched as typed
            _kind, search_term = identify(search_term)
        return super().get_search_results(request, queryset, search_term)


def url_converter(kind: IdentifierKind) -> type:
    """A path converter for `kind` (register_converter): a URL segment of the kind's
    characters and length, so a URL with anything else (a NUL, letters, another kind's
    length) is a 404 before a view queries with it. Whether it is a real, valid number is
    the view's lookup."""
    shape = kind.shape
    body = _character_class(frozenset(shape.alphabet)) + f"{{{shape.length - len(shape.prefix)}}}"

    class Converter:
        regex = re.escape(shape.prefix) + body

        def to_python(self, value: str) -> str:
            return value

        def to_url(self, value: str) -> str:
            return value

    Converter.__name__ = f"{kind.name.title().replace('_', '')}Converter"
    return Converter
