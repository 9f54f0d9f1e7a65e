"""Courier inputs (tracking file and signed webhook): every refusal is specific and changes
nothing; good input ships and delivers through the state machine, once."""

import datetime as dt
import io
import json
import secrets
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from fulfillment.models import CourierEvent, CourierEventSource, WebhookNonce
from fulfillment.services import courier_input, couriers, webhook_auth
from orders.models import Order, OrderStatus, OrderTransition
from orders.tests.factories import order_in
from preorder_shop.actors import ActorKind
from preorder_shop.identifiers import ORDER_NUMBER, RESERVATION_NUMBER
from preorder_shop.models import OutboxMessage
from tests.concurrency import run_at_once

pytestmark = pytest.mark.django_db
S = OrderStatus
HEADER = "order_number,courier,tracking_number,event,occurred_at,event_id"


def snapshot() -> tuple:
    """Everything a courier input may change."""
    return (
        CourierEvent.objects.count(),
        OrderTransition.objects.count(),
        OutboxMessage.objects.count(),
        sorted(Order.objects.values_list("pk", "status", "courier", "tracking_number")),
    )


def iso(when: dt.datetime | None = None) -> str:
    return (when or timezone.now()).isoformat()


def write_csv(tmp_path: Path, *rows: str, header: str = HEADER) -> Path:
    path = tmp_path / f"tracking-{secrets.token_hex(4)}.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def import_file(path: Path, *args: str) -> str:
    out = io.StringIO()
    call_command("import_tracking", str(path), *args, stdout=out)
    return out.getvalue()


def import_refused(path: Path, *args: str) -> str:
    """Run an import that must fail; returns the error text (stderr and the final line)."""
    err = io.StringIO()
    with pytest.raises(CommandError) as excinfo:
        call_command("import_tracking", str(path), *args, stdout=io.StringIO(), stderr=err)
    return err.getvalue() + str(excinfo.value)


def unused_order_number() -> str:
    while True:
        number = ORDER_NUMBER.generate()
        if not Order.objects.filter(number=number).exists():
            return number


def with_bad_check_digit(number: str) -> str:
    wrong = (int(number[-1]) + 1) % 10
    return number[:-1] + str(wrong)


# The tracking file


def test_a_good_file_ships_and_delivers_with_history_and_notifications(tmp_path):
    first, second = order_in(S.PREPARING), order_in(S.PREPARING)
    path = write_csv(
        tmp_path,
        f"{first.number},CJ대한통운,600000000001,handed_over,{iso()},cj-1",
        f"{second.number},한진택배,500000000002,handed_over,{iso()},hj-2",
        f"{first.number},CJ대한통운,600000000001,delivered,"
        f"{iso(timezone.now() + dt.timedelta(minutes=1))},cj-3",
    )

    output = import_file(path)

    assert "2 handed over (shipped), 1 delivered" in output
    assert "0 duplicate(s) skipped" in output
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.courier, first.tracking_number) == (
        S.DELIVERED,
        "CJ대한통운",
        "600000000001",
    )
    assert (second.status, second.courier, second.tracking_number) == (
        S.SHIPPED,
        "한진택배",
        "500000000002",
    )
    history = list(
        first.transitions.filter(to_status__in=[S.SHIPPED, S.DELIVERED]).values_list(
            "to_status", "actor_kind", "actor_label"
        )
    )
    assert history == [
        (S.SHIPPED, ActorKind.COURIER, "CJ대한통운"),
        (S.DELIVERED, ActorKind.COURIER, "CJ대한통운"),
    ]
    assert set(
        OutboxMessage.objects.filter(reference=f"order:{first.pk}").values_list(
            "template_key", flat=True
        )
    ) >= {"order.shipped", "order.delivered"}
    assert OutboxMessage.objects.get(
        reference=f"order:{second.pk}", template_key="order.shipped"
    ).payload["tracking_number"] == ("500000000002")
    assert set(CourierEvent.objects.values_list("external_id", "source")) == {
        ("cj-1", CourierEventSource.FILE),
        ("hj-2", CourierEventSource.FILE),
        ("cj-3", CourierEventSource.FILE),
    }


