"""Staff answer a ticket in admin: the reply form on the ticket's page, through
support.services.staff_reply (the message, the status it leaves the ticket in, the
customer's SMS and e-mail through the outbox, in one transaction). Support agents may;
auditors read.

Issue 15's agent tools on the same page: pick a canned reply and "Fill in for this ticket"
puts its text, filled with the ticket's live order data (support.placeholders), into the
reply box, where the agent reads (and may edit) exactly what will be sent; or tick
"internal note" to write what only staff read (support.services.notes: no status move, no
message to the customer)."""

import uuid

from django import forms
from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from preorder_shop.exceptions import DomainError

from . import placeholders, services
from .models import Macro, Ticket, TicketStatus
from .services.notes import add_internal_note

S = TicketStatus
PREVIEW = "_fill"


def offered_macros(ticket: Ticket):
    """The active canned replies for the ticket's category, and those for any category."""
    return Macro.objects.filter(Q(category="") | Q(category=ticket.category), active=True)


class StaffReplyForm(forms.Form):
    macro = forms.ModelChoiceField(
        label=_("Canned reply"), queryset=Macro.objects.none(), required=False
    )
    body = forms.CharField(
        label=_("Reply"), widget=forms.Textarea(attrs={"rows": 8}), required=False
    )
    status = forms.ChoiceField(
        label=_("Then the ticket is"),
        choices=[(s.value, s.label) for s in services.REPLY_STATUSES],
        initial=S.ANSWERED,
        widget=forms.RadioSelect,
    )
    internal = forms.BooleanField(
        label=_("Internal note: staff only; the customer is not told and the status stays"),
        required=False,
    )
    key = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, ticket: Ticket, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["macro"].queryset = offered_macros(ticket)

    def clean_body(self) -> str:
        body = self.cleaned_data["body"]
        if not body.strip() and not self.data.get(PREVIEW):
            raise forms.ValidationError(_("Write the reply, or fill in a canned reply."))
        return body


def may_reply(request: HttpRequest) -> bool:
    return request.user.has_perm("support.add_ticketmessage")


def reply_view(model_admin, request: HttpRequest, object_id: str) -> HttpResponse:
    ticket: Ticket | None = model_admin.get_object(request, unquote(object_id))
    if ticket is None:
        raise Http404
    if not (model_admin.has_view_permission(request, ticket) and may_reply(request)):
        raise PermissionDenied
    change_url = reverse("admin:support_ticket_change", args=[ticket.pk])
    filled = False
    if request.method == "POST":
        form = StaffReplyForm(request.POST, ticket=ticket)
        if form.is_valid() and PREVIEW in request.POST:
            form, filled = _filled_form(form, ticket)
        elif form.is_valid():
            try:
                sent = _send(request, ticket, form.cleaned_data)
            except DomainError as exc:
                form.add_error("body", exc.message)
            else:
                model_admin.message_user(request, sent, messages.SUCCESS)
                return redirect(change_url)
    else:
        form = StaffReplyForm(initial={"key": uuid.uuid4()}, ticket=ticket)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "original": ticket,
        "title": _("Reply to ticket %(number)s") % {"number": ticket.number},
        "change_url": change_url,
        "conversation": ticket.messages.order_by("created_at", "pk"),
        "form": form,
        "filled": filled,
        "preview_name": PREVIEW,
    }
    return TemplateResponse(request, "admin/support/ticket_reply.html", context)


def _filled_form(form: StaffReplyForm, ticket: Ticket) -> tuple[StaffReplyForm, bool]:
    """The form again with the chosen macro's text filled for `ticket` in the reply box."""
    data = form.cleaned_data
    macro = data["macro"]
    if macro is None:
        form.add_error("macro", _("Choose a canned reply to fill in."))
        return form, False
    body = placeholders.filled_for(macro, ticket, now=timezone.now())
    initial = {**data, "macro": macro.pk, "body": body, "key": data["key"]}
    return StaffReplyForm(initial=initial, ticket=ticket), True


def _send(request: HttpRequest, ticket: Ticket, data: dict) -> str:
    if data["internal"]:
        add_internal_note(
            ticket=ticket, staff_user=request.user, body=data["body"], idempotency_key=data["key"]
        )
        return _("Internal note added; the customer does not see it.")
    services.staff_reply(
        ticket=ticket,
        staff_user=request.user,
        body=data["body"],
        status=data["status"],
        idempotency_key=data["key"],
    )
    return _("Reply sent; the customer is told by SMS.")
