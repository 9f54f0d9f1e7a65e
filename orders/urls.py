from django.urls import path, register_converter

from preorder_shop.identifiers import ORDER_NUMBER, RESERVATION_NUMBER, url_converter

from . import views

# A number in a URL has its kind's shape, or the URL is a 404 (a NUL never reaches a query).
register_converter(url_converter(RESERVATION_NUMBER), "reservation_number")
register_converter(url_converter(ORDER_NUMBER), "order_number")

app_name = "orders"
urlpatterns = [
    path("my/reservations/", views.my_reservations, name="my_reservations"),
    path(
        "my/reservations/<reservation_number:number>/",
        views.reservation_detail,
        name="reservation_detail",
    ),
    path(
        "my/reservations/<reservation_number:number>/cancel/",
        views.reservation_cancel,
        name="reservation_cancel",
    ),
    path(
        "my/reservations/<reservation_number:number>/order/", views.order_form, name="order_form"
    ),
    path(
        "my/reservations/<reservation_number:number>/order/save/",
        views.order_autosave,
        name="order_autosave",
    ),
    path(
        "my/reservations/<reservation_number:number>/order/submit/",
        views.order_submit,
        name="order_submit",
    ),
    path(
        "my/reservations/<reservation_number:number>/order/discard/",
        views.order_discard,
        name="order_discard",
    ),
    path("my/orders/<order_number:number>/", views.order_detail, name="order_detail"),
    path("my/orders/<order_number:number>/cancel/", views.order_cancel, name="order_cancel"),
    path(
        "my/orders/<order_number:number>/delivery-address/",
        views.order_address,
        name="order_address",
    ),
]
