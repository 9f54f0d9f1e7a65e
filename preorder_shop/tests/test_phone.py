"""Korean mobile numbers: one canonical E.164 form in, masked forms out."""

import pytest
from django.core.exceptions import ValidationError

from preorder_shop.phone import (
    INVALID_MOBILE,
    mask_name,
    mask_phone,
    national_format,
    normalize_mobile,
)

CANONICAL = "+821012345678"
EXPECTED_MESSAGE = "Enter a Korean mobile number such as 010-1234-5678."


@pytest.mark.parametrize(
    "raw",
    [
        "010-1234-5678",
        "01012345678",
        "+82 10 1234 5678",
        "+82-10-1234-5678",
        "010 1234 5678",
        "  010-1234-5678  ",
        "(010) 1234-5678",
    ],
)
def test_every_way_of_writing_the_same_mobile_number_gives_one_e164_form(raw):
    assert normalize_mobile(raw) == CANONICAL


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("02-123-4567", "Seoul landline"),
        ("031-123-4567", "Gyeonggi landline"),
        ("070-1234-5678", "internet telephony"),
        ("011-123-4567", "retired 011 prefix, 7-digit middle"),
        ("011-1234-5678", "retired 011 prefix"),
        ("016-123-4567", "retired 016 prefix"),
        ("019-1234-5678", "retired 019 prefix"),
        ("010-123-4567", "old 7-digit 010 number, which phonenumbers still calls valid"),
        ("+1 202 555 0100", "US number"),
        ("+81 90 1234 5678", "Japanese mobile"),
        ("010-1234-56789", "one digit too many"),
        ("hello", "garbage"),
        ("010-1234-567o", "letter o for zero"),
        ("O1O-1234-5678", "letter O for zero"),
        ("", "empty"),
        ("   ", "blank"),
    ],
)
def test_anything_but_a_current_korean_mobile_number_is_refused_with_the_specific_message(
    raw, why
):
    with pytest.raises(ValidationError) as excinfo:
        normalize_mobile(raw)

    assert excinfo.value.code == "invalid_phone", why
    assert excinfo.value.messages == [EXPECTED_MESSAGE], why
    assert str(INVALID_MOBILE) == EXPECTED_MESSAGE


@pytest.mark.parametrize("raw", ["010-abcd-efgh", "010-CALL-SHOP"])
def test_letters_are_refused_not_read_as_keypad_digits(raw):
    with pytest.raises(ValidationError) as excinfo:
        normalize_mobile(raw)

    assert excinfo.value.code == "invalid_phone"


def test_national_format_is_what_koreans_write():
    assert national_format("+821012345678") == "010-1234-5678"
    assert national_format("+821098765432") == "010-9876-5432"


def test_national_format_round_trips_through_normalize_mobile():
    assert normalize_mobile(national_format("+821024681357")) == "+821024681357"


@pytest.mark.parametrize(
    ("e164", "masked"),
    [
        ("+821012345678", "010-****-5678"),
        ("+821098765432", "010-****-5432"),
    ],
)
def test_mask_phone_hides_the_middle_block_only(e164, masked):
    assert mask_phone(e164) == masked
    assert e164[-8:-4] not in masked


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("김민수", "김*수"),
        ("남궁민수", "남**수"),
        ("Alex", "A**x"),
        ("이수", "이*"),
        ("김", "*"),
        ("", "*"),
    ],
)
def test_mask_name_keeps_only_first_and_last_character(name, masked):
    assert mask_name(name) == masked


def test_masked_name_keeps_the_length_of_names_with_three_or_more_characters():
    name = "Christopher"
    assert mask_name(name) == "C" + "*" * 9 + "r"
    assert len(mask_name(name)) == len(name)