def test_reimporting_the_same_file_changes_nothing(tmp_path):
    order = order_in(S.PREPARING)
    path = write_csv(
        tmp_path,
        f"{order.number},CJ대한통운,600000000001,handed_over,{iso()},cj-1",
        f"{order.number},CJ대한통운,600000000001,delivered,"
        f"{iso(timezone.now() + dt.timedelta(minutes=1))},cj-2",
    )
    import_file(path)
    before = snapshot()

    output = import_file(path)

    assert "0 handed over (shipped), 0 delivered" in output
    assert "2 duplicate(s) skipped" in output
    assert snapshot() == before


def test_a_dry_run_reports_and_changes_nothing(tmp_path):
    order = order_in(S.PREPARING)
    path = write_csv(tmp_path, f"{order.number},CJ대한통운,600000000001,handed_over,{iso()},cj-1")
    before = snapshot()

    output = import_file(path, "--dry-run")

    assert "1 would be handed over" in output
    assert "Dry run: nothing was changed." in output
    assert snapshot() == before


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("", "the file is empty"),
        (
            "order_number,courier,tracking_number,event\n12345678901,CJ,1,handed_over\n",
            "missing column(s) occurred_at, event_id",
        ),
        (
            f"{HEADER}\n{{number}},CJ,1,handed_over,2025-13-45 25:00,e1\n",
            "line 2: occurred_at: “2025-13-45 25:00” is not an ISO 8601 date and time",
        ),
        (
            f"{HEADER}\n{{number}},CJ,1,picked_up,{{now}},e1\n",
            "line 2: event: must be one of handed_over, delivered; got “picked_up”",
        ),
        (f"{HEADER}\n{{number}},,1,handed_over,{{now}},e1\n", "line 2: courier: is missing."),
        (
            f"{HEADER}\n{{number}},CJ,1,handed_over\n",
            "line 2: event_id: is missing.; occurred_at: is missing.",
        ),
        (
            f"{HEADER}\n{{number}},CJ,1,handed_over,{{now}},e1,surplus\n",
            "line(s) 2 have more fields than the header",
        ),
    ],
    ids=["empty", "missing-columns", "bad-date", "bad-event", "empty-field", "short", "long"],
)
def test_a_malformed_file_is_refused_whole_with_a_precise_message(tmp_path, content, expected):
    order = order_in(S.PREPARING)
    good = f"{order.number},CJ대한통운,600000000001,handed_over,{iso()},good-row"
    path = tmp_path / "bad.csv"
    body = content.format(number=order.number, now=iso())
    # A good row after the bad one: all or nothing means it is not imported either.
    path.write_text(body + (good + "\n" if body.startswith(HEADER) else ""), encoding="utf-8")
    before = snapshot()

    message = import_refused(path)

    assert expected in message
    assert snapshot() == before


def test_every_bad_row_is_listed_and_nothing_is_imported(tmp_path):
    good = order_in(S.PREPARING)
    cancelled = order_in(S.CANCELLED)
    received = order_in(S.RECEIVED)
    unknown = unused_order_number()
    reservation_number = RESERVATION_NUMBER.generate()
    mistyped = with_bad_check_digit(good.number)
    path = write_csv(
        tmp_path,
        f"{good.number},CJ,600000000001,handed_over,{iso()},ok-1",
        f"{unknown},CJ,600000000002,handed_over,{iso()},e-2",
        f"{cancelled.number},CJ,600000000003,handed_over,{iso()},e-3",
        f"{reservation_number},CJ,600000000004,handed_over,{iso()},e-4",
        f"{mistyped},CJ,600000000005,handed_over,{iso()},e-5",
        f"{received.number},CJ,600000000006,handed_over,{iso()},e-6",
    )
    before = snapshot()

    message = import_refused(path)

    assert f"line 3: No order has the number {unknown}." in message
    assert f"line 4: Order {cancelled.number} is cancelled" in message
    assert f"line 5: “{reservation_number}” is an 8-digit reservation number" in message
    assert f"line 6: “{mistyped}” is not a valid order number: its check digit is wrong" in message
    assert f"line 7: Order {received.number} is “Received”: it must be “Preparing”" in message
    assert "5 error(s) in 6 row(s); nothing was imported." in message
    assert "line 2" not in message
    assert snapshot() == before
    good.refresh_from_db()
    assert good.status == S.PREPARING


