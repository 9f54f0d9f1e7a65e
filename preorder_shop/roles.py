"""Staff roles: each a group with exactly the permissions its job needs, defined here as data
and applied by `manage.py setup_roles` (idempotent: a role's group ends up with these
permissions and no others, so a permission added by hand to a role's group is taken away
again; give a person an extra permission on their own account instead).

Like settings and the URL root, this module names permissions of every app (as dotted
strings, importing none of them): roles cut across the layers. tests/test_role_matrix.py
holds what each role then reaches in admin, page by page.
"""

from dataclasses import dataclass

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

# The personal-data permission (preorder_shop.Customer Meta): unmasked names, phones,
# addresses. No role but Administrators holds it.
PERSONAL_DATA = "preorder_shop.view_personal_data"


@dataclass(frozen=True)
class Role:
    name: str  # the group's name, as staff see it in admin (stored untranslated)
    label: str  # what the job is, for the README and `setup_roles`' output
    permissions: frozenset[str]  # "app_label.codename"
    everything: bool = False  # every permission there is (Administrators)


def _perms(*dotted: str) -> frozenset[str]:
    return frozenset(dotted)


def _view_all(*models: str) -> frozenset[str]:
    """`app.model` -> "app.view_model"."""
    return frozenset(f"{m.split('.')[0]}.view_{m.split('.')[1]}" for m in models)


ORDER_OPERATIONS = Role(
    name="Order operations",
    label=_("stock lots, allocation, holds, forward moves, tracking, fulfilment ops pages"),
    permissions=_perms(
        # Stock lots: arrive, corrected (never deleted: the admin refuses).
        "fulfillment.view_stocklot",
        "fulfillment.add_stocklot",
        "fulfillment.change_stocklot",
        # Allocation list, and the fairness audit and stuck-orders pages it mounts.
        "fulfillment.view_allocation",
        # Holds: placed ("add"), released ("change"); hold alerts resolved; queue exceptions.
        "fulfillment.view_orderhold",
        "fulfillment.add_orderhold",
        "fulfillment.change_orderhold",
        "fulfillment.view_holdalert",
        "fulfillment.change_holdalert",
        "fulfillment.view_queueexception",
        # Tracking: imports are the import_tracking command today (shell access, logged
        # with --operator); an upload page in admin checks this one.
        "fulfillment.add_courierevent",
        # Orders and their history; every forward move (fulfillment/order_admin.py).
        "orders.view_order",
        "orders.view_ordertransition",
        "orders.view_orderaddresschange",
        "orders.transition_order",
        "orders.view_rateplan",
        # What the orders belong to (lists and filters).
        "reservations.view_campaign",
        "reservations.view_variant",
        "reservations.view_reservation",
        "reservations.view_reservationchange",
        # Customers' notifications about their orders: read, and "Retry now" on a failed one.
        "preorder_shop.view_outboxmessage",
        "preorder_shop.change_outboxmessage",
        # The operations log: allocation runs, imports, draws.
        "preorder_shop.view_operation",
        # The courier manifest (names, numbers, addresses for the courier): an export,
        # recorded in the personal-data access log; never the permission to read them.
        "preorder_shop.export_personal_data",
    ),
)

SUPPORT_AGENTS = Role(
    name="Support agents",
    label=_("read orders, reservations, customers (masked) and notifications"),
    permissions=_view_all(
        "support.ticket",
        "support.ticketmessage",
        "support.tickethistory",
        "orders.order",
        "orders.ordertransition",
        "orders.orderaddresschange",
        "reservations.reservation",
        "reservations.reservationchange",
        "preorder_shop.customer",
        "preorder_shop.outboxmessage",
        "support.slapolicy",  # what the queue promises (Administrators change it)
        "support.roundtheclock",
    )
    # Changing a received order's delivery address for the customer (orders.services.address,
    # the admin's "Change delivery address"): the history row it adds is the permission.
    | _perms("orders.add_orderaddresschange")
    # Working tickets, through support.services' doors (the reply and queue tools come with
    # the support desk's part 2): a status move is "change ticket", a reply "add message".
    # "Change ticket" is also taking the next ticket from the queue, releasing and
    # reassigning one (support.services.assignment; the queue page is "view ticket").
    | _perms("support.change_ticket", "support.add_ticketmessage")
    # The ticket form's help articles and the notices (issue 14): written and published by
    # support; messaging a notice's customers is its own permission (a preview, then one
    # SMS per affected customer). Deleting either is an Administrator's; deflections are
    # only read.
    | _perms(
        "support.view_helparticle",
        "support.add_helparticle",
        "support.change_helparticle",
        "support.view_notice",
        "support.add_notice",
        "support.change_notice",
        "support.message_customers",
        "support.view_deflection",
    )
    # Calling a customer back: the "Call" link dials the number without showing it, and
    # the call is recorded in the personal-data access log.
    | _perms("preorder_shop.call_customer")
    # Agent tools (issue 15): canned replies written here, sent to one ticket or in bulk
    # (a reply is "add message"); merging duplicates is "change ticket", its record read.
    | _perms(
        "support.view_macro",
        "support.add_macro",
        "support.change_macro",
        "support.view_ticketmerge",
    )
    # Callbacks (issue 15, section 4): slots' capacity set and a day's slots created
    # ("add"/"change" slot); a slot's call list read and each call's outcome recorded
    # ("change" booking). Bookings are the customers'; deleting a slot is an Administrator's.
    | _perms(
        "support.view_callbackslot",
        "support.add_callbackslot",
        "support.change_callbackslot",
        "support.view_callbackbooking",
        "support.change_callbackbooking",
    ),
)

