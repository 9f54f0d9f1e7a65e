""" "Ask about this reservation / order" on the reservation and order pages (page panels,
preorder_shop.pages), registered in SupportConfig.ready(): a link to the ticket form with
that reservation or order chosen. The pages never import this app."""

from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext as _

from preorder_shop.pages import add_panel

TEMPLATE = "support/_ask_link.html"


def _ask(**query: str) -> str:
    return f"{reverse('support:ticket_new')}?{urlencode(query)}"


def about_reservation(*, reservation, **_page) -> dict:
    return {
        "ask_url": _ask(reservation=reservation.number),
        "ask_label": _("Ask about this reservation"),
    }


def about_order(*, order, **_page) -> dict | None:
    if not order.number:  # a draft is shown on its reservation's page
        return None
    return {"ask_url": _ask(order=order.number), "ask_label": _("Ask about this order")}


def register() -> None:
    # Last on the page: after what the page and the other panels already say.
    add_panel("reservation_page", template=TEMPLATE, context=about_reservation, order=900)
    add_panel("order_page", template=TEMPLATE, context=about_order, order=900)
