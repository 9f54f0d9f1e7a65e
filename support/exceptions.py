"""The support desk's refusals: each a message fit to show as it is, and a stable `code`
(the API's problem `code`, preorder_shop.api.error_code) that survives a renamed class."""

from django.utils.translation import gettext_lazy as _

from preorder_shop.exceptions import DomainError
from preorder_shop.phone import INVALID_MOBILE


class IllegalTicketMove(DomainError):
    code = "ticket_move_not_allowed"
    default_message = _("This ticket cannot make that change in its current state.")


class TicketMoveNotYours(DomainError):
    code = "ticket_move_not_yours"
    default_message = _("You are not allowed to make this change to the ticket.")


class TicketClosed(DomainError):
    """A reply to a ticket closed (or solved more than the reopening window ago): the
    customer starts a new ticket."""

    code = "ticket_closed"
    default_message = _(
        "This ticket is closed, so it cannot take a reply. Open a new ticket; you can "
        "mention the old ticket's number in it."
    )


class NotYourTicket(DomainError):
    code = "not_your_ticket"
    default_message = _("No such ticket.")


class NotYourReservation(DomainError):
    code = "not_your_reservation"
    default_message = _("No such reservation.")


class NotYourOrder(DomainError):
    code = "not_your_order"
    default_message = _("No such order.")


class OrderNotOfReservation(DomainError):
    code = "order_not_of_reservation"
    default_message = _("This order does not belong to the chosen reservation.")


class UnknownCategory(DomainError):
    code = "unknown_category"
    default_message = _("Choose what your question is about.")


class EmptyMessage(DomainError):
    code = "empty_message"
    default_message = _("Write your message.")


class MessageTooLong(DomainError):
    code = "message_too_long"
    default_message = _("A message can be at most 5,000 characters long.")


class ControlCharacter(DomainError):
    code = "control_character"
    default_message = _(
        "The text contains an invisible control character. Remove it and try again."
    )


class InvalidEmail(DomainError):
    code = "invalid_email"
    default_message = _("Enter a valid e-mail address, or leave it empty.")


class InvalidContactPhone(DomainError):
    code = "invalid_phone"
    default_message = INVALID_MOBILE


class ContactNameRequired(DomainError):
    code = "name_required"
    default_message = _("Enter your name (at most 50 characters).")
