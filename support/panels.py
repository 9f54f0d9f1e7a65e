"""What support shows on other pages (preorder_shop.pages), registered in
SupportConfig.ready(): the notices on the campaign, reservation, order and support pages and
on the ticket form, the help articles of the chosen category on the ticket form, and the
notices of an order's status in the API (fact "notices")."""

from django.utils.translation import get_language

from orders.models import Order
from preorder_shop.models import Customer
from preorder_shop.pages import add_fact, add_panel
from reservations.models import Campaign, Reservation

from . import articles, site_notices

NOTICES = "support/panels/notices.html"
ARTICLES = "support/panels/articles.html"


def _shown(notices: list) -> dict | None:
    return {"notices": notices} if notices else None


def campaign_notices(*, campaign: Campaign, **_page) -> dict | None:
    return _shown(site_notices.active_in_campaign(campaign_id=campaign.pk))


def reservation_notices(*, reservation: Reservation, **_page) -> dict | None:
    return _shown(site_notices.active_for_reservation(reservation))


def order_notices(*, order: Order, **_page) -> dict | None:
    return _shown(site_notices.active_for_order(order))


def support_page_notices(*, customer: Customer | None = None, **_page) -> dict | None:
    return _shown(site_notices.active_for_customer(customer_id=customer and customer.pk))


def ticket_form_notices(
    *,
    reservation: Reservation | None = None,
    order: Order | None = None,
    customer: Customer | None = None,
    **_page,
) -> dict | None:
    """The chosen reservation's (or order's) notices; before one is chosen, the customer's."""
    if reservation is not None:
        return _shown(site_notices.active_for_reservation(reservation, order=order))
    return support_page_notices(customer=customer)


def ticket_form_articles(*, category: str = "", **_page) -> dict | None:
    """The category's published articles with "This answered my question"; nothing before a
    category is chosen, or when it has none."""
    found = articles.for_category(category, language=get_language() or "ko")
    if not found:
        return None
    return {"articles": found, "attempt": articles.new_attempt()}


def status_notices(*, order: Order, loaded: list[dict], **_objects) -> list[dict]:
    """An order status's `notices` (the API's): the notices shown now to this order's
    customer, in the active language, as {"severity", "title", "text", "starts_at",
    "ends_at"} (ISO 8601); [] when there are none or the order is over. `loaded`: what
    site_notices.ORDER_NOTICES_SQL read in the status's own statement."""
    return [notice.as_json() for notice in site_notices.notices_from_json(loaded)]


def register() -> None:
    add_panel("campaign_page", template=NOTICES, context=campaign_notices, order=10)
    add_panel("reservation_page", template=NOTICES, context=reservation_notices, order=10)
    add_panel("order_page", template=NOTICES, context=order_notices, order=10)
    add_panel("support_page", template=NOTICES, context=support_page_notices, order=10)
    add_panel("ticket_form", template=NOTICES, context=ticket_form_notices, order=10)
    add_panel("ticket_form", template=ARTICLES, context=ticket_form_articles, order=20)
    add_fact(
        "order_status",
        "notices",
        status_notices,
        sql=site_notices.ORDER_NOTICES_SQL,
        changes_at=site_notices.ORDER_NOTICES_CHANGE_AT_SQL,
    )
