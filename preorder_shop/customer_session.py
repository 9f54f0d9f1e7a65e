"""The signed-in customer lives in the session under one key; staff use Django's auth."""

import functools
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse

from .models import Customer

SESSION_KEY = "customer_id"


def sign_in(request: HttpRequest, customer: Customer) -> None:
    request.session.cycle_key()  # a new session id on sign-in: no session fixation
    request.session[SESSION_KEY] = customer.pk
    request.customer_id = customer.pk
    request.customer = customer


def sign_out(request: HttpRequest) -> None:
    request.session.flush()
    request.customer_id = None
    request.customer = None


def current_customer(request: HttpRequest) -> Customer | None:
    customer_id = request.session.get(SESSION_KEY)
    if customer_id is None:
        return None
    return Customer.objects.filter(pk=customer_id).first()


def customer_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Send visitors who are not signed in to the sign-in page, then back."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.customer_id is None:
            # After signing in, come back here; a form post cannot be replayed, so those
            # return to the start page instead.
            back = (
                request.get_full_path() if request.method == "GET" else settings.LOGIN_REDIRECT_URL
            )
            return redirect_to_login(back)
        return view(request, *args, **kwargs)

    return wrapper
