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
