"""The callbacks' refusals (support.services.callbacks): each a message fit to show as it
is and a stable `code`, the API's problem `code`."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from preorder_shop.exceptions import DomainError


class SlotUnknown(DomainError):
    code = "callback_slot_unknown"
    default_message = _("Choose one of the times offered for a call.")


class SlotNotOffered(DomainError):
    code = "callback_slot_not_offered"
    default_message = _("No calls are offered at this time. Choose another time.")


class SlotTooSoon(DomainError):
    code = "callback_slot_too_soon"
    default_message = _(
        "This time has passed or starts in less than 10 minutes. Choose a later time."
    )


class SlotFull(DomainError):
    code = "callback_slot_full"
    default_message = _("This time is fully booked. Choose another time.")


class CallbackAlreadyBooked(DomainError):
    code = "callback_already_booked"
    default_message = _(
        "A call is already booked for this ticket. Cancel it first to choose another time."
    )


class NoCallbackBooked(DomainError):
    code = "callback_not_booked"
    default_message = _("No call is booked for this ticket.")


class CallbackStarted(DomainError):
    code = "callback_started"
    default_message = _("The time of this call has come, so it can no longer be cancelled.")


class CallbackTicketClosed(DomainError):
    code = "callback_ticket_closed"
    default_message = _("This ticket is closed. Open a new ticket to ask for a call.")


class CallbackNotYet(DomainError):
    code = "callback_not_yet"
    default_message = _("The call's half hour has not started yet.")


class CallbackSettled(DomainError):
    code = "callback_settled"
    default_message = _("This callback is no longer booked, so its outcome is recorded already.")


class UnknownOutcome(DomainError):
    code = "callback_outcome_unknown"
    default_message = _("Record the call as kept or missed.")


class CapacityBelowBooked(DomainError):
    code = "callback_capacity_below_booked"

    def __init__(self, booked: int) -> None:
        super().__init__(
            ngettext(
                "%(booked)d place is booked already; the capacity cannot be lower.",
                "%(booked)d places are booked already; the capacity cannot be lower.",
                booked,
            )
            % {"booked": booked}
        )


class DayNotStaffed(DomainError):
    code = "callback_day_not_staffed"
    default_message = _("The desk is not staffed that day, so it has no slots to create.")
