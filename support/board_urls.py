"""The help desk's boards: the help articles' "This answered my question"."""

from django.urls import path

from . import deflection_views

app_name = "help"

urlpatterns = [
    path("answered/", deflection_views.deflect, name="deflect"),
]
