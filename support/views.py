"""The customer's support pages: the support page, my tickets, one ticket's conversation and
its reply form, the ticket form, and the signed-out contact form. Thin doors: reads through
support.selectors, writes through support.services; each refusal of theirs is shown beside
its field, with nothing changed. A form sent back with what to fix is the page asked for
(200, as the sign-in form); the API answers the same refusals as 4xx problems."""

import uuid

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from preorder_shop.client import client_key
from preorder_shop.customer_session import customer_required
from preorder_shop.exceptions import DomainError, RateLimited
from preorder_shop.guessing import guessing_slowed

from . import contact_limits, selectors, services
from .exceptions import TicketClosed
from .forms import ContactForm, ReplyForm, TicketForm, refusal_field
from .models import Ticket, TicketCategory

TICKETS_PER_PAGE = 20
# The session's note of the ticket the contact form just opened (its number only).
CONTACT_SENT = "support_contact_ticket"


@require_safe
def support_home(request: HttpRequest) -> HttpResponse:
    return render(request, "support/support_home.html", {"categories": TicketCategory.choices})


@require_safe
@customer_required
def my_tickets(request: HttpRequest) -> HttpResponse:
    pages = Paginator(selectors.customer_tickets(request.customer_id), TICKETS_PER_PAGE)
    return render(
        request, "support/my_tickets.html", {"page": pages.get_page(request.GET.get("page"))}
    )


def _own_ticket(request: HttpRequest, number: str) -> Ticket:
    ticket = selectors.own_ticket(customer_id=request.customer_id, number=number)
    if ticket is None:
        raise Http404(_("No such ticket."))
    return ticket


def _ticket_page(
    request: HttpRequest, ticket: Ticket, form: ReplyForm | None = None
) -> HttpResponse:
    closed = selectors.reply_closed(ticket, timezone.now())
    if form is None and not closed:
        form = ReplyForm(initial={"idempotency_key": uuid.uuid4()})
    return render(
        request,
        "support/ticket_detail.html",
        {
            "ticket": ticket,
            "conversation": selectors.conversation(ticket),
            "closed": closed,
            "closed_message": TicketClosed.default_message,
            "reopens_until": selectors.reopens_until(ticket),
            "form": None if closed else form,
            "new_ticket_query": _about(ticket),
        },
    )


def _about(ticket: Ticket) -> str:
    """The ticket form's query that starts a new ticket about the same thing."""
    query = QueryDict(mutable=True)
    query["category"] = ticket.category
    if ticket.order_id and ticket.order.number:
        query["order"] = ticket.order.number
    elif ticket.reservation_id:
        query["reservation"] = ticket.reservation.number
    return query.urlencode()


@require_safe
@customer_required
@guessing_slowed
def ticket_detail(request: HttpRequest, number: str) -> HttpResponse:
    return _ticket_page(request, _own_ticket(request, number))


@require_POST
@customer_required
@guessing_slowed
def ticket_reply(request: HttpRequest, number: str) -> HttpResponse:
    ticket = _own_ticket(request, number)
    form = ReplyForm(request.POST)
    if not form.is_valid():
        return _ticket_page(request, ticket, _fresh_key(form))
    try:
        services.customer_reply(
            ticket=ticket,
            customer=request.customer,
            body=form.cleaned_data["body"],
            idempotency_key=form.cleaned_data["idempotency_key"],
        )
    except DomainError as exc:
        form.add_error(refusal_field(exc, form), exc.message)
        ticket.refresh_from_db()  # a refusal may mean it closed meanwhile: show it as it is
        return _ticket_page(request, ticket, form)
    messages.success(request, _("Your reply is added to the ticket."))
    return redirect("support:ticket_detail", number=ticket.number)


def _fresh_key(form):
    """A form whose key was missing or garbled gets a new one, what was typed kept."""
    if "idempotency_key" in form.errors:
        form.data = form.data.copy()
        form.data["idempotency_key"] = str(uuid.uuid4())
    return form


# The ticket form. A GET with category and subject (the page's links pre-select with
# ?reservation= or ?order=) shows the form for that choice: with htmx, choosing a category
# or a subject asks for the #ticket-help part only (the answers for the category, the live
# status of the subject), so what the customer typed stays.