def test_a_delivery_before_the_hand_over_is_refused(tmp_path):
    order = order_in(S.PREPARING)
    path = write_csv(tmp_path, f"{order.number},CJ,600000000001,delivered,{iso()},e-1")
    before = snapshot()

    message = import_refused(path)

    assert f"Order {order.number} is “Preparing”: it must be “Shipped”" in message
    assert snapshot() == before


def test_the_launch_embargo_refuses_an_early_hand_over_in_a_file(tmp_path):
    order = order_in(S.PREPARING, reservation__variant__campaign__before_launch=True)
    path = write_csv(tmp_path, f"{order.number},CJ,600000000001,handed_over,{iso()},e-1")
    before = snapshot()

    message = import_refused(path)

    assert f"line 2: Order {order.number}: Launch embargo" in message
    assert snapshot() == before


# The service: embargo, consistency, repeats


def event(order: Order, kind: str, when: dt.datetime, **overrides) -> courier_input.CourierInput:
    values = {
        "external_id": f"{kind}-{order.pk}",
        "order_number": order.number,
        "courier": "CJ대한통운",
        "tracking_number": "600000000001",
        "kind": kind,
        "occurred_at": when,
        **overrides,
    }
    return courier_input.CourierInput(**values)


def record(data: courier_input.CourierInput, now: dt.datetime | None = None):
    return couriers.record_courier_event(data=data, source=CourierEventSource.FILE, now=now)


def seoul(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=timezone.get_default_timezone())


def test_courier_hand_over_the_day_before_launch_but_no_delivery_before_launch():
    launch = timezone.localdate() + dt.timedelta(days=3)
    order = order_in(S.PREPARING, reservation__variant__campaign__launch_date=launch)
    day_before = launch - dt.timedelta(days=1)

    too_early = event(order, "handed_over", seoul(day_before, 0) - dt.timedelta(minutes=1))
    with pytest.raises(couriers.EmbargoRefused, match="Launch embargo"):
        record(too_early, now=too_early.occurred_at)
    assert not CourierEvent.objects.exists()

    on_time = event(order, "handed_over", seoul(day_before, 9))
    assert record(on_time, now=on_time.occurred_at).outcome == couriers.Outcome.RECORDED

    early_delivery = event(order, "delivered", seoul(day_before, 23, 59))
    with pytest.raises(couriers.EmbargoRefused):
        record(early_delivery, now=early_delivery.occurred_at)
    assert CourierEvent.objects.filter(kind="delivered").count() == 0
    order.refresh_from_db()
    assert order.status == S.SHIPPED

    delivery = event(order, "delivered", seoul(launch, 7))
    assert record(delivery, now=delivery.occurred_at).order.status == S.DELIVERED


def test_dawn_hand_over_not_before_18_00_the_evening_before():
    launch = timezone.localdate() + dt.timedelta(days=3)
    order = order_in(
        S.PREPARING,
        reservation__variant__campaign__launch_date=launch,
        reservation__fulfilment="dawn",
    )
    evening = launch - dt.timedelta(days=1)
    too_early = event(order, "handed_over", seoul(evening, 17, 59))
    with pytest.raises(couriers.EmbargoRefused):
        record(too_early, now=too_early.occurred_at)
    assert not CourierEvent.objects.exists()

    on_time = event(order, "handed_over", seoul(evening, 18))
    result = record(on_time, now=on_time.occurred_at)
    assert result.order.status == S.SHIPPED
    assert result.order.shipped_at == seoul(evening, 18)


def test_an_event_dated_in_the_future_is_refused():
    order = order_in(S.PREPARING)
    future = event(order, "handed_over", timezone.now() + dt.timedelta(hours=1))
    before = snapshot()
    with pytest.raises(couriers.EventNotAllowed, match="dated in the future"):
        record(future)
    assert snapshot() == before


