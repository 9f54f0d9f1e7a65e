"""Prices as the customer reads them: "₩1,250,000" and "₩55,000/month" in English,
"1,250,000원" and "월 55,000원" in Korean. One place, so a page, a form label, a message
and the admin all write a price the same way."""

from django.utils.translation import gettext as _


def won(amount: int) -> str:
    return _("₩%(amount)s") % {"amount": f"{amount:,}"}


def per_month(amount: int) -> str:
    return _("₩%(amount)s/month") % {"amount": f"{amount:,}"}
