"""Staff answer a ticket in admin (issue 14): the reply form on the ticket's page, through
support.services.staff_reply (the message, the status it leaves the ticket in, the
customer's SMS and e-mail through the outbox, in one transaction). Support agents may;
auditors read. The queue ordered by promise and the agent tools are issue 15's."""

import uuid

from django import forms
from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from preorder_shop.exceptions import DomainError

from . import services
from .models import Ticket, TicketStatus

S = TicketStatus


class StaffReplyForm(forms.Form):
    body = forms.CharField(label=_("Reply"), widget=forms.Textarea(attrs={"rows": 8}))
    status = forms.ChoiceField(
        label=_("Then the ticket is"),
        choices=[(s.value, s.label) for s in services.REPLY_STATUSES],
        initial=S.ANSWERED,
        widget=forms.RadioSelect,
    )
    key = forms.UUIDField(widget=forms.HiddenInput)


def may_reply(request: HttpRequest) -> bool:
    return request.user.has_perm("support.add_ticketmessage")


def reply_view(model_admin, request: HttpRequest, object_id: str) -> HttpResponse:
    ticket: Ticket | None = model_admin.get_object(request, unquote(object_id))
    if ticket is None:
        raise Http404
    if not (model_admin.has_view_permission(request, ticket) and may_reply(request)):
        raise PermissionDenied
    change_url = reverse("admin:support_ticket_change", args=[ticket.pk])
    if request.method == "POST":
        form = StaffReplyForm(request.POST)
        if form.is_valid():
            try:
                services.staff_reply(
                    ticket=ticket,
                    staff_user=request.user,
                    body=form.cleaned_data["body"],
                    status=form.cleaned_data["status"],
                    idempotency_key=form.cleaned_data["key"],
                )
            except DomainError as exc:
                form.add_error("body", exc.message)
            else:
                model_admin.message_user(
                    request, _("Reply sent; the customer is told by SMS."), messages.SUCCESS
                )
                return redirect(change_url)
    else:
        form = StaffReplyForm(initial={"key": uuid.uuid4()})
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "original": ticket,
        "title": _("Reply to ticket %(number)s") % {"number": ticket.number},
        "change_url": change_url,
        "conversation": ticket.messages.order_by("created_at", "pk"),
        "form": form,
    }
    return TemplateResponse(request, "admin/support/ticket_reply.html", context)