def test_a_delivery_with_another_tracking_number_is_refused():
    order = order_in(S.PREPARING)
    record(event(order, "handed_over", timezone.now()))
    before = snapshot()
    with pytest.raises(couriers.EventConflict, match="was shipped with tracking number"):
        record(event(order, "delivered", timezone.now(), tracking_number="999"))
    assert snapshot() == before


def test_the_same_fact_under_a_new_event_id_is_a_duplicate():
    order = order_in(S.PREPARING)
    record(event(order, "handed_over", timezone.now()))
    before = snapshot()
    again = record(event(order, "handed_over", timezone.now(), external_id="resent-1"))
    assert again.outcome == couriers.Outcome.DUPLICATE
    assert snapshot() == before


def test_an_event_id_reused_for_another_order_is_refused():
    first, second = order_in(S.PREPARING), order_in(S.PREPARING)
    record(event(first, "handed_over", timezone.now(), external_id="same"))
    before = snapshot()
    with pytest.raises(
        couriers.EventConflict, match="Event id same of CJ대한통운 was already recorded"
    ):
        record(event(second, "handed_over", timezone.now(), external_id="same"))
    assert snapshot() == before


def test_two_couriers_may_number_their_events_alike():
    first, second = order_in(S.PREPARING), order_in(S.PREPARING)
    record(event(first, "handed_over", timezone.now(), external_id="1001"))
    other = record(
        event(second, "handed_over", timezone.now(), external_id="1001", courier="롯데택배")
    )
    assert other.outcome == couriers.Outcome.RECORDED
    assert other.order.status == S.SHIPPED
    assert CourierEvent.objects.filter(external_id="1001").count() == 2


def test_a_hand_over_for_an_order_staff_already_shipped_is_kept_without_a_move():
    order = order_in(S.SHIPPED)  # shipped with CJ / 123456789012 by the factory
    transitions = OrderTransition.objects.count()
    result = record(event(order, "handed_over", timezone.now(), tracking_number="123456789012"))
    assert result.outcome == couriers.Outcome.CONFIRMED
    assert OrderTransition.objects.count() == transitions
    with pytest.raises(couriers.EventConflict):
        record(event(order, "delivered", timezone.now(), tracking_number="000"))


# The webhook


@pytest.fixture
def webhook(client, settings):
    settings.COURIER_WEBHOOK_SECRET = "test-courier-secret"
    url = reverse("fulfillment:courier_webhook")

    def post(
        body: dict | bytes,
        *,
        nonce: str | None = None,
        timestamp: int | None = None,
        signature: str | None = None,
        secret: str | None = None,
        headers: dict | None = None,
    ):
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        nonce = nonce or secrets.token_hex(16)
        stamp = str(timestamp if timestamp is not None else int(timezone.now().timestamp()))
        if signature is None:
            signature = webhook_auth.sign_webhook(
                timestamp=stamp, nonce=nonce, body=raw, secret=secret
            )
        sent = (
            headers
            if headers is not None
            else {
                "X-Courier-Timestamp": stamp,
                "X-Courier-Nonce": nonce,
                "X-Courier-Signature": signature,
            }
        )
        return client.post(url, data=raw, content_type="application/json", headers=sent)

    return post


def body_for(order: Order, **overrides) -> dict:
    return {
        "event_id": f"wh-{order.pk}",
        "order_number": order.number,
        "courier": "롯데택배",
        "tracking_number": "254000000001",
        "event": "handed_over",
        "occurred_at": iso(),
        **overrides,
    }


def test_a_signed_webhook_ships_the_order(webhook):
    order = order_in(S.PREPARING)
    response = webhook(body_for(order))
    assert response.status_code == 200, response.content
    assert response.json() == {
        "status": "recorded",
        "order_number": order.number,
        "order_status": "shipped",
    }
    order.refresh_from_db()
    assert (order.status, order.courier, order.tracking_number) == (
        S.SHIPPED,
        "롯데택배",
        "254000000001",
    )
    assert CourierEvent.objects.get().source == CourierEventSource.WEBHOOK
    assert OutboxMessage.objects.filter(
        reference=f"order:{order.pk}", template_key="order.shipped"
    ).exists()


