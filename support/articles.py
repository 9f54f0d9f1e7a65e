"""Help articles on the ticket form, and "This answered my question" (issue 14, section 2).

`for_category` is what the ticket form shows for a category: its published articles in
display order, each in the reader's language (English falls back to Korean when an article
has no English yet, support.models.bilingual). `new_attempt` signs a fresh attempt id when
the form is shown; `record_deflection` counts that attempt once, whatever is sent again,
and only for an id this server signed (so the rate cannot be inflated by made-up ids).
`deflection_rates` sets the counted deflections beside the tickets opened, per category.
"""

import datetime as dt
import uuid
from dataclasses import dataclass

from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from preorder_shop.exceptions import DomainError
from preorder_shop.models import Customer

from .models import ArticleStatus, Deflection, HelpArticle, Ticket, TicketCategory

ATTEMPT_SALT = "support.deflection.attempt"
# A form left open longer than this is a new attempt: the page is shown again first.
ATTEMPT_MAX_AGE = dt.timedelta(hours=12)


class DeflectionRefused(DomainError):
    code = "deflection_refused"
    default_message = _("This page has expired. Please open the form again.")


@dataclass(frozen=True)
class Article:
    id: int
    title: str
    text: str
    language: str  # the language the text is in ("ko" when English is missing)


def for_category(category: str, *, language: str) -> list[Article]:
    """The category's published articles, lowest display order first, in `language`."""
    if not category:
        return []
    rows = HelpArticle.objects.filter(category=category, status=ArticleStatus.PUBLISHED)
    return [Article(row.pk, *row.text_in(language)) for row in rows]


def new_attempt() -> str:
    """A signed id for one showing of the ticket form."""
    return signing.TimestampSigner(salt=ATTEMPT_SALT).sign(str(uuid.uuid4()))


def _attempt_id(token: str) -> uuid.UUID:
    try:
        value = signing.TimestampSigner(salt=ATTEMPT_SALT).unsign(token, max_age=ATTEMPT_MAX_AGE)
        return uuid.UUID(value)
    except (signing.BadSignature, ValueError) as exc:  # SignatureExpired is a BadSignature
        raise DeflectionRefused() from exc


def record_deflection(
    *,
    attempt: str,
    article_id: int,
    customer: Customer | None,
    now: dt.datetime | None = None,
) -> bool:
    """Count that `article_id` answered the question of this form attempt. True when
    counted now; False when the attempt was already counted (nothing changes). A draft or
    unknown article, or an id this server did not sign, is refused."""
    attempt_id = _attempt_id(attempt)
    article = HelpArticle.objects.filter(pk=article_id, status=ArticleStatus.PUBLISHED).first()
    if article is None:
        raise DeflectionRefused()
    try:
        with transaction.atomic():
            Deflection.objects.create(
                attempt=attempt_id,
                category=article.category,
                article=article,
                customer=customer,
                at=now or timezone.now(),
            )
    except IntegrityError as exc:
        diag = getattr(exc.__cause__, "diag", None)
        if getattr(diag, "constraint_name", None) == "deflection_once_per_attempt":
            return False  # this attempt is counted already
        raise
    return True


@dataclass(frozen=True)
class DeflectionRate:
    category: str
    label: str
    deflected: int  # attempts an article answered
    tickets: int  # tickets opened (signed in or not)

    @property
    def rate(self) -> float | None:
        """The share of ended attempts that an article answered; None with no attempts."""
        total = self.deflected + self.tickets
        return self.deflected / total if total else None


def deflection_rates(*, since: dt.datetime) -> list[DeflectionRate]:
    """Per category since `since`: deflections beside tickets opened (two grouped counts)."""
    deflected = dict(
        Deflection.objects.filter(at__gte=since)
        .values_list("category")
        .annotate(n=Count("pk"))
        .values_list("category", "n")
    )
    tickets = dict(
        Ticket.objects.filter(created_at__gte=since)
        .values_list("category")
        .annotate(n=Count("pk"))
        .values_list("category", "n")
    )
    return [
        DeflectionRate(value, label, deflected.get(value, 0), tickets.get(value, 0))
        for value, label in TicketCategory.choices
    ]
