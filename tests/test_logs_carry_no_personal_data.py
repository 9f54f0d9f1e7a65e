"""Logs never carry a full phone number, name, address or e-mail address (issue 12, item 4).

Every logger is captured at DEBUG into handlers built from settings.LOGGING itself (their
filters included), while a whole flow runs through the real doors: sign-in with a code,
reserve, the order form with a port-in, the outbox through the log SMS channel, staff moving
and shipping the order, the courier's webhook delivering it, and an e-mail whose send fails
with the address in the error. Then the output is searched for each personal value.
"""

import copy
import io
import json
import logging
import logging.config
import re
import secrets
import smtplib

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from fulfillment.services import moves, webhook_auth
from orders.models import Order, OrderStatus
from orders.tests.factories import RatePlanFactory, give_unit
from preorder_shop import outbox
from preorder_shop.actors import Actor
from preorder_shop.models import OutboxChannel, OutboxMessage, OutboxStatus
from reservations.models import Reservation
from reservations.tests.factories import VariantFactory

pytestmark = pytest.mark.django_db

CUSTOMER_NAME = "김민수"
RECIPIENT_NAME = "박서연"
EMAIL = "minsu.kim@example.com"
ADDRESS_LINE1 = "서울특별시 중구 세종대로 110"
ADDRESS_LINE2 = "7층 701호"
DELIVERY_NOTE = "경비실에 맡겨 주세요"
# Each number in every form a log line could carry it in.
CUSTOMER_PHONE = ("+82 10 2345 6789", "+821023456789", "01023456789", "010-2345-6789")
RECIPIENT_PHONE = ("010.3456.7890", "+821034567890", "01034567890", "010-3456-7890")
PORT_IN_NUMBER = ("010 4567 8901", "+821045678901", "01045678901", "010-4567-8901")


class RefusingEmailChannel:
    """An SMTP server refusing the recipient, with the address in the error, as smtplib's is."""

    def send(self, *, recipient: str, subject: str, body: str, idempotency_key: str) -> None:
        raise smtplib.SMTPRecipientsRefused(
            {recipient: (550, f"5.1.1 <{recipient}>: Recipient address rejected".encode())}
        )


@pytest.fixture
def captured(settings):
    """All output of every logger at DEBUG, through the handlers settings.LOGGING defines
    (each keeps its filters; only its stream is a buffer), restored afterwards."""
    buffer = io.StringIO()
    config = copy.deepcopy(settings.LOGGING)
    for handler in config["handlers"].values():
        handler.update({"class": "logging.StreamHandler", "stream": buffer})
    config["root"]["level"] = "DEBUG"
    logging.config.dictConfig(config)
    try:
        yield buffer
    finally:
        logging.config.dictConfig(settings.LOGGING)


