""" "This answered my question" (support/articles.py): a POST from the ticket form's help
articles, signed in or not (the CSRF check applies as everywhere). Counted once per form
attempt; the customer leaves the form with a thank-you and no ticket."""

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from preorder_shop.exceptions import DomainError

from . import articles

REFUSED = "support/panels/deflection_refused.html"


class DeflectionForm(forms.Form):
    attempt = forms.CharField(max_length=200)
    article = forms.IntegerField(min_value=1, max_value=2**63 - 1)


@require_POST
def deflect(request: HttpRequest) -> HttpResponse:
    form = DeflectionForm(request.POST)
    if not form.is_valid():
        return _refused(request, articles.DeflectionRefused())
    try:
        articles.record_deflection(
            attempt=form.cleaned_data["attempt"],
            article_id=form.cleaned_data["article"],
            customer=request.customer,
        )
    except DomainError as exc:
        return _refused(request, exc)
    messages.success(request, _("Glad it helped. You do not need to send a ticket."))
    if request.customer is not None:
        return redirect("orders:my_reservations")
    return redirect("reservations:campaign_list")


def _refused(request: HttpRequest, error: DomainError) -> HttpResponse:
    return render(request, REFUSED, {"message": error.message}, status=400)
