from django.utils.translation import gettext_lazy as _

from preorder_shop.exceptions import DomainError


class IllegalTransition(DomainError):
    default_message = _("This order cannot make that change in its current state.")


class ActorNotAllowed(DomainError):
    default_message = _("You are not allowed to make this change to the order.")


class ReasonRequired(DomainError):
    default_message = _("Give a reason for this change.")


class OrderWindowClosed(DomainError):
    default_message = _("The order form window for this campaign is closed.")


class OrderWindowNotOpen(DomainError):
    default_message = _("The order form window for this campaign has not opened yet.")


class FestivalDrawPending(DomainError):
    default_message = _(
        "Festival pickup places are drawn by lot after reservations close, and those not "
        "drawn get courier delivery, which needs an address. You can submit your order form "
        "once the result is published; we will send it to you."
    )


class ReservationNotActive(DomainError):
    default_message = _("This reservation is no longer active, so no order form can be written.")


class NotYourReservation(DomainError):
    default_message = _("No such reservation.")


class IncompleteOrder(DomainError):
    """The submitted form is not complete; `errors` maps field names to messages."""

    default_message = _("The order form is not complete yet. Check the marked fields.")

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        super().__init__()


class ShippingDetailsRequired(DomainError):
    default_message = _("A shipped order needs its courier and tracking number.")


class OrderNotCancellable(DomainError):
    default_message = _(
        "Your order is already being prepared or on its way, so it can no longer be cancelled "
        "here. Contact support if something is wrong."
    )


class MoveBeforePrevious(DomainError):
    default_message = _("This change is dated before the order's previous step.")


class AddressNotChangeable(DomainError):
    """Why an order's delivery address cannot be changed now (orders.services.address)."""

    code = "address_not_changeable"


class AddressOnOrderForm(AddressNotChangeable):
    code = "address_on_order_form"
    default_message = _(
        "This order form is not submitted yet: change the address on the order form itself."
    )


class NoDeliveryAddress(AddressNotChangeable):
    code = "no_delivery_address"
    default_message = _("This order is picked up, not delivered, so it has no delivery address.")


class AddressBeingPrepared(AddressNotChangeable):
    code = "order_preparing"
    default_message = _(
        "Your phone is already being prepared, so the delivery address can no longer be "
        "changed here. Contact support if it is wrong."
    )


class AddressOnItsWay(AddressNotChangeable):
    code = "order_shipped"
    default_message = _(
        "Your phone is already with the courier, so the delivery address can no longer be "
        "changed here. Contact support if it is wrong."
    )


class AddressDelivered(AddressNotChangeable):
    code = "order_delivered"
    default_message = _("This order has been delivered; there is no address left to change.")


class AddressOrderClosed(AddressNotChangeable):
    code = "order_closed"
    default_message = _("This order is cancelled, so there is no delivery to change.")


class InvalidAddress(DomainError):
    """Some of the new delivery details are not valid; `errors` maps each field to its
    ValidationErrors (the order form's messages and codes)."""

    code = "invalid_fields"
    default_message = _("Some answers are not valid.")

    def __init__(self, errors: dict[str, list]) -> None:
        self.errors = errors
        super().__init__()
