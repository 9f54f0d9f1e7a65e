"""Refusals of the fulfilment doors, each with a message staff can act on."""

from django.utils.translation import gettext_lazy as _

from preorder_shop.exceptions import DomainError


class NoUnitHeld(DomainError):
    default_message = _(
        "This order holds no unit of its model yet, so it cannot be prepared: units go to "
        "the queue in order as stock arrives."
    )


class OrderOnHold(DomainError):
    default_message = _("This order is on hold: release the hold first.")


class QueueExceptionNeedsStaff(DomainError):
    default_message = _(
        "Lower queue positions of this model are ready and waiting: only staff, with a "
        "reason, may move this order first."
    )


class EmbargoActive(DomainError):
    default_message = _("The launch embargo does not allow this yet.")
