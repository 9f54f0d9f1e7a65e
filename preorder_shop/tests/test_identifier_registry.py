"""The identifier registry: no two kinds (issued or reserved) can be mistaken for each other,
and the one cleaner, identifier and validator say precisely what a typed number is."""

import itertools

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.utils.functional import Promise
from stdnum import damm, luhn

from preorder_shop.identifiers import (
    CROCKFORD_BASE32,
    DIGITS,
    ORDER_NUMBER,
    REGISTRY,
    RESERVATION_NUMBER,
    RESERVED_SHAPES,
    TICKET_NUMBER,
    Check,
    IdentifierField,
    Shape,
    clean,
    identify,
    validate,
)

SHAPES = {kind.name: kind.shape for kind in REGISTRY} | RESERVED_SHAPES
PAIRS = [pytest.param(a, b, id=f"{a}-{b}") for a, b in itertools.permutations(SHAPES, 2)]
ANY = frozenset().union(*(shape.characters for shape in SHAPES.values()))


def overlap(a: list[frozenset[str]], b: list[frozenset[str]]) -> bool:
    """Some string has both shapes (each a list of per-position character sets)."""
    return len(a) == len(b) and all(x & y for x, y in zip(a, b, strict=True))


def one_edit_away(shape: Shape) -> list[list[frozenset[str]]]:
    """The shapes of `shape`'s numbers with one character missing or one too many."""
    sets = shape.allowed()
    missing = [sets[:i] + sets[i + 1 :] for i in range(len(sets))]
    extra = [[*sets[:i], ANY, *sets[i:]] for i in range(len(sets) + 1)]
    return missing + extra


def other_kind(kind):
    return next(k for k in REGISTRY if k is not kind)


# --- no two kinds can be mistaken for each other -----------------------------------------


@pytest.mark.parametrize(("a", "b"), PAIRS)
def test_no_two_shapes_have_a_number_in_common(a, b):
    assert not overlap(SHAPES[a].allowed(), SHAPES[b].allowed())


@pytest.mark.parametrize(("a", "b"), PAIRS)
def test_one_character_missing_or_too_many_never_makes_another_kind(a, b):
    assert not any(overlap(edited, SHAPES[b].allowed()) for edited in one_edit_away(SHAPES[a]))


def test_the_overlap_proof_does_find_shapes_that_could_be_confused():
    """The two tests above would catch a bad new kind: the proof itself is not vacuous."""
    order = ORDER_NUMBER.shape
    assert overlap(order.allowed(), Shape(length=11, alphabet=CROCKFORD_BASE32).allowed())
    assert overlap(order.allowed(), Shape(length=11, prefix="1").allowed())
    assert not overlap(order.allowed(), Shape(length=11, prefix="T").allowed())
    # A 12-character code with digits: an order number with one digit too many.
    twelve = Shape(length=12, alphabet=CROCKFORD_BASE32, check=Check.LUHN_MOD_N).allowed()
    assert any(overlap(edited, twelve) for edited in one_edit_away(order))
    # A ticket of "T" + 8 digits would be a reservation number once its "T" is forgotten.
    short_ticket = Shape(length=9, prefix="T")
    assert any(
        overlap(edited, RESERVATION_NUMBER.shape.allowed())
        for edited in one_edit_away(short_ticket)
    )


def test_kind_names_are_distinct_and_not_reserved():
    names = [kind.name for kind in REGISTRY]
    assert len(set(names)) == len(names)
    assert not set(names) & set(RESERVED_SHAPES)


def test_every_message_is_translatable():
    for kind in REGISTRY:
        for field, message in vars(kind.wording).items():
            assert isinstance(message, Promise), (kind.name, field)


# --- the shapes the module documents ------------------------------------------------------


def test_shapes_are_what_the_module_documents():
    ticket, prize = TICKET_NUMBER.shape, RESERVED_SHAPES["prize_code"]
    assert list(RESERVED_SHAPES) == ["prize_code"]  # the ticket number is issued now
    assert (ticket.prefix, ticket.length, ticket.alphabet, ticket.check) == (
        "T",
        10,
        DIGITS,
        Check.DAMM,
    )
    assert (prize.prefix, prize.length, prize.check) == ("", 13, Check.LUHN_MOD_N)
    assert set(prize.alphabet) == set(DIGITS + "ABCDEFGHJKMNPQRSTVWXYZ")  # no I, L, O, U
    assert len(prize.alphabet) == 32


