"""The courier manifest: names, numbers and addresses of the orders ready to hand to the
courier, as a CSV file for the Order operations team. An export of personal data: it needs
preorder_shop.export_personal_data and each file is one row in the personal data access
log (preorder_shop.personal_data), naming its orders, how many customers and the fields."""

import csv
import io

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from orders.models import Order, OrderStatus
from preorder_shop import personal_data
from preorder_shop.models import AccessReason
from preorder_shop.phone import national_format

COLUMNS = [
    "number",
    "recipient_name",
    "recipient_phone",
    "postcode",
    "address_line1",
    "address_line2",
    "delivery_note",
]
PERSONAL_COLUMNS = COLUMNS[1:]
# A spreadsheet runs a cell that starts with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def ready_to_ship(orders: QuerySet[Order]) -> list[Order]:
    """Of `orders`, those being prepared with a delivery address, in queue order."""
    return list(
        orders.filter(status=OrderStatus.PREPARING)
        .exclude(recipient_name="")
        .select_related("reservation")
        .order_by("reservation__position")
    )


def _cell(order: Order, column: str) -> str:
    value = getattr(order, column)
    if column == "recipient_phone" and value:
        return national_format(value)
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


@transaction.atomic
def export_manifest(
    *, staff_user: AbstractBaseUser, orders: list[Order], request: HttpRequest | None
) -> tuple[str, str]:
    """(file name, CSV text) for `orders`, recorded as one export in the access log."""
    personal_data.record_export(
        staff_user=staff_user,
        reference=f"courier manifest, {len(orders)} orders",
        fields=PERSONAL_COLUMNS,
        objects_shown=[order.number for order in orders],
        customer_count=len({order.reservation.customer_id for order in orders}),
        reason_code=AccessReason.COURIER_MANIFEST,
        request=request,
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for order in orders:
        writer.writerow([_cell(order, column) for column in COLUMNS])
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return f"courier-manifest-{stamp}.csv", out.getvalue()
