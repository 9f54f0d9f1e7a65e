"""Every look at a customer's full personal data leaves a trace. Admin masks names, phones
and addresses everywhere; a staff member with the personal-data permission sees one
object's full values only by giving a reason (a reveal), calls a customer through a link
that records the call and hands the number to the phone (never to the page), and exports
(the courier manifest) with a permission of its own. Each of these writes one
PersonalDataAccess row (append-only, migration 0008) in the request that used the data.

A reveal shows the values in the response to the reason's form, for that request only:
nothing stays unmasked afterwards, and a second look is a second row."""

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .client import client_ip
from .exceptions import DomainError
from .models import AccessKind, AccessReason, Customer, PersonalDataAccess
from .phone import mask_name

VIEW_PERMISSION = "preorder_shop.view_personal_data"
CALL_PERMISSION = "preorder_shop.call_customer"
EXPORT_PERMISSION = "preorder_shop.export_personal_data"
# Checked by the database too (constraint pd_access_view_has_reason).
MIN_REASON = 10
# The reasons staff pick from on the reveal form; the manifest's is set by the export.
REVEAL_REASONS = [
    AccessReason.CUSTOMER_CALLED,
    AccessReason.DELIVERY_PROBLEM,
    AccessReason.PORT_IN_PROBLEM,
    AccessReason.OTHER,
]


REASON_MISSING = _(
    "Say why you need the full details, in at least %(min)d characters. Nothing was shown."
)


class ReasonMissing(DomainError):
    def __init__(self) -> None:
        super().__init__(REASON_MISSING % {"min": MIN_REASON})


@dataclass(frozen=True)
class Disclosure:
    """What one admin object would reveal: whose data, where it is shown, and its fields
    as (field name, label, full value); empty values are left out."""

    customer: Customer
    reference: str
    fields: Sequence[tuple[str, str, str]]

    @property
    def field_names(self) -> list[str]:
        return [name for name, _label, _value in self.fields]


def can_reveal(user: AbstractBaseUser) -> bool:
    return user.has_perm(VIEW_PERMISSION)


def can_call(user: AbstractBaseUser) -> bool:
    return user.has_perm(CALL_PERMISSION)


def can_export(user: AbstractBaseUser) -> bool:
    return user.has_perm(EXPORT_PERMISSION)


def record_access(
    *,
    staff_user: AbstractBaseUser,
    kind: AccessKind,
    fields: Iterable[str],
    reference: str,
    request: HttpRequest | None,
    customer: Customer | None = None,
    customer_count: int = 1,
    objects_shown: Iterable[str] = (),
    reason_code: str = "",
    reason: str = "",
) -> PersonalDataAccess:
    address = client_ip(request) if request is not None else None
    return PersonalDataAccess.objects.create(
        staff_user=staff_user,
        kind=kind,
        customer=customer,
        customer_count=customer_count,
        fields=list(fields),
        reference=reference[:200],
        objects_shown=list(objects_shown),
        reason_code=reason_code,
        reason=reason,
        ip_address=str(address) if address is not None else None,
    )


def reveal(
    *,
    staff_user: AbstractBaseUser,
    disclosure: Disclosure,
    reason_code: str,
    reason: str,
    request: HttpRequest | None,
) -> PersonalDataAccess:
    """Record one look at `disclosure`'s fields; the caller shows them only after this."""
    if not can_reveal(staff_user):
        raise PermissionDenied
    reason = " ".join(reason.split())
    if len(reason) < MIN_REASON:
        raise ReasonMissing
    if reason_code not in REVEAL_REASONS:
        reason_code = ""
    return record_access(
        staff_user=staff_user,
        kind=AccessKind.VIEW,
        customer=disclosure.customer,
        fields=disclosure.field_names,
        reference=disclosure.reference,
        reason_code=reason_code,
        reason=reason,
        request=request,
    )


def record_call(
    *,
    staff_user: AbstractBaseUser,
    customer: Customer,
    field: str,
    reference: str,
    request: HttpRequest | None,
) -> PersonalDataAccess:
    """Record a call to the number in `field`; the caller then hands it to the phone."""
    if not can_call(staff_user):
        raise PermissionDenied
    return record_access(
        staff_user=staff_user,
        kind=AccessKind.CALL,
        customer=customer,
        fields=[field],
        reference=reference,
        request=request,
    )


def record_export(
    *,
    staff_user: AbstractBaseUser,
    reference: str,
    fields: Iterable[str],
    objects_shown: Sequence[str],
    customer_count: int,
    reason_code: str,
    request: HttpRequest | None,
) -> PersonalDataAccess:
    """Record one export: which objects, how many customers, which fields."""
    if not can_export(staff_user):
        raise PermissionDenied
    return record_access(
        staff_user=staff_user,
        kind=AccessKind.EXPORT,
        customer_count=customer_count,
        fields=fields,
        reference=reference,
        objects_shown=objects_shown,
        reason_code=reason_code,
        request=request,
    )


# Payload keys of outbox messages that hold personal data or secrets, and how admin shows
# them: a name masked, a one-time code never.
_PAYLOAD_MASKS = {"customer_name": mask_name, "recipient_name": mask_name}
_PAYLOAD_SECRETS = {"code"}


def masked_payload(payload: dict) -> dict:
    return {
        key: "******"
        if key in _PAYLOAD_SECRETS
        else _PAYLOAD_MASKS[key](value)
        if key in _PAYLOAD_MASKS and isinstance(value, str)
        else value
        for key, value in payload.items()
    }


def accesses(*, since: dt.datetime | None = None, username: str = "") -> QuerySet:
    """The access log, oldest first, from `since` and of one staff user if named."""
    rows = PersonalDataAccess.objects.select_related("staff_user", "customer").order_by("at", "pk")
    if since is not None:
        rows = rows.filter(at__gte=since)
    if username:
        rows = rows.filter(staff_user__username=username)
    return rows