@pytest.mark.parametrize("name", list(SHAPES))
def test_every_shape_check_character_catches_every_single_typo(name):
    shape = SHAPES[name]
    for _ in range(50):
        code = shape.generate()
        assert shape.matches(code) and shape.is_valid(code), code
        body = code[len(shape.prefix) :]
        assert (
            damm.is_valid(body)
            if shape.check == Check.DAMM
            else luhn.is_valid(body, shape.alphabet)
        )
        for position in range(len(shape.prefix), len(code)):
            for other in shape.alphabet:
                if other != code[position]:
                    typo = code[:position] + other + code[position + 1 :]
                    assert not shape.is_valid(typo), (code, typo)


@pytest.mark.parametrize("name", list(RESERVED_SHAPES))
def test_reserved_shapes_are_not_accepted_as_numbers_yet(name):
    code = RESERVED_SHAPES[name].generate()

    with pytest.raises(ValidationError) as excinfo:
        identify(code)

    assert excinfo.value.code in {"bad_character", "unknown_kind"}


# --- the one cleaner ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "cleaned"),
    [
        ("1234 5678", "12345678"),
        ("1234-5678", "12345678"),
        ("1234\u20135678", "12345678"),  # en dash
        ("1234\u22125678", "12345678"),  # minus sign
        ("\uff11\uff12\uff13\uff14\uff0d\uff15\uff16\uff17\uff18", "12345678"),  # full width
        ("1234\u30005678", "12345678"),  # ideographic space
        ("1234\u00a05678", "12345678"),  # no-break space
        ("\t1234\r\n5678\n", "12345678"),
    ],
)
def test_clean_drops_spaces_and_hyphens_and_makes_full_width_ascii(typed, cleaned):
    assert clean(typed) == cleaned


@pytest.mark.parametrize(
    "typed",
    ["1234\x005678", "\x00", "1234\x0b5678", "1234\x1f5678", "1234\u200b5678", "\ufeff12345678"],
    ids=["nul", "only-nul", "vertical-tab", "unit-separator", "zero-width-space", "bom"],
)
def test_clean_refuses_control_characters(typed):
    with pytest.raises(ValidationError) as excinfo:
        clean(typed)

    assert excinfo.value.code == "control_character"
    assert excinfo.value.messages == [
        "The number contains an invisible control character. Type it in again."
    ]


@pytest.mark.parametrize(
    ("typed", "character"),
    [("1234567a", "A"), ("+821012345678", "+"), ("1234.5678", "."), ("\u0661\u0662", "\u0661")],
    ids=["letter", "plus", "dot", "arabic-indic-digit"],
)
def test_clean_refuses_characters_no_kind_uses(typed, character):
    with pytest.raises(ValidationError) as excinfo:
        clean(typed)

    assert excinfo.value.code == "bad_character"
    assert excinfo.value.params == {"character": character}
    assert excinfo.value.messages == [f"No number we issue contains “{character}”."]


@pytest.mark.parametrize("typed", ["", " ", "--", "\n"])
def test_clean_refuses_nothing_typed(typed):
    with pytest.raises(ValidationError) as excinfo:
        clean(typed)

    assert excinfo.value.code == "empty"


# --- identify: which kind is it? ----------------------------------------------------------


@pytest.mark.parametrize("kind", REGISTRY, ids=lambda kind: kind.name)
def test_identify_names_the_kind_of_every_generated_number(kind):
    for _ in range(200):
        number = kind.generate()
        assert identify(f" {number[:3]}-{number[3:]} ") == (kind, number)


@pytest.mark.parametrize("kind", REGISTRY, ids=lambda kind: kind.name)
def test_identify_says_whose_check_digit_is_wrong(kind):
    number = kind.generate()
    typo = number[:-1] + str((int(number[-1]) + 1) % 10)

    with pytest.raises(ValidationError) as excinfo:
        identify(typo)

    assert excinfo.value.code == "bad_check_digit"
    assert excinfo.value.messages == [str(kind.wording.check)]


def test_identify_recognises_a_mobile_number():
    with pytest.raises(ValidationError) as excinfo:
        identify("010-1234-5678")

    assert excinfo.value.code == "mobile_number_given"
    assert excinfo.value.messages == [
        "This looks like a mobile number. It is not a number we issue."
    ]


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("01234567", "A reservation number never starts with 0."),
        ("01234567890", "An order number never starts with 0."),
        ("123456789", "A ticket number starts with T."),  # its "T" left out
        ("012345678", "A ticket number starts with T."),
    ],
)
def test_identify_names_a_wrong_start(typed, message):
    with pytest.raises(ValidationError) as excinfo:
        identify(typed)

    assert excinfo.value.code == "wrong_start"
    assert excinfo.value.messages == [message]


@pytest.mark.parametrize(
    "typed", ["5678", "1234567", "1234567890", "123456789012", "T12345678", "T1234567890"]
)
def test_identify_lists_the_numbers_we_issue_for_any_other_length(typed):
    with pytest.raises(ValidationError) as excinfo:
        identify(typed)

    assert excinfo.value.code == "unknown_kind"
    assert excinfo.value.messages == [
        "This is not a number we issue. A reservation number has 8 digits. "
        "An order number has 11 digits. A ticket number is T followed by 9 digits."
    ]


