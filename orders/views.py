"""The customer's own reservations and orders: thin doors into orders.services."""

from collections.abc import Callable

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from preorder_shop.conditional import mark, none_match, not_modified
from preorder_shop.customer_session import customer_required
from preorder_shop.exceptions import DomainError
from preorder_shop.guessing import guessing_slowed
from reservations.models import Fulfilment, Reservation
from reservations.selectors import customer_reservations, queue_standing, reservation_timeline

from . import selectors, services
from .exceptions import (
    AddressNotChangeable,
    FestivalDrawPending,
    IncompleteOrder,
    InvalidAddress,
    OrderNotCancellable,
)
from .forms import DeliveryAddressForm, OrderForm
from .models import ADDRESS_FIELDS, Order, OrderStatus


def _own_reservation(request: HttpRequest, number: str) -> Reservation:
    """The signed-in customer's reservation; anyone else's number is simply not found."""
    reservation = (
        Reservation.objects.select_related("campaign", "variant", "customer")
        .filter(number=number, customer=request.customer)
        .first()
    )
    if reservation is None:
        raise Http404(_("No such reservation."))
    return reservation


def _own_order(request: HttpRequest, number: str) -> Order:
    order = selectors.own_order(customer_id=request.customer_id, number=number)
    if order is None:
        raise Http404(_("No such order."))
    return order


@require_safe
@customer_required
def my_reservations(request: HttpRequest) -> HttpResponse:
    rows = customer_reservations(request.customer)
    return render(request, "orders/my_reservations.html", {"rows": rows})


@require_safe
@customer_required
@guessing_slowed
def reservation_detail(request: HttpRequest, number: str) -> HttpResponse:
    reservation = _own_reservation(request, number)
    return render(
        request,
        "orders/reservation_detail.html",
        {
            "reservation": reservation,
            "standing": queue_standing(reservation),
            "timeline": reservation_timeline(reservation),
            "actions": selectors.customer_actions(reservation, now=timezone.now()),
        },
    )


# The confirming POST's field: it must name what the confirmation page said would happen
# (CancelPlan.token, or "draft" for a discard). A POST without it acts on nothing.
CONFIRM = "confirm"


def _confirmation(
    request: HttpRequest, template: str, context: dict, token: str, act: Callable[[], HttpResponse]
) -> HttpResponse:
    """GET: the page that says what will happen. POST: `act` if the page's token came back;
    without one, the page again (nothing done); with another, the page again saying that
    what would happen has changed since it was opened."""
    page = {**context, "confirm_field": CONFIRM, "token": token}
    if request.method != "POST":
        return render(request, template, page)
    sent = request.POST.get(CONFIRM, "")
    if sent == token:
        return act()
    if not sent:
        return redirect(request.path)
    return render(request, template, {**page, "changed": True}, status=409)


def _refused(request: HttpRequest, message: str, to: str, number: str) -> HttpResponse:
    messages.error(request, message)
    return redirect(to, number=number)


@require_http_methods(["GET", "HEAD", "POST"])
@customer_required
@guessing_slowed
def reservation_cancel(request: HttpRequest, number: str) -> HttpResponse:
    reservation = _own_reservation(request, number)
    plan = selectors.cancel_plan(reservation)
    if plan.refusal:
        return _refused(request, plan.refusal, "orders:reservation_detail", number)

    def act() -> HttpResponse:
        try:
            services.cancel_by_customer(reservation=reservation, customer=request.customer)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request, _("Your reservation %(number)s is cancelled.") % {"number": number}
            )
        return redirect("orders:reservation_detail", number=number)

    return _confirmation(
        request, "orders/confirm_reservation_cancel.html", {"plan": plan}, plan.token, act
    )


