from django.urls import path

from . import views

app_name = "orders"
urlpatterns = [
    path("my/reservations/", views.my_reservations, name="my_reservations"),
    path("my/reservations/<str:number>/", views.reservation_detail, name="reservation_detail"),
    path(
        "my/reservations/<str:number>/cancel/",
        views.reservation_cancel,
        name="reservation_cancel",
    ),
    path("my/reservations/<str:number>/order/", views.order_form, name="order_form"),
    path("my/reservations/<str:number>/order/save/", views.order_autosave, name="order_autosave"),
    path("my/reservations/<str:number>/order/submit/", views.order_submit, name="order_submit"),
    path("my/reservations/<str:number>/order/discard/", views.order_discard, name="order_discard"),
    path("my/orders/<str:number>/", views.order_detail, name="order_detail"),
    path("my/orders/<str:number>/cancel/", views.order_cancel, name="order_cancel"),
    path("api/v1/orders/<str:number>", views.order_api, name="order_api"),
]