EVENT_MANAGERS = Role(
    name="Event managers",
    label=_("promotional events, prizes and draws (none in admin yet)"),
    # Empty until the events app has models: it grows with events, prizes and draws there.
    # The festival draw (fulfillment.FestivalDraw) is not admin-managed: draw_festival and
    # verify_festival_draw are commands, so it grants nothing here.
    permissions=frozenset(),
)

# The personal-data access log (preorder_shop.PersonalDataAccess, issue 12 item 4): what
# Auditors are there to read. Listed apart so it is plain why they hold it.
PERSONAL_DATA_ACCESS_LOG = "preorder_shop.view_personaldataaccess"

AUDITORS = Role(
    name="Auditors",
    label=_("read everything, change nothing; personal data masked"),
    # Every model's view permission (tests/test_roles.py checks none is missing), never
    # PERSONAL_DATA: Auditors see what happened, not whose number it was.
    permissions=_view_all(
        "auth.user",
        "auth.group",
        "preorder_shop.customer",
        "preorder_shop.onetimecode",
        "preorder_shop.outboxmessage",
        "preorder_shop.operation",
        "preorder_shop.apitoken",  # devices signed in to the API (hashes only, no secrets)
        "reservations.campaign",
        "reservations.variant",
        "reservations.reservation",
        "reservations.reservationchange",
        "orders.rateplan",
        "orders.order",
        "orders.ordertransition",
        "orders.orderaddresschange",
        "fulfillment.stocklot",
        "fulfillment.allocation",
        "fulfillment.orderhold",
        "fulfillment.holdalert",
        "fulfillment.queueexception",
        "fulfillment.courierevent",
        "fulfillment.webhooknonce",
        "fulfillment.festivaldraw",
        "fulfillment.festivalentry",
        "support.ticket",
        "support.ticketmessage",
        "support.tickethistory",
        "support.helparticle",
        "support.deflection",
        "support.notice",
        "support.slapolicy",  # the SLA policy and its category differences (issue 15)
        "support.roundtheclock",  # campaigns' round-the-clock launch days
        "support.macro",  # canned replies (issue 15)
        "support.ticketmerge",  # merged duplicate tickets (issue 15)
        "support.callbackslot",  # callbacks (issue 15)
        "support.callbackbooking",
        # Staff sign-in: who tried, who has a second factor (devices without secrets).
        "staff_auth.staffsigninattempt",
        "otp_totp.totpdevice",
        "otp_static.staticdevice",
    )
    | _perms(PERSONAL_DATA_ACCESS_LOG),
)

ADMINISTRATORS = Role(
    name="Administrators",
    label=_("everything, including staff accounts and personal data"),
    permissions=frozenset(),
    everything=True,
)

ROLES: tuple[Role, ...] = (
    ORDER_OPERATIONS,
    SUPPORT_AGENTS,
    EVENT_MANAGERS,
    AUDITORS,
    ADMINISTRATORS,
)


def permissions_of(role: Role):
    """The Permission rows of `role`; a codename that does not exist is an error."""
    if role.everything:
        return Permission.objects.all()
    query = Q(pk__in=[])
    for dotted in role.permissions:
        app_label, codename = dotted.split(".", 1)
        query |= Q(content_type__app_label=app_label, codename=codename)
    found = Permission.objects.filter(query)
    names = {
        f"{app}.{code}" for app, code in found.values_list("content_type__app_label", "codename")
    }
    missing = role.permissions - names
    if missing:
        raise LookupError(f"{role.name}: no such permission: {', '.join(sorted(missing))}")
    return found


@transaction.atomic
def setup_roles() -> list[tuple[Group, bool]]:
    """Every role's group, created if missing, with exactly its permissions. Returns
    (group, created) per role. Run after migrate: it reads the permissions migrate made."""
    result = []
    for role in ROLES:
        group, created = Group.objects.get_or_create(name=role.name)
        group.permissions.set(permissions_of(role))
        result.append((group, created))
    return result
