"""What each staff role reaches: every admin URL of the project (each registered admin's
list, add, change, history and delete pages, its actions, the custom admin views, the
admin's own pages) and any staff page outside admin, requested as each role, against the
matrix below. The URLs are found through the URL resolver and the admin site's registry;
one found here without a row in the matrix fails the test, so a new admin page, action or
staff view cannot arrive without someone deciding who may use it.
"""

import datetime as dt
import re
import uuid

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.contrib.messages import get_messages
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from fulfillment.models import (
    CourierEvent,
    CourierEventKind,
    CourierEventSource,
    HoldAlert,
    QueueException,
)
from fulfillment.services import holds
from orders.models import OrderStatus
from orders.tests.factories import order_in, staff_user
from preorder_shop import personal_data, roles
from preorder_shop.actors import Actor
from preorder_shop.models import AccessKind, OneTimeCode, OutboxMessage
from preorder_shop.operations import record_operation
from preorder_shop.staff_auth.models import Outcome, StaffSignInAttempt
from support import services
from support.models import (
    ArticleStatus,
    Deflection,
    HelpArticle,
    Macro,
    Notice,
    RoundTheClock,
    SlaPolicy,
    TicketCategory,
)
from support.models.callbacks import CallbackSlot
from support.services import callbacks
from tests import admin_client

pytestmark = pytest.mark.django_db

S = OrderStatus

COLUMNS = ("anonymous", "staff", "ops", "agent", "events", "auditor", "administrator", "super")
# Who signs in for each column: nobody; a staff account in no group; a member of each
# role's group; a superuser.
ROLE_OF = {
    "ops": roles.ORDER_OPERATIONS,
    "agent": roles.SUPPORT_AGENTS,
    "events": roles.EVENT_MANAGERS,
    "auditor": roles.AUDITORS,
    "administrator": roles.ADMINISTRATORS,
}

