"""The ticket page's callback forms (support.callback_views), under support.urls' namespace."""

from django.urls import path

from . import callback_views

urlpatterns = [
    path(
        "support/tickets/<ticket_number:number>/callback/",
        callback_views.callback_book,
        name="callback_book",
    ),
    path(
        "support/tickets/<ticket_number:number>/callback/cancel/",
        callback_views.callback_cancel,
        name="callback_cancel",
    ),
]
