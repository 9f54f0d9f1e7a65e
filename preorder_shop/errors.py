"""Error pages of our own (403, 404, CSRF failure, the real 500): in the customer's language,
in the shop's layout, with the way back to the campaigns and, when signed in, to "My
reservations". The JSON API (/api/...) answers RFC 9457 problems instead
(preorder_shop.problems). handler403/handler404 in the URL conf, CSRF_FAILURE_VIEW in
settings; the 500 is reached through preorder_shop.outage, which first tells an unreachable
store (503) from a real error."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from .problems import is_api as _api
from .problems import problem


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _api(request):
        return problem(404, "not_found", _("Not found."))
    return render(request, "404.html", status=404)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _api(request):
        return problem(403, "forbidden", _("You may not do this."))
    return render(request, "403.html", status=403)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """Django's own page carries an inline style, which the Content-Security-Policy refuses."""
    if _api(request):
        return problem(403, "csrf_failed", _("The request could not be verified."))
    return render(request, "csrf_failure.html", status=403)


def server_error_page(request: HttpRequest) -> HttpResponse:
    """The real 500, as Django's default renders it: a plain template with a minimal context
    and no context processors, because the error may be the database or Redis itself.
    request.customer_id was read from the session before the view ran; no query here."""
    if _api(request):
        return problem(500, "server_error", _("Something went wrong on our side."))
    signed_in = getattr(request, "customer_id", None) is not None
    return HttpResponse(render_to_string("500.html", {"signed_in": signed_in}), status=500)
