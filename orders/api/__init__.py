"""The customer's reservations, order forms and orders for the API (issue 13): thin doors
into orders.services and orders.selectors, the same ones the pages use."""

from ninja import Router

from . import address, order_form, reservations, status

router = Router()
# The polls first: the order status, then the reservation (its GET is the first of its router).
router.add_router("", status.router)
router.add_router("", reservations.router)
router.add_router("", order_form.router)
router.add_router("", address.router)
