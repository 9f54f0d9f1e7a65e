"""The project's URL conf plus two views that fail on purpose, for the error-page tests
(settings.ROOT_URLCONF = "tests.urls_with_errors"); production code has no such routes."""

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import path

from preorder_shop import urls as project_urls


def broken(request: HttpRequest) -> HttpResponse:
    raise ValueError("a bug, on purpose")


def forbidden(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied


urlpatterns = [
    path("test-errors/broken/", broken),
    path("test-errors/forbidden/", forbidden),
    path("api/test-errors/broken/", broken),
    *project_urls.urlpatterns,
]
handler403 = project_urls.handler403
handler404 = project_urls.handler404
handler500 = project_urls.handler500
