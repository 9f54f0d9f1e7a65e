"""The ticket list's agent tools (issue 15): "Reply with a canned reply" to the selected
tickets, or to every ticket the list's filters find ("select all"; with the variant filter
below, e.g. every open "where is my phone" ticket of one variant: the list's query string is
the saved filter), previewed with the count and a few filled texts before anything is sent
(support.services.bulk_reply); and "Merge duplicates" of two selected tickets of one
customer, the newer into the older (support.services.merging). Support agents may (a reply
is "add message", a merge "change ticket"); auditors are not offered either."""

import uuid

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IncorrectLookupParameters
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from preorder_shop.exceptions import DomainError
from reservations.models import Variant

from .models import Macro, TicketStatus
from .services import REPLY_STATUSES
from .services import bulk_reply as bulk
from .services.merging import merge

PREVIEW, CONFIRM = "_preview", "_confirm"


class VariantFilter(admin.SimpleListFilter):
    title = _("variant")
    parameter_name = "variant"

    def lookups(self, request, model_admin):
        return [(v.pk, str(v)) for v in Variant.objects.order_by("campaign_id", "pk")]

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        value = str(self.value())  # facet counts pass the lookups' own ids (ints)
        if not value.isascii() or not value.isdigit():
            raise IncorrectLookupParameters(f"variant: {value!r} is not an id")
        return queryset.filter(reservation__variant_id=int(value))


class BulkReplyForm(forms.Form):
    macro = forms.ModelChoiceField(
        label=_("Canned reply"), queryset=Macro.objects.filter(active=True)
    )
    status = forms.ChoiceField(
        label=_("Then the tickets are"),
        choices=[(s.value, s.label) for s in REPLY_STATUSES],
        initial=TicketStatus.ANSWERED,
        widget=forms.RadioSelect,
    )
    key = forms.UUIDField(widget=forms.HiddenInput)
    expected = forms.IntegerField(min_value=0, required=False, widget=forms.HiddenInput)
    fingerprint = forms.CharField(max_length=64, required=False, widget=forms.HiddenInput)


def has_reply_permission(model_admin, request) -> bool:
    return request.user.has_perm("support.add_ticketmessage")


def has_merge_permission(model_admin, request) -> bool:
    return request.user.has_perm("support.change_ticket")


@admin.action(description=_("Reply with a canned reply…"), permissions=["reply"])
def reply_in_bulk(model_admin, request, queryset):
    posted = PREVIEW in request.POST or CONFIRM in request.POST
    form = BulkReplyForm(
        request.POST if posted else None, initial={"key": uuid.uuid4(), "status": "answered"}
    )
    preview = None
    if posted and form.is_valid():
        data = form.cleaned_data
        if CONFIRM in request.POST:
            try:
                replied = bulk.bulk_reply(
                    tickets=queryset,
                    macro=data["macro"],
                    staff_user=request.user,
                    expected=data["expected"] or 0,
                    expected_fingerprint=data["fingerprint"],
                    idempotency_key=data["key"],
                    status=data["status"],
                )
            except DomainError as exc:
                model_admin.message_user(request, exc.message, messages.ERROR)
            else:
                text = ngettext(
                    "Replied to %(n)d ticket; each customer is told by SMS.",
                    "Replied to %(n)d tickets; each customer is told by SMS.",
                    replied.count,
                )
                model_admin.message_user(request, text % {"n": replied.count}, messages.SUCCESS)
                return None
        preview = bulk.preview(tickets=queryset, macro=data["macro"], status=data["status"])
    return TemplateResponse(
        request,
        "admin/support/bulk_reply.html",
        {
            **model_admin.admin_site.each_context(request),
            "title": _("Reply to many tickets with a canned reply"),
            "opts": model_admin.model._meta,
            "form": form,
            "preview": preview,
            "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
            "select_across": request.POST.get("select_across", "0"),
            "chosen": queryset.count(),
            "action_name": "reply_in_bulk",
            "checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "preview_name": PREVIEW,
            "confirm_name": CONFIRM,
        },
    )


@admin.action(
    description=_("Merge two duplicate tickets (the newer into the older)"), permissions=["merge"]
)
def merge_duplicates(model_admin, request, queryset):
    tickets = list(queryset.order_by("created_at", "pk")[:3])
    if len(tickets) != 2:
        model_admin.message_user(
            request, _("Select exactly two tickets of one customer to merge."), messages.ERROR
        )
        return
    older, newer = tickets
    try:
        merge(duplicate=newer, into=older, staff_user=request.user)
    except DomainError as exc:
        model_admin.message_user(request, exc.message, messages.ERROR)
        return
    model_admin.message_user(
        request,
        _("%(newer)s merged into %(older)s; its conversation is there now.")
        % {"newer": newer.number, "older": older.number},
        messages.SUCCESS,
    )
