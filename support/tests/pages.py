"""What the customer support page tests share: the ticket form's address, a page's text,
the form's idempotency key and a filled-in form."""

import re

from support.models import Ticket, TicketCategory

C = TicketCategory
NEW = "/support/tickets/new/"


def text(response) -> str:
    return " ".join(response.content.decode().split())


def key_of(response) -> str:
    return re.search(r'name="idempotency_key" value="([^"]+)"', response.content.decode())[1]


def form(response, **fields) -> dict:
    return {
        "category": C.WHERE_IS_MY_PHONE,
        "subject": "",
        "email": "",
        "body": "제 폰은 언제 오나요?",
        "idempotency_key": key_of(response),
        **fields,
    }


def checked(html: str, name: str) -> set[str]:
    """The values of the checked radios named `name`."""
    radios = re.findall(rf'<input type="radio" name="{name}" [^>]*>', html)
    return {re.search(r'value="([^"]*)"', r)[1] for r in radios if " checked" in r}


def detail_path(ticket: Ticket) -> str:
    return f"/support/tickets/{ticket.number}/"