# URL -> outcome per column, in COLUMNS order. A page's outcome is its status code (302 for
# anonymous is the admin's sign-in redirect). An action ("<changelist>!<action>", POSTed
# with one object selected) "ran" (its confirmation page, or its work and redirect), was
# "no"t offered to the user (nothing ran), or has a status (403: the list is closed to them).
MATRIX = {
    # The admin site's own pages.
    "admin:index": "302 200 200 200 200 200 200 200",
    "admin:login": "200 302 302 302 302 302 302 302",
    "admin:logout": "302 405 405 405 405 405 405 405",  # POST only
    "admin:password_change": "302 200 200 200 200 200 200 200",
    "admin:password_change_done": "302 200 200 200 200 200 200 200",
    "admin:autocomplete": "302 403 403 403 403 403 403 403",  # no field asked for
    "admin:jsi18n": "302 200 200 200 200 200 200 200",
    "admin:view_on_site": "302 302 302 302 302 302 302 302",  # a campaign's public page
    "admin:catch_all": "302 404 404 404 404 404 404 404",
    # Each staff member's own second factor (signed in here with one already set up).
    "admin:two_factor_setup": "302 302 302 302 302 302 302 302",
    "admin:two_factor_qr": "404 404 404 404 404 404 404 404",  # no set-up under way
    "admin:two_factor_recovery_codes": "302 200 200 200 200 200 200 200",
    # Sign-in log and second-factor devices: Auditors read; Administrators reset a lost
    # phone by deleting its devices.
    "admin:app_list:staff_auth": "302 404 404 404 404 200 200 200",
    "admin:app_list:otp_totp": "302 404 404 404 404 200 200 200",
    "admin:app_list:otp_static": "302 404 404 404 404 200 200 200",
    "admin:staff_auth_staffsigninattempt_changelist": "302 403 403 403 403 200 200 200",
    "admin:staff_auth_staffsigninattempt_add": "302 403 403 403 403 403 403 403",
    "admin:staff_auth_staffsigninattempt_change": "302 403 403 403 403 200 200 200",
    "admin:staff_auth_staffsigninattempt_history": "302 403 403 403 403 200 200 200",
    "admin:staff_auth_staffsigninattempt_delete": "302 403 403 403 403 403 403 403",
    "admin:staff_auth_staffsigninattempt_object": "302 302 302 302 302 302 302 302",
    "admin:staff_auth_staffsigninattempt_changelist!delete_selected": (
        "302 403 403 403 403 no no no"
    ),
    "admin:otp_totp_totpdevice_changelist": "302 403 403 403 403 200 200 200",
    "admin:otp_totp_totpdevice_add": "302 403 403 403 403 403 403 403",
    "admin:otp_totp_totpdevice_change": "302 403 403 403 403 200 200 200",
    "admin:otp_totp_totpdevice_history": "302 403 403 403 403 200 200 200",
    "admin:otp_totp_totpdevice_delete": "302 403 403 403 403 403 200 200",
    "admin:otp_totp_totpdevice_object": "302 302 302 302 302 302 302 302",
    "admin:otp_totp_totpdevice_changelist!delete_selected": "302 403 403 403 403 no ran ran",
    "admin:otp_static_staticdevice_changelist": "302 403 403 403 403 200 200 200",
    "admin:otp_static_staticdevice_add": "302 403 403 403 403 403 403 403",
    "admin:otp_static_staticdevice_change": "302 403 403 403 403 200 200 200",
    "admin:otp_static_staticdevice_history": "302 403 403 403 403 200 200 200",
    "admin:otp_static_staticdevice_delete": "302 403 403 403 403 403 200 200",
    "admin:otp_static_staticdevice_object": "302 302 302 302 302 302 302 302",
    "admin:otp_static_staticdevice_changelist!delete_selected": "302 403 403 403 403 no ran ran",
    "admin:app_list:auth": "302 404 404 404 404 200 200 200",
    "admin:app_list:preorder_shop": "302 404 200 200 404 200 200 200",
    "admin:app_list:reservations": "302 404 200 200 404 200 200 200",
    "admin:app_list:orders": "302 404 200 200 404 200 200 200",
    "admin:app_list:fulfillment": "302 404 200 404 404 200 200 200",
    "admin:app_list:support": "302 404 404 200 404 200 200 200",
    # Staff accounts and roles: Administrators only; Auditors read them.
    "admin:auth_group_changelist": "302 403 403 403 403 200 200 200",
    "admin:auth_group_add": "302 403 403 403 403 403 200 200",
    "admin:auth_group_change": "302 403 403 403 403 200 200 200",
    "admin:auth_group_history": "302 403 403 403 403 200 200 200",
    "admin:auth_group_delete": "302 403 403 403 403 403 200 200",
    "admin:auth_group_object": "302 302 302 302 302 302 302 302",
    "admin:auth_group_changelist!delete_selected": "302 403 403 403 403 no ran ran",
    "admin:auth_user_changelist": "302 403 403 403 403 200 200 200",
    "admin:auth_user_add": "302 403 403 403 403 403 200 200",
    "admin:auth_user_change": "302 403 403 403 403 200 200 200",
    "admin:auth_user_history": "302 403 403 403 403 200 200 200",
    "admin:auth_user_delete": "302 403 403 403 403 403 200 200",
    "admin:auth_user_object": "302 302 302 302 302 302 302 302",
    "admin:auth_user_password_change": "302 403 403 403 403 403 200 200",
    "admin:auth_user_changelist!delete_selected": "302 403 403 403 403 no ran ran",
    # Customers (masked unless view_personal_data): support and auditors read them.
    "admin:preorder_shop_customer_changelist": "302 403 403 200 403 200 200 200",
    "admin:preorder_shop_customer_add": "302 403 403 403 403 403 403 403",
    "admin:preorder_shop_customer_change": "302 403 403 200 403 200 200 200",
    "admin:preorder_shop_customer_history": "302 403 403 200 403 200 200 200",
    "admin:preorder_shop_customer_delete": "302 403 403 403 403 403 403 403",
    "admin:preorder_shop_customer_object": "302 302 302 302 302 302 302 302",
    "admin:preorder_shop_customer_changelist!delete_selected": "302 403 403 no 403 no no no",
    # Full details need view_personal_data and a reason; a call needs call_customer; each
    # is a row of the access log, which Auditors read.
    "admin:preorder_shop_customer_reveal": "302 403 403 403 403 403 200 200",
    "admin:preorder_shop_customer_call": "302 403 403 302 403 403 302 302",  # to tel:
    "admin:preorder_shop_personaldataaccess_changelist": "302 403 403 403 403 200 200 200",
    "admin:preorder_shop_personaldataaccess_add": "302 403 403 403 403 403 403 403",
    "admin:preorder_shop_personaldataaccess_change": "302 403 403 403 403 200 200 200",
    "admin:preorder_shop_personaldataaccess_history": "302 403 403 403 403 200 200 200",
    "admin:preorder_shop_personaldataaccess_delete": "302 403 403 403 403 403 403 403",
    "admin:preorder_shop_personaldataaccess_object": "302 302 302 302 302 302 302 302",
    "admin:preorder_shop_personaldataaccess_changelist!delete_selected": (
        "302 403 403 403 403 no no no"
    ),
    "admin:preorder_shop_onetimecode_changelist": "302 403 403 403 403 200 200 200",
    "admin:preorder_shop_onetimecode_add": "302 403 403 403 403 403 403 403",
    "admin:preorder_shop_onetimecode_change": "302 403 403 403 403 200 200 200",
    "admin:preorder_shop_onetimecode_history": "302 403 403 403 403 200 200 200",
    "admin:preorder_shop_onetimecode_delete": "302 403 403 403 403 403 200 200",
    "admin:preorder_shop_onetimecode_object": "302 302 302 302 302 302 302 302",
    "admin:preorder_shop_onetimecode_changelist!delete_selected": "302 403 403 403 403 no ran ran",
    # The outbox: ops retry failed messages; support and auditors read.
    "admin:preorder_shop_outboxmessage_changelist": "302 403 200 200 403 200 200 200",
    "admin:preorder_shop_outboxmessage_add": "302 403 403 403 403 403 403 403",
    "admin:preorder_shop_outboxmessage_change": "302 403 200 200 403 200 200 200",
    "admin:preorder_shop_outboxmessage_history": "302 403 200 200 403 200 200 200",
    "admin:preorder_shop_outboxmessage_delete": "302 403 403 403 403 403 403 403",
    "admin:preorder_shop_outboxmessage_object": "302 302 302 302 302 302 302 302",
    "admin:preorder_shop_outboxmessage_changelist!delete_selected": "302 403 no no 403 no no no",
    "admin:preorder_shop_outboxmessage_changelist!retry_now": "302 403 ran no 403 no ran ran",
    "admin:preorder_shop_operation_changelist": "302 403 200 403 403 200 200 200",
    "admin:preorder_shop_operation_add": "302 403 403 403 403 403 403 403",
    "admin:preorder_shop_operation_change": "302 403 200 403 403 200 200 200",
    "admin:preorder_shop_operation_history": "302 403 200 403 403 200 200 200",
    "admin:preorder_shop_operation_delete": "302 403 403 403 403 403 403 403",
    "admin:preorder_shop_operation_object": "302 302 302 302 302 302 302 302",
    "admin:preorder_shop_operation_changelist!delete_selected": "302 403 no 403 403 no no no",
    # Campaigns, variants and plans are set up by Administrators; ops and auditors read.
    "admin:reservations_campaign_changelist": "302 403 200 403 403 200 200 200",
    "admin:reservations_campaign_add": "302 403 403 403 403 403 200 200",
    "admin:reservations_campaign_change": "302 403 200 403 403 200 200 200",
    "admin:reservations_campaign_history": "302 403 200 403 403 200 200 200",
    "admin:reservations_campaign_delete": "302 403 403 403 403 403 200 200",
    "admin:reservations_campaign_object": "302 302 302 302 302 302 302 302",
    "admin:reservations_campaign_changelist!delete_selected": "302 403 no 403 403 no ran ran",
    "admin:reservations_variant_changelist": "302 403 200 403 403 200 200 200",
    "admin:reservations_variant_add": "302 403 403 403 403 403 200 200",
    "admin:reservations_variant_change": "302 403 200 403 403 200 200 200",
    "admin:reservations_variant_history": "302 403 200 403 403 200 200 200",
    "admin:reservations_variant_delete": "302 403 403 403 403 403 200 200",
    "admin:reservations_variant_object": "302 302 302 302 302 302 302 302",
    "admin:reservations_variant_changelist!delete_selected": "302 403 no 403 403 no ran ran",
    # Reservations: read by ops, support and auditors; a staff cancel is an Administrator's.
    "admin:reservations_reservation_changelist": "302 403 200 200 403 200 200 200",
    "admin:reservations_reservation_add": "302 403 403 403 403 403 403 403",
    "admin:reservations_reservation_change": "302 403 200 200 403 200 200 200",
    "admin:reservations_reservation_history": "302 403 200 200 403 200 200 200",
    "admin:reservations_reservation_delete": "302 403 403 403 403 403 403 403",
    "admin:reservations_reservation_object": "302 302 302 302 302 302 302 302",
    "admin:reservations_reservation_changelist!delete_selected": "302 403 no no 403 no no no",
    "admin:reservations_reservation_changelist!cancel_selected": "302 403 no no 403 no ran ran",
    "admin:orders_rateplan_changelist": "302 403 200 403 403 200 200 200",
    "admin:orders_rateplan_add": "302 403 403 403 403 403 200 200",
    "admin:orders_rateplan_change": "302 403 200 403 403 200 200 200",
    "admin:orders_rateplan_history": "302 403 200 403 403 200 200 200",
    "admin:orders_rateplan_delete": "302 403 403 403 403 403 200 200",
    "admin:orders_rateplan_object": "302 302 302 302 302 302 302 302",
    "admin:orders_rateplan_changelist!delete_selected": "302 403 no 403 403 no ran ran",
    # Orders: every forward move is ops' (orders.transition_order).
    "admin:orders_order_changelist": "302 403 200 200 403 200 200 200",
    "admin:orders_order_add": "302 403 403 403 403 403 403 403",
    "admin:orders_order_change": "302 403 200 200 403 200 200 200",
    "admin:orders_order_history": "302 403 200 200 403 200 200 200",
    "admin:orders_order_delete": "302 403 403 403 403 403 403 403",
    "admin:orders_order_object": "302 302 302 302 302 302 302 302",
    "admin:orders_order_changelist!delete_selected": "302 403 no no 403 no no no",
    "admin:orders_order_changelist!to_preparing": "302 403 ran no 403 no ran ran",
    "admin:orders_order_changelist!to_shipped": "302 403 ran no 403 no ran ran",
    "admin:orders_order_changelist!to_delivered": "302 403 ran no 403 no ran ran",
    "admin:orders_order_changelist!to_cancelled": "302 403 ran no 403 no ran ran",
    "admin:orders_order_reveal": "302 403 403 403 403 403 200 200",
    "admin:orders_order_call": "302 403 403 302 403 403 302 302",  # to tel:
    # A received order's delivery address, for the customer (orders.services.address).
    "admin:orders_order_change_address": "302 403 403 200 403 403 200 200",
    # The courier manifest: an export (export_personal_data), recorded; 200 is the file.
    "admin:orders_order_changelist!courier_manifest": "302 403 ran no 403 no ran ran",
    "admin:orders_order_courier_manifest": "302 403 200 403 403 403 200 200",
    # Fulfilment: ops' desk; auditors read it.
    "admin:fulfillment_stocklot_changelist": "302 403 200 403 403 200 200 200",
    "admin:fulfillment_stocklot_add": "302 403 200 403 403 403 200 200",
    "admin:fulfillment_stocklot_change": "302 403 200 403 403 200 200 200",
    "admin:fulfillment_stocklot_history": "302 403 200 403 403 200 200 200",
    "admin:fulfillment_stocklot_delete": "302 403 403 403 403 403 403 403",
    "admin:fulfillment_stocklot_object": "302 302 302 302 302 302 302 302",
    "admin:fulfillment_stocklot_changelist!delete_selected": "302 403 no 403 403 no no no",
    "admin:fulfillment_allocation_changelist": "302 403 200 403 403 200 200 200",
    "admin:fulfillment_allocation_add": "302 403 403 403 403 403 403 403",
    "admin:fulfillment_allocation_change": "302 403 200 403 403 200 200 200",
    "admin:fulfillment_allocation_history": "302 403 200 403 403 200 200 200",
    "admin:fulfillment_allocation_delete": "302 403 403 403 403 403 403 403",
    "admin:fulfillment_allocation_object": "302 302 302 302 302 302 302 302",
    "admin:fulfillment_allocation_changelist!delete_selected": "302 403 no 403 403 no no no",
    "admin:fulfillment_fairness": "302 403 200 403 403 200 200 200",
    "admin:fulfillment_stuck_orders": "302 403 200 403 403 200 200 200",
    "admin:fulfillment_orderhold_changelist": "302 403 200 403 403 200 200 200",
    "admin:fulfillment_orderhold_add": "302 403 302 403 403 403 302 302",  # to the place form
    "admin:fulfillment_orderhold_place": "302 403 200 403 403 403 200 200",
    "admin:fulfillment_orderhold_change": "302 403 200 403 403 200 200 200",
    "admin:fulfillment_orderhold_history": "302 403 200 403 403 200 200 200",
    "admin:fulfillment_orderhold_delete": "302 403 403 403 403 403 403 403",
    "admin:fulfillment_orderhold_object": "302 302 302 302 302 302 302 302",
    "admin:fulfillment_orderhold_changelist!delete_selected": "302 403 no 403 403 no no no",
    "admin:fulfillment_orderhold_changelist!release": "302 403 ran 403 403 no ran ran",
    "admin:fulfillment_holdalert_changelist": "302 403 200 403 403 200 200 200",
    "admin:fulfillment_holdalert_add": "302 403 403 403 403 403 403 403",
    "admin:fulfillment_holdalert_change": "302 403 200 403 403 200 200 200",
    "admin:fulfillment_holdalert_history": "302 403 200 403 403 200 200 200",
    "admin:fulfillment_holdalert_delete": "302 403 403 403 403 403 403 403",
    "admin:fulfillment_holdalert_object": "302 302 302 302 302 302 302 302",
    "admin:fulfillment_holdalert_changelist!delete_selected": "302 403 no 403 403 no no no",
    "admin:fulfillment_holdalert_changelist!resolve": "302 403 ran 403 403 no ran ran",
    "admin:fulfillment_queueexception_changelist": "302 403 200 403 403 200 200 200",
    "admin:fulfillment_queueexception_add": "302 403 403 403 403 403 403 403",
    "admin:fulfillment_queueexception_change": "302 403 200 403 403 200 200 200",
    "admin:fulfillment_queueexception_history": "302 403 200 403 403 200 200 200",
    "admin:fulfillment_queueexception_delete": "302 403 403 403 403 403 403 403",
    "admin:fulfillment_queueexception_object": "302 302 302 302 302 302 302 302",
    "admin:fulfillment_queueexception_changelist!delete_selected": "302 403 no 403 403 no no no",
    # Tickets: Support agents work them, Auditors read; read-only in admin (moves and
    # replies go through support.services).
    "admin:support_ticket_changelist": "302 403 403 200 403 200 200 200",
    "admin:support_ticket_add": "302 403 403 403 403 403 403 403",
    "admin:support_ticket_change": "302 403 403 200 403 200 200 200",
    "admin:support_ticket_history": "302 403 403 200 403 200 200 200",
    "admin:support_ticket_delete": "302 403 403 403 403 403 403 403",
    "admin:support_ticket_object": "302 302 302 302 302 302 302 302",
    "admin:support_ticket_reply": "302 403 403 200 403 403 200 200",
    "admin:support_ticket_changelist!delete_selected": "302 403 403 no 403 no no no",
    # Agent tools (issue 15): a bulk reply's preview page and a merge are working tickets.
    "admin:support_ticket_changelist!reply_in_bulk": "302 403 403 ran 403 no ran ran",
    "admin:support_ticket_changelist!merge_duplicates": "302 403 403 ran 403 no ran ran",
    # The queue by SLA deadline (issue 15): read by whoever reads tickets; "take next"
    # (POST: the seeded ticket is taken), release/reassign and a breach's reason are working
    # tickets.
    "admin:support_ticket_queue": "302 403 403 200 403 200 200 200",
    "admin:support_ticket_take_next": "302 403 403 302 403 403 302 302",
    "admin:support_ticket_assign": "302 403 403 200 403 403 200 200",
    "admin:support_ticket_sla_breach": "302 403 403 200 403 403 200 200",
    # The desk's figures (issue 15): read by whoever reads tickets.
    "admin:support_ticket_figures": "302 403 403 200 403 200 200 200",
    # The SLA policy and round-the-clock days: agents and auditors read; Administrators
    # change a policy (the default is never deleted) and declare periods (never edited).
    "admin:support_slapolicy_changelist": "302 403 403 200 403 200 200 200",
    "admin:support_slapolicy_add": "302 403 403 403 403 403 200 200",
    "admin:support_slapolicy_change": "302 403 403 200 403 200 200 200",
    "admin:support_slapolicy_history": "302 403 403 200 403 200 200 200",
    "admin:support_slapolicy_delete": "302 403 403 403 403 403 403 403",
    "admin:support_slapolicy_object": "302 302 302 302 302 302 302 302",
    "admin:support_slapolicy_changelist!delete_selected": "302 403 403 no 403 no no no",
    "admin:support_roundtheclock_changelist": "302 403 403 200 403 200 200 200",
    "admin:support_roundtheclock_add": "302 403 403 403 403 403 200 200",
    "admin:support_roundtheclock_change": "302 403 403 200 403 200 200 200",
    "admin:support_roundtheclock_history": "302 403 403 200 403 200 200 200",
    "admin:support_roundtheclock_delete": "302 403 403 403 403 403 403 403",
    "admin:support_roundtheclock_object": "302 302 302 302 302 302 302 302",
    "admin:support_roundtheclock_changelist!delete_selected": "302 403 403 no 403 no no no",
    # Help articles and notices: Support agents write them (deleting an article is an
    # Administrator's; a notice is never deleted); messaging a notice's customers is
    # support.message_customers. Deflections are read only. Auditors read all three.
    "admin:support_helparticle_changelist": "302 403 403 200 403 200 200 200",
    "admin:support_helparticle_add": "302 403 403 200 403 403 200 200",
    "admin:support_helparticle_change": "302 403 403 200 403 200 200 200",
    "admin:support_helparticle_history": "302 403 403 200 403 200 200 200",
    "admin:support_helparticle_delete": "302 403 403 403 403 403 200 200",
    "admin:support_helparticle_object": "302 302 302 302 302 302 302 302",
    "admin:support_helparticle_changelist!delete_selected": "302 403 403 no 403 no ran ran",
    "admin:support_notice_changelist": "302 403 403 200 403 200 200 200",
    "admin:support_notice_add": "302 403 403 200 403 403 200 200",
    "admin:support_notice_change": "302 403 403 200 403 200 200 200",
    "admin:support_notice_history": "302 403 403 200 403 200 200 200",
    "admin:support_notice_delete": "302 403 403 403 403 403 403 403",
    "admin:support_notice_object": "302 302 302 302 302 302 302 302",
    "admin:support_notice_message": "302 403 403 200 403 403 200 200",
    "admin:support_notice_changelist!delete_selected": "302 403 403 no 403 no no no",
    # Canned replies (issue 15): agents write them, auditors read; deleting is an
    # Administrator's (an inactive one is kept instead).
    "admin:support_macro_changelist": "302 403 403 200 403 200 200 200",
    "admin:support_macro_add": "302 403 403 200 403 403 200 200",
    "admin:support_macro_change": "302 403 403 200 403 200 200 200",
    "admin:support_macro_history": "302 403 403 200 403 200 200 200",
    "admin:support_macro_delete": "302 403 403 403 403 403 200 200",
    "admin:support_macro_object": "302 302 302 302 302 302 302 302",
    "admin:support_macro_changelist!delete_selected": "302 403 403 no 403 no ran ran",
    "admin:support_deflection_changelist": "302 403 403 200 403 200 200 200",
    "admin:support_deflection_add": "302 403 403 403 403 403 403 403",
    "admin:support_deflection_change": "302 403 403 200 403 200 200 200",
    "admin:support_deflection_history": "302 403 403 200 403 200 200 200",
    "admin:support_deflection_delete": "302 403 403 403 403 403 403 403",
    "admin:support_deflection_object": "302 302 302 302 302 302 302 302",
    "admin:support_deflection_changelist!delete_selected": "302 403 403 no 403 no no no",
    # Callbacks (issue 15, section 4): Support agents set slots' capacity, create a day's
    # slots, read a slot's call list, call (recorded) and record outcomes; Auditors read.
    # Bookings are the customers' (no add, never deleted); deleting a slot is an
    # Administrator's (a slot with bookings is protected).
    "admin:support_callbackslot_changelist": "302 403 403 200 403 200 200 200",
    "admin:support_callbackslot_add": "302 403 403 200 403 403 200 200",
    "admin:support_callbackslot_change": "302 403 403 200 403 200 200 200",
    "admin:support_callbackslot_history": "302 403 403 200 403 200 200 200",
    "admin:support_callbackslot_delete": "302 403 403 403 403 403 200 200",
    "admin:support_callbackslot_object": "302 302 302 302 302 302 302 302",
    "admin:support_callbackslot_create_day": "302 403 403 200 403 403 200 200",
    "admin:support_callbackslot_bookings": "302 403 403 200 403 200 200 200",
    "admin:support_callbackslot_changelist!delete_selected": "302 403 403 no 403 no ran ran",
    "admin:support_callbackbooking_changelist": "302 403 403 200 403 200 200 200",
    "admin:support_callbackbooking_add": "302 403 403 403 403 403 403 403",
    "admin:support_callbackbooking_change": "302 403 403 200 403 200 200 200",
    "admin:support_callbackbooking_history": "302 403 403 200 403 200 200 200",
    "admin:support_callbackbooking_delete": "302 403 403 403 403 403 403 403",
    "admin:support_callbackbooking_object": "302 302 302 302 302 302 302 302",
    "admin:support_callbackbooking_reveal": "302 403 403 403 403 403 200 200",
    "admin:support_callbackbooking_call": "302 403 403 302 403 403 302 302",  # to tel:
    "admin:support_callbackbooking_outcome": "302 403 403 200 403 403 200 200",
    "admin:support_callbackbooking_changelist!delete_selected": "302 403 403 no 403 no no no",
}

