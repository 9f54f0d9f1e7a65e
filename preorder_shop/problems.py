"""RFC 9457 problem details: how the API (/api/...) answers every error, whether the error
comes from an endpoint (preorder_shop.api), the URL conf (404), the framework (405) or the
error handlers (403, 500, 503; preorder_shop.errors and preorder_shop.outage)."""

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

PROBLEM = "application/problem+json"


def problem(status: int, code: str, title: str, detail: str = "", **extra: Any) -> JsonResponse:
    """An RFC 9457 problem: `code` is stable for machines, title and detail are translated."""
    body = {"type": f"/api/v1/docs#problem-{code}", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    return JsonResponse(
        {**body, "code": code, **extra},
        status=status,
        content_type=PROBLEM,
        json_dumps_params={"ensure_ascii": False},
    )


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


class MethodNotAllowedProblem:
    """Ninja answers a method no endpoint of a path takes with a plain-text 405; the API
    answers every error as a problem, so this middleware restates that one (Allow kept)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code != 405 or not is_api(request):
            return response
        if response.get("Content-Type", "").startswith(PROBLEM):
            return response
        restated = problem(
            405, "method_not_allowed", _("This method is not allowed here."), method=request.method
        )
        if response.has_header("Allow"):
            restated["Allow"] = response["Allow"]
        return restated
