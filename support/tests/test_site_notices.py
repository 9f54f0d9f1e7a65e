"""Notices (issue 14, section 4): the database refuses a notice that ends before it starts,
has two narrow scopes, or a variant of another campaign; the selectors show a notice to
exactly the customers it concerns, while it is published and running, in their language,
in one query; messaging reaches exactly the affected customers, set-based, once each, and
as many as the preview counted."""

import datetime as dt

import pytest
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from orders.tests.factories import staff_user
from preorder_shop.models import Operation, OutboxMessage
from preorder_shop.outbox import render
from reservations.models import Fulfilment
from reservations.tests.factories import CampaignFactory, ReservationFactory, VariantFactory
from support import notice_messaging, site_notices
from support.models import Notice, NoticeSeverity
from tests.concurrency import run_at_once

from .notice_factories import notice, world

pytestmark = pytest.mark.django_db


def constraint_of(excinfo) -> str:
    return excinfo.value.__cause__.diag.constraint_name


@pytest.mark.parametrize(
    ("fields", "constraint"),
    [
        ({"ends_at": timezone.now() - dt.timedelta(days=1)}, "notice_ends_after_start"),
        ({"fulfilment": Fulfilment.DAWN, "variant": "own"}, "notice_one_narrow_scope"),
        ({"variant": "other campaign's"}, "notice_variant_of_campaign"),
        ({"severity": "urgent"}, "notice_severity_valid"),
        ({"fulfilment": "drone"}, "notice_fulfilment_valid"),
        ({"title_en": "Delay", "body_en": ""}, "notice_english_complete_or_empty"),
    ],
)
def test_the_database_refuses_a_notice_out_of_shape(fields, constraint):
    campaign = CampaignFactory()
    variants = {"own": VariantFactory(campaign=campaign), "other campaign's": VariantFactory()}
    if "variant" in fields:
        fields = {**fields, "variant": variants[fields["variant"]]}

    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        notice(campaign, **fields)

    assert constraint_of(refused) == constraint


def test_the_trigger_also_refuses_moving_a_notice_to_another_campaign():
    campaign = CampaignFactory()
    scoped = notice(campaign, variant=VariantFactory(campaign=campaign))

    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        Notice.objects.filter(pk=scoped.pk).update(campaign=CampaignFactory())

    assert constraint_of(refused) == "notice_variant_of_campaign"


def ids(shown) -> list[int]:
    return [n.id for n in shown]


def test_a_notice_shows_while_published_and_running_only():
    campaign = CampaignFactory()
    now = timezone.now()
    running = notice(campaign)
    notice(campaign, published=False)
    notice(campaign, starts_at=now + dt.timedelta(hours=1), ends_at=now + dt.timedelta(hours=2))
    notice(campaign, starts_at=now - dt.timedelta(hours=2), ends_at=now)  # ends_at excluded

    assert ids(site_notices.active_for(campaign_id=campaign.pk, now=now)) == [running.pk]
    assert site_notices.active_for(campaign_id=CampaignFactory().pk, now=now) == []


def test_narrow_notices_show_only_for_their_variant_or_way_of_receiving():
    campaign = CampaignFactory()
    a1, a2 = VariantFactory(campaign=campaign), VariantFactory(campaign=campaign)
    wide = notice(campaign)
    for_a1 = notice(campaign, variant=a1)
    for_dawn = notice(campaign, fulfilment=Fulfilment.DAWN)

    def shown(**scope):
        return set(ids(site_notices.active_for(campaign_id=campaign.pk, **scope)))

    assert shown(variant_id=a1.pk, fulfilment=Fulfilment.COURIER) == {wide.pk, for_a1.pk}
    assert shown(variant_id=a2.pk, fulfilment=Fulfilment.DAWN) == {wide.pk, for_dawn.pk}
    assert shown() == {wide.pk}
    everything = site_notices.active_in_campaign(campaign_id=campaign.pk)
    assert {(n.id, n.scope) for n in everything} == {
        (wide.pk, ""),
        (for_a1.pk, str(a1)),
        (for_dawn.pk, "Dawn delivery on launch morning"),
    }


def test_most_severe_first_in_the_readers_language_with_korean_when_no_english():
    campaign = CampaignFactory()
    info = notice(campaign, severity=NoticeSeverity.INFO)
    critical = notice(campaign, severity=NoticeSeverity.CRITICAL, title_en="", body_en="")
    warning = notice(campaign, severity=NoticeSeverity.WARNING)

    english = site_notices.active_for(campaign_id=campaign.pk, language="en")
    korean = site_notices.active_for(campaign_id=campaign.pk, language="ko")

    assert ids(english) == [critical.pk, warning.pk, info.pk]
    assert [(n.title, n.language) for n in english] == [
        ("배송 지연 안내", "ko"),
        ("Delivery delay", "en"),
        ("Delivery delay", "en"),
    ]
    assert {n.title for n in korean} == {"배송 지연 안내"}


def test_a_reservation_or_order_that_is_over_is_shown_no_notice():
    w = world()
    notice(w.a)
    r = w.reservations

    def shown(name):
        return site_notices.active_for_reservation(r[name])

    assert shown("courier_a1") and shown("dawn_a2") and shown("english")
    assert not shown("cancelled") and not shown("expired") and not shown("order_gone")
    assert not shown("only_b")


def test_one_indexed_query_per_status_poll():
    w = world()
    notice(w.a)
    order = w.reservations["dawn_a2"].orders.get()

    with CaptureQueriesContext(connection) as queries:
        shown = site_notices.active_for_order(order)

    assert len(shown) == 1 and len(queries) == 1
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + queries[0]["sql"])
        plan = " ".join(row[0] for row in cursor.fetchall())
    assert "notice_published_campaign_idx" in plan


