import uuid
from collections.abc import Mapping
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from preorder_shop.customer_session import customer_required
from preorder_shop.exceptions import DomainError
from preorder_shop.pages import page_url

from . import chooser, selectors, services
from .forms import IntakeForm
from .models import Campaign, Variant
from .selectors import intake_catalogue


@require_safe
def campaign_list(request: HttpRequest) -> HttpResponse:
    campaigns = Campaign.objects.order_by("-reservation_opens_at")
    return render(request, "reservations/campaign_list.html", {"campaigns": campaigns})


def _campaign_page(
    request: HttpRequest,
    campaign: Campaign,
    params: Mapping[str, str],
    *,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    chosen = chooser.build(campaign, selectors.variants_with_counts(campaign), params)
    htmx = request.htmx and not request.htmx.history_restore_request
    if htmx and request.GET.get("part") == "counts":
        # The 15-second poll: one query, the live counts of the options on screen.
        response = render(request, "reservations/_chooser_counts.html", {"chooser": chosen})
        patch_vary_headers(response, ["HX-Request"])
        return response
    availability = selectors.reserve_availability(
        campaign=campaign, customer=request.customer, now=timezone.now()
    )
    if params.get("incomplete") and not error:
        error = chosen.missing_message
    context = {
        "campaign": campaign,
        "error": error,
        "chooser": chosen,
        "availability": availability,
        "idempotency_key": uuid.uuid4() if availability.allowed else None,
        "swap": htmx and request.htmx.target == "chooser",
    }
    template = (
        "reservations/_chooser.html" if context["swap"] else "reservations/campaign_detail.html"
    )
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_safe
def campaign_detail(request: HttpRequest, slug: str) -> HttpResponse:
    return _campaign_page(request, get_object_or_404(Campaign, slug=slug), request.GET)


@require_POST
@customer_required
def reserve(request: HttpRequest, slug: str) -> HttpResponse:
    form = IntakeForm(request.POST)
    form.is_valid()
    variant = intake_catalogue.variants(slug).get(form.cleaned_data.get("variant"))
    if form.errors or variant is None:
        return _refused(request, slug, form, variant)
    try:
        reservation = services.reserve(
            customer_id=request.customer_id,
            variant=variant,
            fulfilment=form.cleaned_data["fulfilment"],
            idempotency_key=form.cleaned_data["idempotency_key"],
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return _back_to_choice(
            variant.campaign, chooser.choices_of(variant, form.cleaned_data["fulfilment"])
        )
    messages.success(
        request,
        _("Reserved. Your reservation number is %(number)s.") % {"number": reservation.number},
    )
    return redirect(page_url("reservation", number=reservation.number))


def _refused(
    request: HttpRequest, slug: str, form: IntakeForm, variant: Variant | None
) -> HttpResponse:
    """A submission that cannot be a reservation. An incomplete choice (the reserve button
    pressed before every step) or a stale form goes back to the campaign page with what was
    chosen, saying what is missing; input no page of ours sends (a variant of another
    campaign, an unknown way of receiving) gets the page with a 400."""
    campaign = get_object_or_404(Campaign, slug=slug)
    params = chooser.posted_choices(request.POST, variant)
    if "idempotency_key" in form.errors:
        # A tampered or stale form: show a fresh one (with a new key) and say why.
        messages.error(request, form.errors["idempotency_key"][0])
        return _back_to_choice(campaign, params)
    if form.data.get("variant") and variant is None:
        error = _("That model is not part of this campaign.")
    elif form.data.get("fulfilment") and "fulfilment" in form.errors:
        error = form.errors["fulfilment"][0]
    else:
        # The page says what is still to choose (beside the reserve button) from the
        # choices themselves, so the next step's swap clears it.
        return _back_to_choice(campaign, {**params, "incomplete": "1"})
    return _campaign_page(request, campaign, params, error=error, status=400)


def _back_to_choice(campaign: Campaign, params: Mapping[str, str]) -> HttpResponse:
    query = urlencode(params)
    return redirect(campaign.get_absolute_url() + (f"?{query}" if query else ""))