def test_a_duplicated_webhook_with_a_fresh_nonce_changes_nothing(webhook):
    order = order_in(S.PREPARING)
    body = body_for(order)
    assert webhook(body).status_code == 200
    before = snapshot()

    response = webhook(body)  # a new nonce, the same event id

    assert response.status_code == 200
    assert response.json()["status"] == "duplicate"
    assert snapshot() == before


def test_a_replayed_request_is_refused(webhook):
    order = order_in(S.PREPARING)
    raw = json.dumps(body_for(order)).encode()
    stamp = int(timezone.now().timestamp())
    assert webhook(raw, nonce="nonce-1", timestamp=stamp).status_code == 200
    before = snapshot()

    response = webhook(raw, nonce="nonce-1", timestamp=stamp)  # byte for byte the same

    assert response.status_code == 409
    assert response.json()["error"] == "replayed"
    assert snapshot() == before


def test_a_refused_event_still_spends_its_nonce(webhook):
    order = order_in(S.CANCELLED)
    raw = json.dumps(body_for(order)).encode()
    stamp = int(timezone.now().timestamp())
    assert webhook(raw, nonce="nonce-2", timestamp=stamp).status_code == 409
    response = webhook(raw, nonce="nonce-2", timestamp=stamp)
    assert response.json()["error"] == "replayed"


@pytest.mark.parametrize(
    "make_body",
    [
        lambda o: b"{not json",
        lambda o: b"[" * 100_000,
        lambda o: body_for(o, occurred_at="9999-12-31T23:59:59+14:00"),
        lambda o: body_for(o, occurred_at="0001-01-01T00:00:00-14:00"),
        lambda o: body_for(o, occured_at=iso()),
        lambda o: body_for(o, order_number=with_bad_check_digit(o.number)),
    ],
    ids=["not-json", "deeply-nested", "year-9999", "year-1", "unknown-field", "check-digit"],
)
def test_a_body_refused_as_input_leaves_the_nonce_for_a_corrected_request(webhook, make_body):
    order = order_in(S.PREPARING)
    stamp = int(timezone.now().timestamp())

    refused = webhook(make_body(order), nonce="nonce-3", timestamp=stamp)

    assert refused.status_code == 400, refused.content
    assert not WebhookNonce.objects.exists()
    corrected = json.dumps(body_for(order)).encode()  # signed anew: the signature covers it
    assert webhook(corrected, nonce="nonce-3", timestamp=stamp).status_code == 200
    before = snapshot()
    replay = webhook(corrected, nonce="nonce-3", timestamp=stamp)
    assert (replay.status_code, replay.json()["error"]) == (409, "replayed")
    assert snapshot() == before


@pytest.mark.django_db(transaction=True)
def test_of_concurrent_copies_of_a_request_one_is_recorded_and_the_rest_refused(settings):
    settings.COURIER_WEBHOOK_SECRET = "test-courier-secret"
    order = order_in(S.PREPARING)
    raw = json.dumps(body_for(order)).encode()
    stamp = str(int(timezone.now().timestamp()))
    headers = {
        "X-Courier-Timestamp": stamp,
        "X-Courier-Nonce": "nonce-4",
        "X-Courier-Signature": webhook_auth.sign_webhook(
            timestamp=stamp, nonce="nonce-4", body=raw
        ),
    }
    url = reverse("fulfillment:courier_webhook")

    def post():
        return Client().post(url, data=raw, content_type="application/json", headers=headers)

    responses = run_at_once([post] * 4)

    assert sorted(r.status_code for r in responses) == [200, 409, 409, 409]
    assert CourierEvent.objects.count() == 1
    assert OrderTransition.objects.filter(order=order, to_status=S.SHIPPED).count() == 1


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        ("wrong-secret", "The signature does not match the request."),
        ("garbage", "The signature does not match the request."),
        ("non-ascii", "The signature does not match the request."),
        ("missing", "Missing X-Courier-Timestamp"),
        ("old", "more than 5 minutes away"),
        ("future", "more than 5 minutes away"),
        ("not-a-number", "X-Courier-Timestamp must be unix seconds."),
    ],
)
def test_a_badly_signed_or_stale_request_is_refused(webhook, tamper, message):
    order = order_in(S.PREPARING)
    body = body_for(order)
    now = int(timezone.now().timestamp())
    raw = json.dumps(body).encode()
    before = snapshot()
    if tamper == "wrong-secret":
        response = webhook(body, secret="not-the-secret")
    elif tamper == "garbage":
        response = webhook(body, signature="0" * 64)
    elif tamper == "non-ascii":
        response = webhook(body, signature="é" * 64)
    elif tamper == "missing":
        response = webhook(body, headers={})
    elif tamper == "not-a-number":
        signature = webhook_auth.sign_webhook(timestamp="soon", nonce="n", body=raw)
        headers = {
            "X-Courier-Timestamp": "soon",
            "X-Courier-Nonce": "n",
            "X-Courier-Signature": signature,
        }
        response = webhook(raw, headers=headers)
    else:
        offset = -6 * 60 if tamper == "old" else 6 * 60
        response = webhook(body, timestamp=now + offset)
    assert response.status_code == 401, response.content
    assert message in response.json()["message"]
    assert snapshot() == before
    assert not CourierEvent.objects.exists()
    assert not WebhookNonce.objects.exists()
    order.refresh_from_db()
    assert order.status == S.PREPARING


