"""What a customer types, checked before any write: message bodies, names, e-mail addresses."""

import unicodedata

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from ..exceptions import ControlCharacter, EmptyMessage, InvalidEmail, MessageTooLong
from ..models import Ticket

MAX_BODY = 5000
MAX_NAME = 50


def clean_text(text: str) -> str:
    """`text` stripped; refused if it has a control character other than line ends and tabs
    (PostgreSQL cannot store a NUL at all)."""
    if any(unicodedata.category(c) == "Cc" and c not in "\n\r\t" for c in text):
        raise ControlCharacter()
    return text.strip()


def clean_body(body: str) -> str:
    body = clean_text(body)
    if not body:
        raise EmptyMessage()
    if len(body) > MAX_BODY:
        raise MessageTooLong()
    return body


def clean_email(email: str) -> str:
    email = clean_text(email)
    if not email:
        return ""
    try:
        validate_email(email)
    except ValidationError as exc:
        raise InvalidEmail() from exc
    if len(email) > Ticket._meta.get_field("reply_email").max_length:
        raise InvalidEmail()
    return email
