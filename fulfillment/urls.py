from django.urls import path

from . import views

app_name = "fulfillment"

urlpatterns = [
    path("webhook/", views.courier_webhook, name="courier_webhook"),
]
