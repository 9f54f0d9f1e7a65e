from django.urls import include, path

from . import views

urlpatterns = [
    path("bench/floor/", views.floor),
    # Under /api/ as the status endpoint is, so middleware that looks at the path treats
    # both alike; listed before the shop's URLs, so it wins over the API's own patterns.
    path("api/v1/bench/status-floor", views.status_floor),
    path("api/v1/bench/status-floor-query", views.status_floor_query),
    path("", include("preorder_shop.urls")),
]
