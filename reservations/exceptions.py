from django.utils.translation import gettext_lazy as _

from preorder_shop.exceptions import DomainError


class ReservationsNotOpen(DomainError):
    default_message = _("Reservations for this campaign have not opened yet.")


class ReservationsClosed(DomainError):
    default_message = _("Reservations for this campaign are closed.")


class LimitReached(DomainError):
    default_message = _("You already hold as many reservations as this campaign allows.")


class FulfilmentNotOffered(DomainError):
    default_message = _("This campaign does not offer that way of receiving the phone.")


class NotCancellable(DomainError):
    default_message = _("This reservation can no longer be cancelled.")
