"""Help articles, notices and deflections in admin (issue 14): a notice's preview shows how
many customers will be messaged, confirming that number messages exactly them, a second
confirmation nothing more; only those who may message customers reach it; a variant of
another campaign is a form error, not a 500; customers are masked."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from preorder_shop import roles
from preorder_shop.models import OutboxMessage
from preorder_shop.tests.factories import CustomerFactory
from reservations.tests.factories import VariantFactory
from support.models import Deflection, HelpArticle, Notice, TicketCategory
from tests import admin_client
from tests.pages import text

from .notice_factories import notice, world

pytestmark = pytest.mark.django_db


def staff_of(client, role: roles.Role, name: str):
    roles.setup_roles()
    user = get_user_model().objects.create_user(name, password="pw", is_staff=True)
    user.groups.set([Group.objects.get(name=role.name)])
    return admin_client.sign_in_to_admin(client, user)


def test_an_agent_previews_then_messages_exactly_the_count_shown(client):
    w = world()
    n = notice(w.a, variant=w.a1, published=False)
    agent = staff_of(client, roles.SUPPORT_AGENTS, "agent")
    url = reverse("admin:support_notice_message", args=[n.pk])

    preview = agent.get(url)
    sent = agent.post(url, {"expected": 3})
    again = agent.post(url, {"expected": 0})

    assert preview.status_code == 200
    assert "3 customers will be messaged now" in text(preview)
    assert sent.status_code == 302
    assert OutboxMessage.objects.filter(reference=f"notice:{n.pk}").count() == 3
    assert Notice.objects.get(pk=n.pk).published
    assert again.status_code == 302
    assert OutboxMessage.objects.filter(reference=f"notice:{n.pk}").count() == 3
    assert "0 customers will be messaged now" in text(agent.get(url))


def test_a_stale_count_is_refused_and_the_new_one_shown(client):
    w = world()
    n = notice(w.a, published=False)
    agent = staff_of(client, roles.SUPPORT_AGENTS, "agent")

    response = agent.post(reverse("admin:support_notice_message", args=[n.pk]), {"expected": 9})

    assert response.status_code == 200
    assert "has changed since the preview" in text(response)
    assert "4 customers will be messaged now" in text(response)
    assert not OutboxMessage.objects.filter(reference=f"notice:{n.pk}").exists()


@pytest.mark.parametrize("role", [roles.AUDITORS, roles.ORDER_OPERATIONS])
def test_only_those_who_may_message_customers_reach_the_preview(client, role):
    w = world()
    n = notice(w.a)
    staff = staff_of(client, role, "other")

    url = reverse("admin:support_notice_message", args=[n.pk])
    assert staff.get(url).status_code == 403
    assert staff.post(url, {"expected": 4}).status_code == 403
    assert not OutboxMessage.objects.filter(reference=f"notice:{n.pk}").exists()


def test_an_auditor_sees_how_many_were_messaged_and_no_link_that_would_refuse_them(client):
    w = world()
    n = notice(w.a)
    page_url = reverse("admin:support_notice_change", args=[n.pk])
    message_url = reverse("admin:support_notice_message", args=[n.pk])

    auditor = staff_of(client, roles.AUDITORS, "auditor").get(page_url)
    assert auditor.status_code == 200
    assert message_url not in auditor.content.decode()
    assert "customers messaged" in text(auditor).lower()

    client.logout()
    agent = staff_of(client, roles.SUPPORT_AGENTS, "agent").get(page_url)
    assert message_url in agent.content.decode()


def notice_form(campaign, **fields) -> dict:
    now = timezone.localtime()
    return {
        "campaign": campaign.pk,
        "variant": "",
        "fulfilment": "",
        "severity": "warning",
        "starts_at_0": now.strftime("%Y-%m-%d"),
        "starts_at_1": now.strftime("%H:%M:%S"),
        "ends_at_0": (now + dt.timedelta(days=1)).strftime("%Y-%m-%d"),
        "ends_at_1": now.strftime("%H:%M:%S"),
        "published": "on",
        "title_ko": "안내",
        "body_ko": "내용",
        "title_en": "",
        "body_en": "",
        **fields,
    }


def test_an_agent_writes_a_notice_and_a_variant_of_another_campaign_is_a_form_error(client):
    variant = VariantFactory()
    agent = staff_of(client, roles.SUPPORT_AGENTS, "agent")
    url = reverse("admin:support_notice_add")

    refused = agent.post(url, notice_form(variant.campaign, variant=VariantFactory().pk))
    added = agent.post(url, notice_form(variant.campaign, variant=variant.pk))

    assert refused.status_code == 200
    assert "Choose a variant of the notice" in text(refused)
    assert added.status_code == 302
    made = Notice.objects.get()
    assert made.variant == variant and made.created_by.username == "agent"


def test_an_agent_writes_a_help_article(client):
    agent = staff_of(client, roles.SUPPORT_AGENTS, "agent")

    form = {
        "category": TicketCategory.CANCEL,
        "status": "published",
        "display_order": 10,
        "title_ko": "취소하려면",
        "body_ko": "예약 페이지에서 취소하세요.",
        "title_en": "To cancel",
        "body_en": "",
    }
    url = reverse("admin:support_helparticle_add")

    half_english = agent.post(url, form)
    whole = agent.post(url, {**form, "body_en": "Cancel on the reservation page."})

    assert half_english.status_code == 200
    assert "Give the English title and text together" in text(half_english)
    assert whole.status_code == 302
    assert HelpArticle.objects.get().title_en == "To cancel"


def test_deflections_show_customers_masked(client):
    customer = CustomerFactory(phone="+821098765432", name="김민준")
    answer = HelpArticle.objects.create(
        category=TicketCategory.OTHER, status="published", title_ko="t", body_ko="b"
    )
    Deflection.objects.create(
        attempt="0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d",
        category=answer.category,
        article=answer,
        customer=customer,
    )
    agent = staff_of(client, roles.SUPPORT_AGENTS, "agent")

    page = text(agent.get(reverse("admin:support_deflection_changelist")))

    assert customer.masked_phone in page
    assert "98765432" not in page and "김민준" not in page


def test_the_deflection_list_shows_the_rate_per_category(client):
    answer = HelpArticle.objects.create(
        category=TicketCategory.CANCEL, status="published", title_ko="t", body_ko="b"
    )
    Deflection.objects.create(
        attempt="0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d", category=answer.category, article=answer
    )
    agent = staff_of(client, roles.SUPPORT_AGENTS, "agent")

    html = agent.get(reverse("admin:support_deflection_changelist")).content.decode()

    row = html.split('data-testid="rate-cancel"')[1].split("</tr>")[0]
    assert "<td>1</td><td>0</td><td>100%</td>" in row