def _form_page(request, reservation, order, form, status=200) -> HttpResponse:
    # Said up front, not only when the customer presses Submit (a refused submit shows it
    # as the form's error instead).
    waits_for_draw = (
        reservation.fulfilment == Fulfilment.FESTIVAL
        and not services.festival_draw_published(reservation.campaign_id)
        and not form.non_field_errors()
    )
    return render(
        request,
        "orders/order_form.html",
        {
            "reservation": reservation,
            "order": order,
            "form": form,
            "actions": selectors.customer_actions(reservation, now=timezone.now()),
            "festival_draw_pending": FestivalDrawPending.default_message if waits_for_draw else "",
        },
        status=status,
    )


@customer_required
@guessing_slowed
def order_form(request: HttpRequest, number: str) -> HttpResponse:
    """GET: resume the draft (or show the order); POST: start the one draft."""
    reservation = _own_reservation(request, number)
    if request.method == "POST":
        try:
            services.open_draft(reservation=reservation, customer=request.customer)
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("orders:reservation_detail", number=number)
        return redirect("orders:order_form", number=number)
    live = Order.objects.live().filter(reservation=reservation).first()
    if live is None:
        return redirect("orders:reservation_detail", number=number)
    if live.status != OrderStatus.DRAFT:
        return redirect("orders:order_detail", number=live.number)
    try:  # a leftover draft opens only while the order-form window is open
        services.open_draft(reservation=reservation, customer=request.customer)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("orders:reservation_detail", number=number)
    return _form_page(
        request, reservation, live, OrderForm(instance=live, reservation=reservation)
    )


def _live_draft(request: HttpRequest, number: str) -> tuple[Reservation, Order | None]:
    reservation = _own_reservation(request, number)
    return reservation, Order.objects.live().filter(reservation=reservation).first()


@require_POST
@customer_required
@guessing_slowed
def order_autosave(request: HttpRequest, number: str) -> HttpResponse:
    """htmx: save what validates as the customer types; report what does not."""
    reservation, order = _live_draft(request, number)
    if order is None or order.status != OrderStatus.DRAFT:
        return render(request, "orders/_autosave.html", {"gone": True})
    form = OrderForm(request.POST, instance=order, reservation=reservation)
    form.is_valid()
    try:
        saved = services.save_draft(
            order=order, customer=request.customer, values=form.valid_values()
        )
    except DomainError as exc:
        return render(request, "orders/_autosave.html", {"error": exc.message})
    return render(request, "orders/_autosave.html", {"order": saved, "form": form})


@require_POST
@customer_required
@guessing_slowed
def order_submit(request: HttpRequest, number: str) -> HttpResponse:
    reservation, order = _live_draft(request, number)
    if order is None:
        messages.error(request, _("There is no order form to submit. Start one first."))
        return redirect("orders:reservation_detail", number=number)
    if order.status != OrderStatus.DRAFT:  # a double submit: the order already exists
        return redirect("orders:order_detail", number=order.number)
    form = OrderForm(request.POST, instance=order, reservation=reservation)
    if not form.is_valid():
        return _form_page(request, reservation, order, form, status=400)
    try:
        submitted = services.submit_order(
            order=order, customer=request.customer, values=form.submitted_values()
        )
    except IncompleteOrder as exc:
        for field, errors in exc.errors.items():
            for error in errors:
                form.add_error(field if field in form.fields else None, error)
        return _form_page(request, reservation, order, form, status=400)
    except FestivalDrawPending as exc:  # the typed answers stay on the page
        form.add_error(None, exc.message)
        return _form_page(request, reservation, order, form, status=400)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("orders:reservation_detail", number=number)
    messages.success(
        request,
        _("Order received. Your order number is %(number)s.") % {"number": submitted.number},
    )
    return redirect("orders:order_detail", number=submitted.number)


