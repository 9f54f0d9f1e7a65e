from django.contrib import admin
from django.urls import include, path

from orders import api as orders_api
from reservations import api as reservations_api
from support import api as support_api

from . import api_signin, health, views, webfiles
from .api import api

# The API (issue 13): each app's router, assembled here. /api/v1/orders/<number> is the
# API's order status (orders.api.status, token only); the web order page refreshes itself
# with its own htmx partial (orders.views.order_detail), not with JSON. Any other unknown
# /api/ path is handler404's problem. Django tries URL patterns in order, so the router of
# the status polls comes first (a poll is the API's most frequent request).
api.add_router("", orders_api.router)
api.add_router("/auth", api_signin.router)
api.add_router("/campaigns", reservations_api.router)
api.add_router("", support_api.router)

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("robots.txt", webfiles.robots_txt, name="robots_txt"),
    path("manifest.webmanifest", webfiles.web_manifest, name="web_manifest"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("signin/", views.signin, name="signin"),
    path("signin/code/", views.signin_verify, name="signin_verify"),
    path("signin/code/resend/", views.signin_resend, name="signin_resend"),
    path("signout/", views.signout, name="signout"),
    path("", include("reservations.urls")),
    path("", include("orders.urls")),
    path("couriers/", include("fulfillment.urls")),
    path("help/", include("support.board_urls")),
    path("", include("support.urls")),
]

# Error pages of our own (preorder_shop.errors); the JSON API answers JSON. A store that
# cannot be reached is a 503 page of our own, not a 500 (preorder_shop.outage).
handler403 = "preorder_shop.errors.permission_denied"
handler404 = "preorder_shop.errors.page_not_found"
handler500 = "preorder_shop.outage.server_error"
