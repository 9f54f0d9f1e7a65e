"""Who makes a change, for every history in the product (orders, reservations, the
operations log): the customer, a staff user, a worker, a courier, or an operator running a
command, each with its name where it has one."""

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class ActorKind(models.TextChoices):
    CUSTOMER = "customer", _("Customer")
    STAFF = "staff", _("Staff")
    WORKER = "worker", _("Fulfilment worker")
    COURIER = "courier", _("Courier")
    OPERATOR = "operator", _("Operator (command)")


@dataclass(frozen=True)
class Actor:
    """kind, plus the staff user (staff) or a label (worker, courier, operator's name)."""

    kind: ActorKind
    user: AbstractBaseUser | None = None
    label: str = ""

    @classmethod
    def customer(cls) -> "Actor":
        return cls(ActorKind.CUSTOMER)

    @classmethod
    def staff(cls, user: AbstractBaseUser) -> "Actor":
        return cls(ActorKind.STAFF, user=user)

    @classmethod
    def worker(cls, label: str) -> "Actor":
        return cls(ActorKind.WORKER, label=label)

    @classmethod
    def courier(cls, label: str) -> "Actor":
        return cls(ActorKind.COURIER, label=label)

    @classmethod
    def operator(cls, label: str) -> "Actor":
        return cls(ActorKind.OPERATOR, label=label)
