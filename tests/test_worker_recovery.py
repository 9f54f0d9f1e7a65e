"""Workers recover by themselves when their database connection is lost (a PostgreSQL
restart, a failover, an idle timeout): every task starts and ends with a usable
connection, and one that fails on a lost connection is retried, not dropped."""

import psycopg
import pytest
from django.db import InterfaceError, OperationalError, connection

from orders.tasks import close_order_windows
from preorder_shop import outbox
from preorder_shop.celery import app
from preorder_shop.models import OutboxChannel, OutboxMessage, OutboxStatus
from preorder_shop.tasks import send_outbox_message
from preorder_shop.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db(transaction=True)


def kill_this_process_connection() -> None:
    """What a PostgreSQL restart does to a worker's persistent connection: the server ends
    it, and the worker only notices at its next query."""
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])


def test_a_task_after_the_connection_was_lost_runs_on_a_fresh_one():
    kill_this_process_connection()
    assert close_order_windows.apply().successful()


def test_an_outbox_message_is_still_sent_after_the_connection_was_lost():
    customer = CustomerFactory()
    message = outbox.queue_message(
        channel=OutboxChannel.SMS,
        recipient=customer.phone,
        template_key="signin.code",
        payload={"code": "123456", "minutes": 5},
        language="ko",
        idempotency_key="recovery-test",
        reference="test",
    )
    kill_this_process_connection()

    result = send_outbox_message.apply(args=[message.pk])

    assert result.successful() and result.result is True
    assert OutboxMessage.objects.get(pk=message.pk).status == OutboxStatus.SENT


def test_every_project_task_retries_on_a_lost_connection():
    app.loader.import_default_modules()  # every app's tasks module, as a worker loads them
    ours = {
        name: task
        for name, task in app.tasks.items()
        if name.split(".")[0] in {"preorder_shop", "reservations", "orders", "fulfillment"}
    }
    assert len(ours) >= 8
    for name, task in ours.items():
        assert {OperationalError, InterfaceError} <= set(task.autoretry_for), name


class ChannelThatOutlivesItsConnection:
    """Hands the message over, and meanwhile the database restarts: the worker's connection
    is gone by the time the result is written."""

    sent: list[str] = []

    def send(self, *, recipient: str, subject: str, body: str, idempotency_key: str) -> None:
        self.sent.append(idempotency_key)
        kill_this_process_connection()


def test_a_message_sent_while_the_connection_was_lost_is_recorded_as_sent(settings):
    settings.OUTBOX_CHANNELS = {
        **settings.OUTBOX_CHANNELS,
        "sms": f"{__name__}.ChannelThatOutlivesItsConnection",
    }
    ChannelThatOutlivesItsConnection.sent.clear()
    message = outbox.queue_message(
        channel=OutboxChannel.SMS,
        recipient=CustomerFactory().phone,
        template_key="signin.code",
        payload={"code": "123456", "minutes": 5},
        idempotency_key="sent-then-lost",
    )

    assert outbox.deliver(message.pk) is True

    # Recorded at once, not left "sending" for the lease to run out and the sweep to send
    # the same message a second time.
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT
    assert outbox.sweep(now=message.sent_at + outbox.SENDING_LEASE * 2) == 0
    assert ChannelThatOutlivesItsConnection.sent == ["sent-then-lost"]


def test_a_render_that_meets_a_lost_connection_is_tried_again_not_counted_a_failure(
    monkeypatch,
):
    real_render, renders = outbox.render, []

    def render_across_a_restart(message):
        renders.append(message.pk)
        if len(renders) == 1:
            kill_this_process_connection()
        OutboxMessage.objects.count()  # a template reading live facts queries the database
        return real_render(message)

    monkeypatch.setattr(outbox, "render", render_across_a_restart)
    message = outbox.queue_message(
        channel=OutboxChannel.SMS,
        recipient=CustomerFactory().phone,
        template_key="signin.code",
        payload={"code": "123456", "minutes": 5},
        idempotency_key="render-across-restart",
    )

    assert outbox.deliver(message.pk) is True

    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == (OutboxStatus.SENT, 1, "")
    assert renders == [message.pk, message.pk]