# --- validate: is it the kind this field wants? ------------------------------------------


@pytest.mark.parametrize("expected", REGISTRY, ids=lambda kind: kind.name)
def test_validate_names_the_other_kind_with_a_stable_code(expected):
    given = other_kind(expected)
    number = given.generate()

    with pytest.raises(ValidationError) as excinfo:
        validate(f"{number[:4]}-{number[4:]}", expected=expected)

    assert excinfo.value.code == f"{given.name}_given"
    assert excinfo.value.params == {"given": given.name, "expected": expected.name}
    assert excinfo.value.messages == [
        f"{given.wording.looks_like} {expected.wording.enter_instead}"
    ]


def test_validate_tells_an_order_field_what_is_wrong_in_its_own_words():
    def error(typed):
        with pytest.raises(ValidationError) as excinfo:
            validate(typed, expected=ORDER_NUMBER)
        return excinfo.value.code, excinfo.value.messages

    assert error("010-1234-5678") == (
        "mobile_number_given",
        ["This looks like a mobile number. Enter the 11-digit order number instead."],
    )
    assert error("1234567890x") == ("bad_character", ["An order number has digits only."])
    assert error("123456789") == (
        "wrong_length",
        ["An order number has exactly 11 digits; you entered 9."],
    )
    assert error("02345678901") == ("wrong_start", ["An order number never starts with 0."])
    number = ORDER_NUMBER.generate()
    assert error(number[:-1] + str((int(number[-1]) + 1) % 10)) == (
        "bad_check_digit",
        ["This is not a valid 11-digit order number. Check it for a mistyped digit."],
    )
    assert error("") == ("empty", ["Enter the number."])
    assert error("1234\x005678901")[0] == "control_character"


@pytest.mark.parametrize("kind", REGISTRY, ids=lambda kind: kind.name)
def test_validate_returns_the_clean_number(kind):
    number = kind.generate()
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in number)

    assert validate(full_width, expected=kind) == number
    assert validate(" ".join(number), expected=kind) == number


def test_validate_tells_a_ticket_field_what_is_wrong_in_its_own_words():
    def error(typed):
        with pytest.raises(ValidationError) as excinfo:
            validate(typed, expected=TICKET_NUMBER)
        return excinfo.value.code, excinfo.value.messages

    number = TICKET_NUMBER.generate()
    assert validate(f"t {number[1:4]}-{number[4:]}", expected=TICKET_NUMBER) == number
    assert error(number[1:]) == ("wrong_start", ["A ticket number starts with T."])
    assert error("1T23456789") == ("wrong_start", ["A ticket number starts with T."])
    assert error("T12345678") == (
        "wrong_length",
        ["A ticket number has exactly 10 characters, T and 9 digits; you entered 9."],
    )
    assert error("T12345678X") == (
        "bad_character",
        ["A ticket number has a T and then digits only."],
    )
    assert error(RESERVATION_NUMBER.generate()) == (
        "reservation_number_given",
        [
            "This looks like a reservation number (8 digits). "
            "Enter the ticket number (T and 9 digits) instead."
        ],
    )
    assert error(number[:-1] + str((int(number[-1]) + 1) % 10)) == (
        "bad_check_digit",
        ["This ticket number is not valid. Check it for a mistyped digit."],
    )


# --- the form field ----------------------------------------------------------------------


class EntryForm(forms.Form):
    reservation_number = IdentifierField(kind=RESERVATION_NUMBER)


def test_the_form_field_cleans_what_people_type():
    number = RESERVATION_NUMBER.generate()
    form = EntryForm({"reservation_number": f"{number[:4]} - {number[4:]}"})

    assert form.is_valid(), form.errors
    assert form.cleaned_data["reservation_number"] == number


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        (ORDER_NUMBER.generate(), "order_number_given"),
        ("12a45678", "bad_character"),
        ("", "required"),
        ("1234\x005678", "null_characters_not_allowed"),
        ("1" * 33, "max_length"),
    ],
    ids=["order-number", "letter", "empty", "nul", "too-long"],
)
def test_the_form_field_refuses_with_a_field_error(typed, code):
    form = EntryForm({"reservation_number": typed})

    assert not form.is_valid()
    assert [error.code for error in form.errors.as_data()["reservation_number"]] == [code]


def test_the_form_field_asks_phones_for_the_digit_keypad():
    html = str(EntryForm()["reservation_number"])

    assert 'inputmode="numeric"' in html
    assert 'autocomplete="off"' in html
    assert 'maxlength="32"' in html
