from django.urls import include, path

from . import views

urlpatterns = [
    path("bench/floor/", views.floor),
    path("", include("preorder_shop.urls")),
]
