from django.urls import path

from . import views

app_name = "reservations"
urlpatterns = [
    path("", views.campaign_list, name="campaign_list"),
    path("c/<slug:slug>/", views.campaign_detail, name="campaign_detail"),
    path("c/<slug:slug>/reserve/", views.reserve, name="reserve"),
]