def test_a_tampered_body_fails_the_signature(webhook):
    order = order_in(S.PREPARING)
    raw = json.dumps(body_for(order)).encode()
    stamp = str(int(timezone.now().timestamp()))
    signature = webhook_auth.sign_webhook(timestamp=stamp, nonce="n1", body=raw)
    tampered = raw.replace(b"254000000001", b"254000000009")
    headers = {
        "X-Courier-Timestamp": stamp,
        "X-Courier-Nonce": "n1",
        "X-Courier-Signature": signature,
    }
    response = webhook(tampered, headers=headers)
    assert response.status_code == 401
    assert not CourierEvent.objects.exists()


@pytest.mark.parametrize(
    ("make_body", "status", "error"),
    [
        (lambda o: b"{not json", 400, "invalid"),
        (lambda o: b"\xff\xfe", 400, "invalid"),
        (lambda o: b"[1, 2]", 400, "invalid"),
        (lambda o: body_for(o, occurred_at="yesterday"), 400, "invalid"),
        (lambda o: body_for(o, event="lost"), 400, "invalid"),
        (lambda o: body_for(o, tracking_number=12345), 400, "invalid"),
        (lambda o: {"event_id": "x"}, 400, "invalid"),
        (lambda o: body_for(o, tracking_number="2540\u0000001"), 400, "invalid"),
        (lambda o: body_for(o, order_number="010-1234-5678"), 400, "invalid_order_number"),
        (
            lambda o: body_for(o, order_number=RESERVATION_NUMBER.generate()),
            400,
            "reservation_number",
        ),
        (
            lambda o: body_for(o, order_number=with_bad_check_digit(o.number)),
            400,
            "invalid_order_number",
        ),
        (lambda o: body_for(o, order_number=unused_order_number()), 404, "unknown_order"),
        (lambda o: body_for(o, event="delivered"), 409, "not_allowed"),
        (lambda o: body_for(o, note="fragile"), 400, "invalid"),
        (lambda o: b"[" * 100_000, 400, "invalid"),
        (lambda o: body_for(o, occurred_at="2025-03-14T09:30:00\u0000"), 400, "invalid"),
    ],
    ids=[
        "not-json",
        "not-utf8",
        "not-object",
        "bad-date",
        "bad-event",
        "number-not-string",
        "fields-missing",
        "nul-character",
        "phone-number",
        "reservation-number",
        "check-digit",
        "unknown-order",
        "delivered-before-shipped",
        "unknown-field",
        "deeply-nested",
        "nul-in-date",
    ],
)
def test_bad_webhook_bodies_get_a_clear_error_and_change_nothing(
    webhook, make_body, status, error
):
    order = order_in(S.PREPARING)
    before = snapshot()
    response = webhook(make_body(order))
    assert response.status_code == status, response.content
    assert response.json()["error"] == error
    assert response.json()["message"]
    assert snapshot() == before


