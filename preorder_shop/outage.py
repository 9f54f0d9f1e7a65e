"""When PostgreSQL or Redis cannot be reached, customers get an honest answer: 503 with
Retry-After and a page of our own ("we are catching up; your place is safe"), a problem for
the API, never a 500 with a traceback. Only connection-level errors of the two stores count;
any other exception stays a real, logged 500 (our own page, preorder_shop.errors). Django
calls this as handler500 while the exception is being handled, so it can look at it."""

import sys

import psycopg
import redis
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from .errors import server_error_page
from .problems import problem

RETRY_AFTER_SECONDS = 30
# SQLSTATE classes and codes meaning "the server is not there": connection exceptions,
# and the server shutting down or starting up.
UNREACHABLE_SQLSTATES = ("08", "57P01", "57P02", "57P03")


def store_unreachable(exc: BaseException | None) -> bool:
    if isinstance(exc, redis.ConnectionError | redis.TimeoutError):
        return True
    if isinstance(exc, InterfaceError):
        return True  # Django's "connection already closed"
    if isinstance(exc, OperationalError):
        cause = exc.__cause__
        if not isinstance(cause, psycopg.Error):
            return False
        state = cause.sqlstate
        # No SQLSTATE: psycopg could not reach the server at all (refused, closed, reset).
        return state is None or state.startswith(UNREACHABLE_SQLSTATES)
    return False


def server_error(request: HttpRequest) -> HttpResponse:
    if not store_unreachable(sys.exc_info()[1]):
        return server_error_page(request)
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if request.path.startswith("/api/"):
        response = problem(
            503,
            "temporarily_unavailable",
            _("The shop is briefly unavailable. Try again shortly."),
            retry_after=RETRY_AFTER_SECONDS,
        )
        response["Retry-After"] = headers["Retry-After"]
        return response
    # No request context: the page must not need the stores it reports missing.
    body = render_to_string("outage.html", {"retry_after": RETRY_AFTER_SECONDS})
    return HttpResponse(body, status=503, headers=headers)
