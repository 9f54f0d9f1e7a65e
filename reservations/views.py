import uuid

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from preorder_shop.customer_session import customer_required
from preorder_shop.exceptions import DomainError
from preorder_shop.pages import page_url

from . import selectors, services
from .forms import IntakeForm, ReserveForm
from .models import Campaign
from .selectors import intake_catalogue


@require_safe
def campaign_list(request: HttpRequest) -> HttpResponse:
    campaigns = Campaign.objects.order_by("-reservation_opens_at")
    return render(request, "reservations/campaign_list.html", {"campaigns": campaigns})


def _campaign_page(
    request: HttpRequest, campaign: Campaign, form: ReserveForm | None = None, status: int = 200
) -> HttpResponse:
    variants = list(selectors.variants_with_counts(campaign))
    availability = selectors.reserve_availability(
        campaign=campaign, customer=request.customer, now=timezone.now()
    )
    if form is None and availability.allowed:
        form = ReserveForm(campaign=campaign, initial={"idempotency_key": uuid.uuid4()})
    context = {
        "campaign": campaign,
        "variants": variants,
        "availability": availability,
        "form": form if availability.allowed else None,
    }
    if request.htmx and request.GET.get("part") == "counts":
        return render(request, "reservations/_variant_counts.html", context)
    return render(request, "reservations/campaign_detail.html", context, status=status)


@require_safe
def campaign_detail(request: HttpRequest, slug: str) -> HttpResponse:
    return _campaign_page(request, get_object_or_404(Campaign, slug=slug))


@require_POST
@customer_required
def reserve(request: HttpRequest, slug: str) -> HttpResponse:
    form = IntakeForm(request.POST)
    variant = form.is_valid() and intake_catalogue.variants(slug).get(form.cleaned_data["variant"])
    if not variant:
        campaign = get_object_or_404(Campaign, slug=slug)
        if "idempotency_key" in form.errors:
            # A tampered or stale form: show a fresh one (with a new key) and say why.
            messages.error(request, form.errors["idempotency_key"][0])
            return redirect(campaign)
        shown = ReserveForm(request.POST, campaign=campaign)
        shown.is_valid()
        return _campaign_page(request, campaign, form=shown, status=400)
    try:
        reservation = services.reserve(
            customer_id=request.customer_id,
            variant=variant,
            fulfilment=form.cleaned_data["fulfilment"],
            idempotency_key=form.cleaned_data["idempotency_key"],
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(variant.campaign)
    messages.success(
        request,
        _("Reserved. Your reservation number is %(number)s.") % {"number": reservation.number},
    )
    return redirect(page_url("reservation", number=reservation.number))