@require_http_methods(["GET", "HEAD", "POST"])
@customer_required
@guessing_slowed
def order_discard(request: HttpRequest, number: str) -> HttpResponse:
    reservation, order = _live_draft(request, number)
    actions = selectors.customer_actions(reservation, now=timezone.now())
    if not actions.discard_draft:
        return redirect("orders:reservation_detail", number=number)  # nothing to discard

    def act() -> HttpResponse:
        try:
            services.discard_draft(order=order, customer=request.customer)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request, _("Your order form is discarded. Your reservation is still active.")
            )
        return redirect("orders:reservation_detail", number=number)

    context = {
        "reservation": reservation,
        "standing": queue_standing(reservation),
        "actions": actions,
    }
    return _confirmation(request, "orders/confirm_discard.html", context, "draft", act)


# The status partial is the page's own refresh (htmx), at the same URL: caches tell them
# apart by HX-Request; it shows the customer's own order in their language.
STATUS_VARY = ("HX-Request", "Cookie", "Accept-Language")


@require_safe
@customer_required
@guessing_slowed
def order_detail(request: HttpRequest, number: str) -> HttpResponse:
    """The order page; its htmx refresh is the status partial, a conditional GET: the
    validator hashes the facts the partial is rendered from, so an unchanged status costs a
    304 and no rendering."""
    order = _own_order(request, number)
    facts = selectors.status_facts(order)
    if not request.htmx:
        refusal = services.address_change_refusal(order)
        response = render(
            request,
            "orders/order_detail.html",
            {
                "view": selectors.status_view(facts),
                "order": order,
                "address_refusal": refusal.message if refusal else "",
            },
        )
        patch_vary_headers(response, STATUS_VARY)
        return response
    etag = selectors.status_etag(facts, representation="html")
    if none_match(request, etag):
        return not_modified(etag, vary=STATUS_VARY)
    response = render(request, "orders/_order_status.html", {"view": selectors.status_view(facts)})
    return mark(response, etag, vary=STATUS_VARY)


@require_http_methods(["GET", "HEAD", "POST"])
@customer_required
@guessing_slowed
def order_cancel(request: HttpRequest, number: str) -> HttpResponse:
    order = _own_order(request, number)
    plan = selectors.cancel_plan(order.reservation)
    if plan.refusal or plan.order != order:
        refusal = plan.refusal or OrderNotCancellable.default_message
        return _refused(request, refusal, "orders:order_detail", number)

    def act() -> HttpResponse:
        try:
            services.cancel_by_customer(reservation=order.reservation, customer=request.customer)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request, _("Your order %(number)s is cancelled.") % {"number": number}
            )
        return redirect("orders:order_detail", number=number)

    return _confirmation(
        request, "orders/confirm_order_cancel.html", {"plan": plan}, plan.token, act
    )


@require_http_methods(["GET", "HEAD", "POST"])
@customer_required
@guessing_slowed
def order_address(request: HttpRequest, number: str) -> HttpResponse:
    """GET: the delivery details as they are, to edit; POST: change them (the order page
    says why not, once they can no longer change)."""
    order = _own_order(request, number)
    refusal = services.address_change_refusal(order)
    if refusal is not None:
        return _refused(request, refusal.message, "orders:order_detail", number)
    if request.method != "POST":
        form = DeliveryAddressForm(instance=order)
        return render(request, "orders/order_address.html", {"order": order, "form": form})
    sent = {name: request.POST.get(name, "") for name in ADDRESS_FIELDS}
    try:
        changed = services.change_delivery_address(
            order=order, actor=services.Actor.customer(), **sent
        )
    except InvalidAddress as exc:
        form = DeliveryAddressForm(request.POST)
        form.full_clean()  # the same rules: the errors the service found, on their fields
        for name, errors in exc.errors.items():
            if name not in form.errors:
                form.add_error(name, errors)
        page = {"order": order, "form": form}
        return render(request, "orders/order_address.html", page, status=400)
    except AddressNotChangeable as exc:  # preparation started since the page was opened
        return _refused(request, exc.message, "orders:order_detail", number)
    if changed is None:
        messages.info(request, _("Nothing changed: that is the delivery address already."))
    else:
        messages.success(
            request,
            _("The delivery address is changed. We sent a text message about it to your number."),
        )
    return redirect("orders:order_detail", number=number)
