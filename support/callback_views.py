"""The ticket page's "Request a call" part (templates/support/_callback.html): booking a
time offered and cancelling it, for the customer's own ticket. Thin doors into
support.services.callbacks; a refusal is said on the ticket page, nothing changed."""

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import formats
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from preorder_shop.customer_session import customer_required
from preorder_shop.exceptions import DomainError
from preorder_shop.guessing import guessing_slowed

from .callback_exceptions import SlotUnknown
from .models import Ticket
from .selectors import own_ticket as find_own_ticket
from .services import callbacks


class BookForm(forms.Form):
    slot = forms.IntegerField(
        min_value=1,
        error_messages={
            "required": gettext_lazy("Choose a time for the call."),
            "invalid": SlotUnknown.default_message,
            "min_value": SlotUnknown.default_message,
        },
    )


def own_ticket(request: HttpRequest, number: str) -> Ticket:
    """As on the ticket page: anyone else's ticket is the same 404 as none."""
    ticket = find_own_ticket(customer_id=request.customer_id, number=number)
    if ticket is None:
        raise Http404(_("No such ticket."))
    return ticket


def _back(number: str) -> HttpResponse:
    page = reverse("support:ticket_detail", args=[number])
    return redirect(page + callbacks.PICKER_ANCHOR)


@require_POST
@customer_required
@guessing_slowed
def callback_book(request: HttpRequest, number: str) -> HttpResponse:
    ticket = own_ticket(request, number)
    form = BookForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.errors["slot"][0])
        return _back(ticket.number)
    try:
        done = callbacks.book(
            ticket=ticket, customer=request.customer, slot_id=form.cleaned_data["slot"]
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return _back(ticket.number)
    messages.success(
        request,
        _("Your call is booked for %(slot)s. We will send you a text message 10 minutes before.")
        # In the page's words for a date, like the rest of the page (the text message
        # keeps slot_label, written before its language is known).
        % {"slot": formats.date_format(localtime(done.booking.slot.starts_at), "DATETIME_FORMAT")},
    )
    return _back(ticket.number)


@require_POST
@customer_required
@guessing_slowed
def callback_cancel(request: HttpRequest, number: str) -> HttpResponse:
    ticket = own_ticket(request, number)
    try:
        callbacks.cancel(ticket=ticket, customer=request.customer)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Your call is cancelled."))
    return _back(ticket.number)
