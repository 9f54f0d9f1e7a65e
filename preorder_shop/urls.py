from django.contrib import admin
from django.urls import include, path

from . import health, views

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("signin/", views.signin, name="signin"),
    path("signin/code/", views.signin_verify, name="signin_verify"),
    path("signin/code/resend/", views.signin_resend, name="signin_resend"),
    path("signout/", views.signout, name="signout"),
    path("", include("reservations.urls")),
    path("", include("orders.urls")),
    path("couriers/", include("fulfillment.urls")),
]

# A store that cannot be reached is a 503 page of our own, not a 500 (preorder_shop.outage).
handler500 = "preorder_shop.outage.server_error"