def test_missing_webhook_fields_are_named(webhook):
    response = webhook({"event_id": "x", "event": "handed_over"})
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {
        "order_number",
        "courier",
        "tracking_number",
        "occurred_at",
    }


def test_unknown_webhook_fields_are_named_with_the_other_problems(webhook):
    order = order_in(S.PREPARING)
    response = webhook(body_for(order, occured_at=iso(), occurred_at="yesterday"))
    assert response.status_code == 400
    assert response.json()["fields"] == {
        "occurred_at": "“yesterday” is not an ISO 8601 date and time (e.g. "
        "2025-03-14T09:30:00+09:00).",
        "occured_at": "is not a field of a courier event.",
    }


def test_a_nonce_the_database_could_not_store_is_refused(webhook):
    order = order_in(S.PREPARING)
    for nonce in ["a\u0000b", "n" * 65]:
        response = webhook(body_for(order), nonce=nonce)
        assert response.status_code == 401
        assert "X-Courier-Nonce must be at most 64 printable ASCII" in response.json()["message"]
    assert not WebhookNonce.objects.exists()


def test_a_webhook_for_a_cancelled_order_is_refused(webhook):
    order = order_in(S.CANCELLED)
    before = snapshot()
    response = webhook(body_for(order))
    assert response.status_code == 409
    assert response.json() == {
        "error": "order_cancelled",
        "message": f"Order {order.number} is cancelled: it must not be shipped.",
    }
    assert snapshot() == before


def test_an_embargoed_webhook_is_refused(webhook):
    order = order_in(S.PREPARING, reservation__variant__campaign__before_launch=True)
    before = snapshot()
    response = webhook(body_for(order))
    assert response.status_code == 409
    assert response.json()["error"] == "embargo"
    assert snapshot() == before


def test_the_webhook_only_takes_post(client):
    response = client.get(reverse("fulfillment:courier_webhook"))
    assert response.status_code == 405
    assert response.json()["error"] == "method_not_allowed"


def test_old_nonces_are_pruned():
    now = timezone.now()
    WebhookNonce.objects.create(nonce="old", received_at=now - dt.timedelta(minutes=16))
    WebhookNonce.objects.create(nonce="recent", received_at=now - dt.timedelta(minutes=14))
    assert webhook_auth.prune_webhook_nonces(now=now) == 1
    assert list(WebhookNonce.objects.values_list("nonce", flat=True)) == ["recent"]


@pytest.mark.parametrize(
    "occurred_at",
    [
        "9999-12-31T23:59:59-14:00",
        "9999-12-31T23:59:59+14:00",
        "9999-12-31T23:59:59",
        "0001-01-01T00:00:00+14:00",
        "0001-01-01T00:00:00-14:00",
        "0001-01-01T00:00:00",
        "1999-12-31T23:00:00",
        "2100-06-01",
    ],
)
def test_an_extreme_event_time_is_a_clear_400_not_a_500(webhook, occurred_at):
    order = order_in(S.PREPARING)
    before = snapshot()
    response = webhook({**body_for(order), "occurred_at": occurred_at})
    assert response.status_code == 400
    assert response.json()["fields"] == {
        "occurred_at": f"“{occurred_at}” is not a date between 2000 and 2099."
    }
    assert snapshot() == before


@pytest.mark.parametrize(
    "occurred_at",
    ["9999-12-31T23:59:59+14:00", "0001-01-01T00:00:00-14:00", "9999-12-31T23:59:59-14:00"],
)
def test_an_extreme_event_time_in_a_file_is_a_row_error(tmp_path, occurred_at):
    order = order_in(S.PREPARING)
    path = write_csv(
        tmp_path,
        f"{order.number},CJ,600000000001,handed_over,{iso()},e-1",
        f"{order.number},CJ,600000000001,delivered,{occurred_at},e-2",
    )
    before = snapshot()

    message = import_refused(path)

    assert f"line 3: occurred_at: “{occurred_at}” is not a date between 2000 and 2099." in message
    assert "1 error(s) in 2 row(s)" in message
    assert snapshot() == before