# Views that act on POST only, requested as a POST (with these fields, from the seeded
# rows) so that the matrix shows who may use them, not who a GET sends back.
POSTED = {
    "admin:orders_order_call": lambda seeded: {},
    "admin:preorder_shop_customer_call": lambda seeded: {},
    "admin:support_callbackbooking_call": lambda seeded: {},
    "admin:orders_order_courier_manifest": lambda seeded: {"order": [seeded["preparing"].pk]},
    "admin:support_ticket_take_next": lambda seeded: {},
}

# Every URL outside admin that is not a staff page: customers' pages, sign-in, health
# checks, the couriers' signed webhook. A new URL must be put here or in the matrix.
NOT_STAFF = {
    "healthz",
    "readyz",
    "robots_txt",
    "web_manifest",
    "set_language",
    "signin",
    "signin_verify",
    "signin_resend",
    "signout",
    "reservations:campaign_list",
    "reservations:campaign_detail",
    "reservations:reserve",
    "orders:my_reservations",
    "orders:reservation_detail",
    "orders:reservation_cancel",
    "orders:order_form",
    "orders:order_autosave",
    "orders:order_submit",
    "orders:order_discard",
    "orders:order_detail",
    "orders:order_cancel",
    "orders:order_address",
    "fulfillment:courier_webhook",
    # "This answered my question" on the ticket form's help articles (support/board_urls.py).
    "help:deflect",
    # The support desk's customer pages (issue 14): signed-in customers', and the
    # signed-out contact form.
    "support:support_home",
    "support:contact",
    "support:contact_sent",
    "support:my_tickets",
    "support:ticket_new",
    "support:ticket_detail",
    "support:ticket_reply",
    # Callbacks (issue 15, section 4): the ticket page's booking and cancelling forms.
    "support:callback_book",
    "support:callback_cancel",
    # The API (issue 13): customers' tokens only, never a staff sign-in.
    "api:api-root",
    "api:openapi-json",
    "api:openapi-view",
    "api:signin_code",
    "api:signin_token",
    "api:tokens",
    "api:token_revoke",
    "api:signout",
    "api:campaigns",
    "api:campaign",
    "api:reserve",
    "api:reservations",
    "api:reservation",
    "api:reservation_cancel_plan",
    "api:reservation_cancel",
    "api:order_cancel_plan",
    "api:order_cancel",
    "api:order_form",
    "api:order_form_open",
    "api:order_form_save",
    "api:order_form_submit",
    "api:order_form_discard",
    "api:order_status",
    "api:order_delivery_address",
    "api:order_delivery_address_change",
    "api:tickets",
    "api:ticket",
    "api:ticket_open",
    "api:ticket_reply",
    "api:support_contact",
    "api:callback_slots",
    "api:ticket_callback",
    "api:ticket_callback_book",
    "api:ticket_callback_cancel",
}