def field(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert match, f"no {name} field on the page"
    return match.group(1)


def sign_in_and_reserve(client, variant) -> Reservation:
    campaign_path = variant.campaign.get_absolute_url()
    page = client.get(reverse("signin"), {"next": campaign_path}).content.decode()
    code_page = client.post(
        reverse("signin"),
        {
            "csrfmiddlewaretoken": field(page, "csrfmiddlewaretoken"),
            "phone": CUSTOMER_PHONE[0],
            "name": CUSTOMER_NAME,
            "next": campaign_path,
        },
        follow=True,
    ).content.decode()
    code = re.search(r'data-testid="dev-code">(\d{6})<', code_page).group(1)
    campaign_page = client.post(reverse("signin_verify"), {"code": code}, follow=True)
    assert "You are signed in." in campaign_page.content.decode()
    client.post(
        f"{campaign_path}reserve/",
        {
            "variant": variant.pk,
            "fulfilment": "courier",
            "idempotency_key": field(campaign_page.content.decode(), "idempotency_key"),
        },
    )
    return Reservation.objects.get(customer__phone=CUSTOMER_PHONE[1])


def fill_and_submit(client, reservation) -> Order:
    plan = RatePlanFactory(campaign=reservation.campaign)
    client.post(reverse("orders:order_form", args=[reservation.number]))
    answers = {
        "plan": plan.pk,
        "join_type": "port_in",
        "port_in_carrier": "kt",
        "port_in_number": PORT_IN_NUMBER[0],
        "recipient_name": RECIPIENT_NAME,
        "recipient_phone": RECIPIENT_PHONE[0],
        "postcode": "04524",
        "address_line1": ADDRESS_LINE1,
        "address_line2": ADDRESS_LINE2,
        "delivery_note": DELIVERY_NOTE,
    }
    autosave = client.post(
        reverse("orders:order_autosave", args=[reservation.number]),
        {**answers, "postcode": "123"},  # one bad answer on the way, as people type
        HTTP_HX_REQUEST="true",
    )
    assert autosave.status_code == 200
    submitted = client.post(reverse("orders:order_submit", args=[reservation.number]), answers)
    assert submitted.status_code == 302, submitted.content.decode()
    order = Order.objects.get(reservation=reservation)
    assert (order.status, order.port_in_number) == (OrderStatus.RECEIVED, PORT_IN_NUMBER[1])
    return order


def courier_delivers(client, order: Order) -> None:
    body = json.dumps(
        {
            "event_id": f"wh-delivered-{order.pk}",
            "order_number": order.number,
            "courier": order.courier,
            "tracking_number": order.tracking_number,
            "event": "delivered",
            "occurred_at": timezone.now().isoformat(),
        }
    ).encode()
    stamp, nonce = str(int(timezone.now().timestamp())), secrets.token_hex(16)
    response = client.post(
        reverse("fulfillment:courier_webhook"),
        data=body,
        content_type="application/json",
        headers={
            "X-Courier-Timestamp": stamp,
            "X-Courier-Nonce": nonce,
            "X-Courier-Signature": webhook_auth.sign_webhook(
                timestamp=stamp, nonce=nonce, body=body
            ),
        },
    )
    assert response.status_code == 200, response.content


def test_a_whole_flow_logs_no_number_name_address_or_e_mail(client, settings, captured):
    settings.OTP_SHOW_CODE_ON_PAGE = True
    settings.COURIER_WEBHOOK_SECRET = "test-courier-secret"
    settings.OUTBOX_CHANNELS = {
        "sms": "preorder_shop.channels.LogSmsChannel",
        "email": f"{__name__}.RefusingEmailChannel",
    }
    variant = VariantFactory()
    reservation = sign_in_and_reserve(client, variant)
    order = fill_and_submit(client, reservation)
    outbox.sweep()

    staff = Actor.staff(get_user_model().objects.create_user("ops", is_staff=True))
    give_unit(reservation)
    order = moves.start_preparing(order=order, actor=staff, reason="launch day")
    order = moves.hand_over(
        order=order,
        actor=staff,
        courier="CJ대한통운",
        tracking_number="254000000001",
        reason="picked up",
    ).order
    courier_delivers(client, order)
    # A customer types their number into an address: Django's request log names the path.
    assert client.get(f"/my/orders/{CUSTOMER_PHONE[2]}/").status_code == 404
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED
    shipped = OutboxMessage.objects.get(idempotency_key=f"order:{order.pk}:shipped")
    email = outbox.queue_message(
        channel=OutboxChannel.EMAIL,
        recipient=EMAIL,
        template_key=shipped.template_key,
        payload=shipped.payload,
        idempotency_key=f"test-email:{order.pk}",
    )
    outbox.sweep()

    email.refresh_from_db()
    assert email.status != OutboxStatus.SENT and EMAIL in email.last_error  # it did fail
    sent = OutboxMessage.objects.filter(channel=OutboxChannel.SMS, status=OutboxStatus.SENT)
    assert sent.count() >= 5  # code, received, preparing, shipped, delivered
    log = captured.getvalue()
    personal = [
        *CUSTOMER_PHONE,
        *RECIPIENT_PHONE,
        *PORT_IN_NUMBER,
        CUSTOMER_NAME,
        RECIPIENT_NAME,
        ADDRESS_LINE1,
        ADDRESS_LINE2,
        DELIVERY_NOTE,
        EMAIL,
    ]
    assert [value for value in personal if value in log] == [], log
    # ... and the flow did log, masked: each SMS, the 404 and the failed e-mail.
    assert log.count("SMS to 010-****-6789 [") == sent.count(), log
    assert "Not Found: /my/orders/010-****-6789/" in log, log
    assert "failed: {'m***@example.com'" in log, log