def test_a_signed_out_visitor_sees_every_running_notice_a_customer_only_theirs():
    w = world()
    for_a1 = notice(w.a, variant=w.a1)
    for_b = notice(w.b)
    customers = w.customers

    assert set(ids(site_notices.active_for_customer(customer_id=None))) == {for_a1.pk, for_b.pk}
    assert ids(site_notices.active_for_customer(customer_id=customers["both"].pk)) == [for_a1.pk]
    assert ids(site_notices.active_for_customer(customer_id=customers["only_b"].pk)) == [for_b.pk]
    assert site_notices.active_for_customer(customer_id=customers["dawn_a2"].pk) == []
    assert site_notices.active_for_customer(customer_id=customers["cancelled"].pk) == []


# Messaging every affected customer.


def messaged(n: Notice) -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(reference=f"notice:{n.pk}"))


def publish(n: Notice, expected: int):
    return notice_messaging.publish_and_message(
        notice_id=n.pk, staff_user=staff_user("agent"), expected=expected
    )


@pytest.mark.parametrize(
    ("scope", "affected"),
    [
        ({}, {"courier_a1", "dawn_a2", "both", "english"}),
        ({"variant": "a1"}, {"courier_a1", "both", "english"}),
        ({"variant": "a2"}, {"dawn_a2", "both"}),
        ({"fulfilment": Fulfilment.DAWN}, {"dawn_a2", "english"}),
        ({"fulfilment": Fulfilment.FESTIVAL}, set()),
    ],
)
def test_messaging_reaches_exactly_the_affected_customers_once_each(
    scope, affected, django_capture_on_commit_callbacks
):
    w = world()
    if "variant" in scope:
        scope = {"variant": getattr(w, scope["variant"])}
    n = notice(w.a, published=False, **scope)
    counted = notice_messaging.preview(notice=n)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = publish(n, counted)

    rows = messaged(n)
    assert counted == result.queued == len(rows) == len(affected)
    assert {m.recipient for m in rows} == w.phones(*affected)
    assert {m.template_key for m in rows} <= {"support.notice"}
    assert len(callbacks) == (1 if affected else 0)  # one sweep for the batch
    n.refresh_from_db()
    assert n.published and n.messaged_at is not None
    assert Operation.objects.get(action="support.notice.messaged").summary == {
        "notice": n.pk,
        "expected": counted,
        "queued": counted,
    }
    # A second click: nothing more, and the preview says so.
    assert notice_messaging.preview(notice=n) == 0
    assert publish(n, 0).queued == 0
    assert len(messaged(n)) == len(affected)


def test_each_customer_reads_the_notice_in_their_language():
    w = world()
    n = notice(w.a, variant=w.a1)
    publish(n, notice_messaging.preview(notice=n))

    by_phone = {m.recipient: m for m in messaged(n)}
    english = by_phone[w.customers["english"].phone]
    korean = by_phone[w.customers["courier_a1"].phone]

    assert english.language == "en" and korean.language == "ko"
    assert render(english)[1].splitlines() == [
        "[Pre-order] Notice: Delivery delay",
        "Dawn delivery is one day late.",
        f"Your reservations: {settings.SITE_URL}{reverse('orders:my_reservations')}",
    ]
    assert korean.payload["title"] == "배송 지연 안내"
    assert english.idempotency_key == f"notice:{n.pk}:customer:{w.customers['english'].pk}"


def test_a_customer_who_becomes_affected_later_is_messaged_by_the_next_click_only():
    w = world()
    n = notice(w.a, variant=w.a2)
    publish(n, notice_messaging.preview(notice=n))
    newcomer = w.customers["courier_a1"]
    ReservationFactory(customer=newcomer, variant=w.a2, slot=2)

    assert notice_messaging.preview(notice=n) == 1
    assert publish(n, 1).queued == 1
    assert [m.recipient for m in messaged(n)].count(newcomer.phone) == 1


def test_a_count_that_changed_since_the_preview_sends_and_publishes_nothing():
    w = world()
    n = notice(w.a, published=False)
    counted = notice_messaging.preview(notice=n)

    with pytest.raises(notice_messaging.AffectedCountChanged):
        publish(n, counted - 1)

    assert messaged(n) == []
    n.refresh_from_db()
    assert not n.published and n.messaged_at is None


def test_an_ended_notice_messages_no_one():
    w = world()
    now = timezone.now()
    n = notice(w.a, starts_at=now - dt.timedelta(days=2), ends_at=now - dt.timedelta(days=1))

    with pytest.raises(notice_messaging.NoticeNotMessageable):
        publish(n, notice_messaging.preview(notice=n))

    assert messaged(n) == []


@pytest.mark.django_db(transaction=True)
def test_parallel_confirmations_message_each_customer_once():
    with transaction.atomic():  # expiring a reservation writes its history in the same commit
        w = world()
        n = notice(w.a, published=False)
    counted = notice_messaging.preview(notice=n)
    agent = staff_user("agent")

    def confirm():
        return notice_messaging.publish_and_message(
            notice_id=n.pk, staff_user=agent, expected=counted
        ).queued

    results = run_at_once([confirm for _ in range(5)])

    assert sorted(results) == [0, 0, 0, 0, counted]  # the others wait for its lock
    assert sorted(m.recipient for m in messaged(n)) == sorted(
        w.phones("courier_a1", "dawn_a2", "both", "english")
    )