# Discovery.


def _walk(patterns, prefix="", namespace=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from _walk(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), f"{namespace}{p.name}" if p.name else None


def _admin_prefixes() -> dict[str, object]:
    """'app/model/' -> its ModelAdmin."""
    return {
        f"{m._meta.app_label}/{m._meta.model_name}/": a for m, a in admin.site._registry.items()
    }


def discovered() -> dict[str, tuple]:
    """Every URL of the project that the matrix must judge: key -> how to request it,
    ("page", model or None, route) or ("action", model, action name)."""
    found: dict[str, tuple] = {}
    by_prefix = _admin_prefixes()
    for route, name in _walk(get_resolver().url_patterns):
        if not route.startswith("admin/"):
            if name not in NOT_STAFF:
                found[name or route] = ("page", None, route)
            continue
        inner = route.removeprefix("admin/")
        model_admin = next(
            (a for prefix, a in by_prefix.items() if inner.startswith(prefix)), None
        )
        if name == "admin:app_list":
            for label in {m._meta.app_label for m in admin.site._registry}:
                found[f"admin:app_list:{label}"] = ("page", None, f"admin/{label}/")
        elif name is None and model_admin is not None and inner.endswith("<path:object_id>/"):
            info = model_admin.opts.app_label, model_admin.opts.model_name
            found["admin:{}_{}_object".format(*info)] = ("page", model_admin.model, route)
        elif name is None and route == "admin/(?P<url>.*)$":
            found["admin:catch_all"] = ("page", None, "admin/no-such-page/")
        else:
            found[name or route] = ("page", model_admin and model_admin.model, route)
    for key in found.keys() & POSTED.keys():
        found[key] = ("post", *found[key][1:])
    for model, model_admin in admin.site._registry.items():
        changelist = f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"
        for _func, action, _description in model_admin._get_base_actions():
            found[f"{changelist}!{action}"] = ("action", model, action)
    return found


def test_every_admin_url_and_staff_page_has_a_row_in_the_matrix():
    found = set(discovered())

    missing = sorted(found - set(MATRIX))
    assert not missing, f"new admin page without an entry: decide its permission: {missing}"
    assert not sorted(set(MATRIX) - found), "rows for pages that no longer exist"
    assert all(len(row.split()) == len(COLUMNS) for row in MATRIX.values())


# The requests.


@pytest.fixture
def seeded():
    """One row of every model that has an admin, made through the services where there
    is one; the roles' groups."""
    roles.setup_roles()
    ops = staff_user("seed-ops")
    received = order_in(S.RECEIVED)
    preparing = order_in(S.PREPARING)
    hold = holds.place_hold(order=preparing, staff_user=ops, reason="Card check")
    event = CourierEvent.objects.create(
        order=preparing,
        kind=CourierEventKind.HANDED_OVER,
        courier="CJ",
        tracking_number="556677889900",
        occurred_at=timezone.now(),
        source=CourierEventSource.WEBHOOK,
        external_id="evt-1",
    )
    alert = HoldAlert.objects.create(hold=hold, courier_event=event, raised_at=timezone.now())
    exception = QueueException.objects.create(
        order=preparing,
        passed_position=1,
        passed_count=1,
        reason="Replacement",
        staff_user=ops,
        at=timezone.now(),
    )
    code = OneTimeCode.objects.create(
        phone="+821012345678",
        code_hash="0" * 64,
        expires_at=timezone.now() + dt.timedelta(minutes=5),
    )
    operation = record_operation(action="test.seed", actor=Actor.operator("test"), summary={})
    access = personal_data.record_access(
        staff_user=ops,
        kind=AccessKind.CALL,
        fields=["phone"],
        reference=f"customer {received.reservation.customer_id}",
        request=None,
        customer=received.reservation.customer,
    )
    allocation = preparing.reservation.allocations.get()
    attempt = StaffSignInAttempt.objects.create(
        account="seed-ops", known_account=True, address="127.0.0.1", outcome=Outcome.WRONG
    )
    totp = TOTPDevice.objects.create(user=ops, name="phone", confirmed=True)
    recovery = StaticDevice.objects.create(user=ops, name="recovery codes", confirmed=True)
    ticket = services.open_ticket(
        customer=received.reservation.customer,
        category=TicketCategory.WHERE_IS_MY_PHONE,
        order=received,
        body="Where is my phone?",
        email="seed@example.com",
        idempotency_key=uuid.uuid4(),
    ).ticket
    services.staff_reply(ticket=ticket, staff_user=ops, body="On its way.")
    article = HelpArticle.objects.create(
        category=TicketCategory.CANCEL, status=ArticleStatus.PUBLISHED, title_ko="t", body_ko="b"
    )
    deflection = Deflection.objects.create(
        attempt=uuid.uuid4(), category=article.category, article=article
    )
    notice = Notice.objects.create(
        campaign=received.reservation.campaign,
        title_ko="안내",
        body_ko="내용",
        ends_at=timezone.now() + dt.timedelta(days=1),
        created_by=ops,
    )
    macro = Macro.objects.create(title_ko="배송 안내", body_ko="{status}")
    round_the_clock = RoundTheClock.objects.create(
        campaign=received.reservation.campaign,
        first_day=timezone.localdate(),
        last_day=timezone.localdate(),
        reason="Launch day",
        decided_by=ops,
    )
    callback_slot = CallbackSlot.objects.create(
        starts_at=timezone.now().replace(minute=0, second=0, microsecond=0) + dt.timedelta(days=1),
        capacity=2,
    )
    callback = callbacks.book(
        ticket=ticket, customer=ticket.customer, slot_id=callback_slot.pk
    ).booking
    rows = [
        Group.objects.get(name=roles.AUDITORS.name),
        ops,
        received.reservation.customer,
        code,
        OutboxMessage.objects.filter(reference=f"order:{received.pk}").first(),
        operation,
        received.reservation.campaign,
        received.reservation.variant,
        received.reservation,
        received.plan,
        received,
        allocation.lot,
        allocation,
        hold,
        alert,
        exception,
        access,
        attempt,
        totp,
        recovery,
        ticket,
        article,
        deflection,
        notice,
        callback_slot,
        callback,
        SlaPolicy.objects.get(category=None),
        round_the_clock,
        macro,
    ]
    return {type(row): row for row in rows} | {"preparing": preparing}


def sign_in(client, column: str):
    if column == "anonymous":
        return client
    users = get_user_model().objects
    if column == "super":
        user = users.create_superuser("matrix-super", password="pw")
    else:
        user = users.create_user(f"matrix-{column}", password="pw", is_staff=True)
        if column in ROLE_OF:
            user.groups.set([Group.objects.get(name=ROLE_OF[column].name)])
    # Past the second factor where the admin asks for one (tests/admin_client.py).
    admin_client.sign_in_to_admin(client, user)
    return client


def _url(seeded, model, route: str) -> str:
    if route == "admin/r/<path:content_type_id>/<path:object_id>/":
        campaign = next(r for r in seeded.values() if hasattr(r, "get_absolute_url"))
        return reverse(
            "admin:view_on_site",
            args=[ContentType.objects.get_for_model(campaign).pk, campaign.pk],
        )
    pk = str(seeded[model].pk) if model in seeded else ""
    return "/" + re.sub(r"<[^>]+>", pk, route)


def outcome(client, seeded, key: str, how) -> str:
    kind, model, what = how
    if model is not None and model not in seeded and (kind == "action" or "<" in what):
        return "unseeded"  # add a row of this model to `seeded`
    client.cookies.pop("messages", None)  # only what this request says
    with transaction.atomic():  # each request meets the same seeded rows
        if kind == "page":
            response = client.get(_url(seeded, model, what))
        elif kind == "post":
            response = client.post(_url(seeded, model, what), POSTED[key](seeded))
        else:
            changelist = f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"
            response = admin_client.run_action(
                client, what, [seeded[model]], changelist=changelist
            )
        transaction.set_rollback(True)
    if kind != "action" or response.status_code not in (200, 302):
        return str(response.status_code)
    if response.status_code == 302 and "/admin/login/" in response["Location"]:
        return "302"
    said = [str(m) for m in get_messages(response.wsgi_request)]
    listed = response.status_code == 200 and "admin/change_list.html" in [
        t.name for t in response.templates
    ]
    return "no" if listed or "No action selected." in said else "ran"


@pytest.mark.parametrize("column", COLUMNS)
def test_each_role_reaches_exactly_its_row_of_the_matrix(client, seeded, column):
    sign_in(client, column)
    at = COLUMNS.index(column)
    expected = {key: row.split()[at] for key, row in MATRIX.items()}

    actual = {key: outcome(client, seeded, key, how) for key, how in discovered().items()}

    wrong = [
        f"{key}: expected {expected.get(key, 'no row')}, got {got}"
        for key, got in actual.items()
        if got != expected.get(key)
    ]
    assert not wrong, "\n".join([f"{column} reaches what the matrix does not say:", *wrong])
