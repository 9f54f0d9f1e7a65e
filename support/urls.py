from django.urls import include, path, register_converter

from preorder_shop.identifiers import TICKET_NUMBER, url_converter

from . import views

# A ticket number in a URL has its shape, or the URL is a 404 (a NUL never reaches a query).
register_converter(url_converter(TICKET_NUMBER), "ticket_number")

app_name = "support"
urlpatterns = [
    path("support/", views.support_home, name="support_home"),
    path("support/contact/", views.contact, name="contact"),
    path("support/contact/sent/", views.contact_sent, name="contact_sent"),
    path("support/tickets/", views.my_tickets, name="my_tickets"),
    path("support/tickets/new/", views.ticket_new, name="ticket_new"),
    # support.notices.TICKET_PAGE links here from SMS and e-mail (tested equal).
    path("support/tickets/<ticket_number:number>/", views.ticket_detail, name="ticket_detail"),
    path(
        "support/tickets/<ticket_number:number>/reply/",
        views.ticket_reply,
        name="ticket_reply",
    ),
    path("", include("support.callback_urls")),  # callbacks (issue 15, section 4)
]