def _choice(request: HttpRequest, subjects: list[selectors.Subject]) -> tuple[str, str]:
    """The category and subject asked for in the query, each dropped unless it is one of
    the page's (a foreign or unknown number is ignored, saying nothing about it)."""
    category = request.GET.get("category", "")
    if category not in TicketCategory.values:
        category = ""
    values = {s.value for s in subjects}
    asked = [request.GET.get(name, "") for name in ("subject", "order", "reservation")]
    subject = next((a for a in asked if a and a in values), "")
    return category, subject


def _form_page(request: HttpRequest, form: TicketForm) -> HttpResponse:
    category = form["category"].value() or ""
    subject = form.subjects.get(form["subject"].value() or "")
    context = {
        "form": form,
        "category": category if category in TicketCategory.values else "",
        "subject": subject,
        # The panels' objects: None when nothing is chosen.
        "subject_reservation": subject.reservation if subject else None,
        "subject_order": subject.order if subject else None,
        "live": selectors.live_status(request.customer_id, subject) if subject else None,
    }
    htmx = request.htmx and not request.htmx.history_restore_request
    template = (
        "support/_ticket_help.html"
        if htmx and request.htmx.target == "ticket-help"
        else "support/ticket_form.html"
    )
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


# The button that shows the help for the choice when htmx cannot (no JavaScript): it posts
# the form, so what was typed is kept and stays out of the URL, and opens nothing.
SHOW = "show"


@require_http_methods(["GET", "HEAD", "POST"])
@customer_required
def ticket_new(request: HttpRequest) -> HttpResponse:
    subjects = selectors.subjects(request.customer_id)
    if request.method != "POST":
        category, subject = _choice(request, subjects)
        initial = {"category": category, "subject": subject, "idempotency_key": uuid.uuid4()}
        return _form_page(request, TicketForm(initial=initial, subjects=subjects))
    if request.POST.get("step") == SHOW:  # without JavaScript: the help for the choice
        return _form_page(request, TicketForm(initial=request.POST.dict(), subjects=subjects))
    form = TicketForm(request.POST, subjects=subjects)
    if not form.is_valid():
        return _form_page(request, _fresh_key(form))
    chosen = form.chosen_subject()
    try:
        opened = services.open_ticket(
            customer=request.customer,
            category=form.cleaned_data["category"],
            body=form.cleaned_data["body"],
            idempotency_key=form.cleaned_data["idempotency_key"],
            reservation=chosen.reservation if chosen else None,
            order=chosen.order if chosen else None,
            email=form.cleaned_data["email"],
        )
    except DomainError as exc:
        form.add_error(refusal_field(exc, form), exc.message)
        return _form_page(request, form)
    ticket = opened.ticket
    if opened.created:
        messages.success(
            request,
            _("Your ticket is open. Its number is %(number)s.") % {"number": ticket.number},
        )
    else:
        messages.info(
            request,
            _(
                "You already have an open ticket about this, %(number)s: your message was "
                "added to it."
            )
            % {"number": ticket.number},
        )
    return redirect("support:ticket_detail", number=ticket.number)


# The signed-out contact form.


def _contact_page(request: HttpRequest, form: ContactForm) -> HttpResponse:
    return render(request, "support/contact.html", {"form": form})


@require_http_methods(["GET", "HEAD", "POST"])
def contact(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _contact_page(request, ContactForm(initial={"idempotency_key": uuid.uuid4()}))
    form = ContactForm(request.POST)
    if not form.is_valid():
        return _contact_page(request, _fresh_key(form))
    try:
        contact_limits.count_contact(phone=form.cleaned_data["phone"], client=client_key(request))
    except RateLimited as exc:
        response = render(request, "rate_limited.html", {"message": exc.message}, status=429)
        response["Retry-After"] = str(exc.retry_after)
        return response
    try:
        ticket = services.open_contact_ticket(
            phone=form.cleaned_data["phone"],
            name=form.cleaned_data["name"],
            body=form.cleaned_data["body"],
            idempotency_key=form.cleaned_data["idempotency_key"],
            language=request.LANGUAGE_CODE,
        )
    except DomainError as exc:
        form.add_error(refusal_field(exc, form), exc.message)
        return _contact_page(request, form)
    # Post, then redirect: a reload of the answer does not send the form again.
    request.session[CONTACT_SENT] = ticket.number
    return redirect("support:contact_sent")


@require_safe
def contact_sent(request: HttpRequest) -> HttpResponse:
    number = request.session.get(CONTACT_SENT)
    if number is None:
        return redirect("support:contact")
    return render(request, "support/contact_sent.html", {"number": number})
