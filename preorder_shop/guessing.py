"""Guessing numbers is slowed: lookups of reservation or order numbers that are not the
customer's own are counted, and past the limit the customer gets 429 with Retry-After.

Only misses meet the lock: while a guesser is locked out, every number that is not theirs
is answered 429 instead of 404 (and not counted), and their own numbers still open. A lock
that kept a customer from their own order would protect nobody (a hit reveals only what is
already theirs), and checking it before every lookup would cost each status poll a round
trip to Redis (issue 13: a poll must be cheap).

Keyed on the signed-in customer (a dropped cookie does not reset it: signing in again is the
same customer) and, as a CGNAT-high ceiling against floods from many accounts, on the client
address. Signed-out requests never look a number up (customer_required sends them to sign-in
first, the API answers 401), so there is nothing for them to guess; their sign-in is what
the per-address limits of preorder_shop.services bound. A real customer opens only links to
their own numbers: misses come from typos and stale bookmarks, far below the limit.

Both limits fail open while Redis is down: a miss reveals nothing (lookups are scoped to
the customer's own rows), so an uncounted guess costs only speed, and failing closed would
stop every customer reading their own order during an outage.
"""

import functools
from collections.abc import Callable

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from . import ratelimit
from .client import client_key
from .exceptions import RateLimited

MISSES_PER_CUSTOMER = ratelimit.Limit(
    "number-miss-customer",
    max_hits=20,
    window_seconds=900,
    lock_seconds=900,
    when_down=ratelimit.WhenDown.FAIL_OPEN,
    why="A miss reveals nothing; customers must still read their own orders.",
)
MISSES_PER_ADDRESS = ratelimit.Limit(
    "number-miss-address",
    max_hits=1000,
    window_seconds=900,
    lock_seconds=900,
    when_down=ratelimit.WhenDown.FAIL_OPEN,
    why="A miss reveals nothing; customers must still read their own orders.",
)


def _subjects(request: HttpRequest, customer_id: int | None) -> list[tuple[ratelimit.Limit, str]]:
    subjects = [(MISSES_PER_ADDRESS, client_key(request))]
    if customer_id is not None:
        subjects.append((MISSES_PER_CUSTOMER, str(customer_id)))
    return subjects


def _wait(subjects: list[tuple[ratelimit.Limit, str]]) -> int:
    return ratelimit.blocked_for_longest(subjects)


def _refusal(wait: int) -> RateLimited:
    return RateLimited(_("Too many numbers that are not yours were looked up."), retry_after=wait)


def _too_many(request: HttpRequest, wait: int) -> HttpResponse:
    refusal = _refusal(wait)
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"error": "rate_limited", "message": refusal.message, "retry_after": wait},
            status=429,
            headers={"Retry-After": str(wait)},
        )
    response = render(request, "rate_limited.html", {"message": refusal.message}, status=429)
    response["Retry-After"] = str(wait)
    return response


def _missed(subjects: list[tuple[ratelimit.Limit, str]]) -> int:
    """After a miss: the wait while the guesser is locked out (that miss is not counted),
    else 0 with the miss counted."""
    wait = _wait(subjects)
    if not wait:
        _count_miss(subjects)
    return wait


def guessing_slowed(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """For views that look up a number from the URL: count a 404, and while locked answer
    a miss with 429 instead."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        subjects = _subjects(request, request.customer_id)
        try:
            response = view(request, *args, **kwargs)
        except Http404:
            if wait := _missed(subjects):
                return _too_many(request, wait)
            raise
        if response.status_code == 404 and (wait := _missed(subjects)):
            return _too_many(request, wait)
        return response

    return wrapper


def guessing_slowed_endpoint(endpoint: Callable[..., object]) -> Callable[..., object]:
    """The same rule for API endpoints (django-ninja, behind TokenAuth): keyed on the
    token's customer; refused by raising RateLimited, which the API answers as its 429
    problem; a miss is an Http404 the endpoint raises (the API's one 404 problem)."""

    @functools.wraps(endpoint)
    def wrapper(request: HttpRequest, *args, **kwargs) -> object:
        try:
            return endpoint(request, *args, **kwargs)
        except Http404:
            # request.auth is the live token by now (a poll's endpoint signs it in itself).
            if wait := _missed(_subjects(request, request.auth.customer_id)):
                raise _refusal(wait) from None
            raise

    return wrapper


def _count_miss(subjects: list[tuple[ratelimit.Limit, str]]) -> None:
    for limit, subject in subjects:
        ratelimit.hit(limit, subject)
