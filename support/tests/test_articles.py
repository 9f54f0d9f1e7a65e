"""Help articles on the ticket form and "This answered my question" (issue 14, section 2):
published per category in display order, in the reader's language (English falls back to
Korean); a deflection counts once per form attempt, only for an attempt this server signed
and with the CSRF token, signed in or not."""

import datetime as dt
import re

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from preorder_shop.pages import render_panels
from support import articles
from support.models import ArticleStatus, Deflection, HelpArticle, TicketCategory
from support.tests.factories import open_ticket
from tests.concurrency import run_at_once
from tests.pages import text

pytestmark = pytest.mark.django_db

C = TicketCategory
WEEK = dt.timedelta(days=7)


def article(category=C.WHERE_IS_MY_PHONE, *, status=ArticleStatus.PUBLISHED, **fields):
    values = {"title_ko": "배송은 언제?", "body_ko": "출시일 이후 순서대로 발송합니다.", **fields}
    return HelpArticle.objects.create(category=category, status=status, **values)


def test_a_category_shows_its_published_articles_in_display_order():
    second = article(display_order=20, title_ko="둘째")
    first = article(display_order=10, title_ko="첫째")
    article(status=ArticleStatus.DRAFT, title_ko="초안")
    article(C.CANCEL, title_ko="취소")

    found = articles.for_category(C.WHERE_IS_MY_PHONE, language="ko")

    assert [a.id for a in found] == [first.pk, second.pk]
    assert articles.for_category("", language="ko") == []


def test_english_readers_get_english_and_korean_where_there_is_none():
    translated = article(
        display_order=1, title_en="When does it ship?", body_en="In queue order after launch."
    )
    korean_only = article(display_order=2)

    english = articles.for_category(C.WHERE_IS_MY_PHONE, language="en")
    korean = articles.for_category(C.WHERE_IS_MY_PHONE, language="ko")

    assert [(a.id, a.title, a.language) for a in english] == [
        (translated.pk, "When does it ship?", "en"),
        (korean_only.pk, "배송은 언제?", "ko"),
    ]
    assert {a.language for a in korean} == {"ko"}


def test_the_database_refuses_an_article_without_korean_or_with_half_its_english():
    with pytest.raises(IntegrityError), transaction.atomic():
        article(title_ko="")
    with pytest.raises(IntegrityError), transaction.atomic():
        article(title_en="Only a title")


def panel(**objects) -> str:
    objects = {"category": "", "reservation": None, "order": None, "customer": None, **objects}
    return render_panels("ticket_form", None, **objects)


def attempt_of(html: str) -> str:
    return re.search(r'name="attempt" value="([^"]+)"', html).group(1)


def test_the_ticket_form_panel_shows_the_categorys_articles_and_nothing_before_one_is_chosen():
    article(title_ko="배송 안내")
    article(C.CANCEL, title_ko="취소 안내")

    with translation.override("ko"):
        chosen = panel(category=C.WHERE_IS_MY_PHONE)

    assert "배송 안내" in chosen and "취소 안내" not in chosen
    assert 'data-testid="deflect"' in chosen and attempt_of(chosen)
    assert "help-articles" not in panel(category="")
    assert "help-articles" not in panel(category=C.PROMOTION)  # none written for it


def deflect(client, attempt: str, article_id: int):
    return client.post(reverse("help:deflect"), {"attempt": attempt, "article": article_id})


def test_a_deflection_counts_once_per_form_attempt(client):
    answer = article()
    attempt = attempt_of(panel(category=C.WHERE_IS_MY_PHONE))

    first = deflect(client, attempt, answer.pk)
    again = deflect(client, attempt, answer.pk)
    other_button = deflect(client, attempt, article(display_order=5).pk)
    next_showing = deflect(client, attempt_of(panel(category=C.WHERE_IS_MY_PHONE)), answer.pk)

    assert first.status_code == again.status_code == other_button.status_code == 302
    assert next_showing.status_code == 302
    rows = Deflection.objects.order_by("at")
    assert rows.count() == 2  # the first showing's once, the next showing's once
    assert {r.category for r in rows} == {C.WHERE_IS_MY_PHONE}
    assert rows[0].article == answer and rows[0].customer is None


def test_a_signed_in_customers_deflection_names_them(signed_in, customer):
    answer = article()

    response = deflect(signed_in, attempt_of(panel(category=answer.category)), answer.pk)

    assert response.status_code == 302
    assert response["Location"] == reverse("orders:my_reservations")
    assert Deflection.objects.get().customer == customer


@pytest.mark.parametrize(
    "attempt",
    [
        "d2a4b8f0-3c1e-4b7a-9f1d-0e6c5a4b3c2d",  # an id the server did not sign
        "d2a4b8f0-3c1e-4b7a-9f1d-0e6c5a4b3c2d:1tAbCd:forged",
        "",
    ],
)
def test_made_up_attempts_are_refused_and_count_nothing(client, attempt):
    answer = article()

    response = deflect(client, attempt, answer.pk)

    assert response.status_code == 400
    assert "Please try that again" in text(response)
    assert not Deflection.objects.exists()


def test_a_draft_articles_button_counts_nothing(client):
    article(C.OTHER)
    attempt = attempt_of(panel(category=C.OTHER))  # a signed attempt, from a real showing
    draft = article(status=ArticleStatus.DRAFT)

    response = deflect(client, attempt, draft.pk)

    assert response.status_code == 400
    assert not Deflection.objects.exists()


def test_without_the_csrf_token_nothing_is_counted():
    answer = article()
    client = Client(enforce_csrf_checks=True)

    response = deflect(client, attempt_of(panel(category=answer.category)), answer.pk)

    assert response.status_code == 403
    assert not Deflection.objects.exists()


def test_the_button_is_post_only(client):
    assert client.get(reverse("help:deflect")).status_code == 405


@pytest.mark.django_db(transaction=True)
def test_ten_parallel_presses_of_one_attempt_count_once():
    answer = article()
    attempt = attempt_of(panel(category=answer.category))

    results = run_at_once(
        [
            lambda: articles.record_deflection(
                attempt=attempt, article_id=answer.pk, customer=None
            )
            for _ in range(10)
        ]
    )

    assert sorted(results) == [False] * 9 + [True]
    assert Deflection.objects.count() == 1


def test_the_deflection_rate_sets_deflections_beside_tickets_per_category():
    answer = article(C.WHERE_IS_MY_PHONE)
    for _ in range(3):
        articles.record_deflection(
            attempt=articles.new_attempt(), article_id=answer.pk, customer=None
        )
    open_ticket(category=C.WHERE_IS_MY_PHONE)
    open_ticket(category=C.CANCEL)

    rates = {r.category: r for r in articles.deflection_rates(since=timezone.now() - WEEK)}

    assert (rates[C.WHERE_IS_MY_PHONE].deflected, rates[C.WHERE_IS_MY_PHONE].tickets) == (3, 1)
    assert rates[C.WHERE_IS_MY_PHONE].rate == 0.75
    assert rates[C.CANCEL].rate == 0
    assert rates[C.PROMOTION].rate is None
    assert articles.deflection_rates(since=timezone.now())[0].deflected == 0
