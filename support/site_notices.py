"""Notices on the pages and in the API (issue 14, section 4), and messaging the customers
they concern. (support/notices.py is something else: the ticket notifications.)

Who a notice concerns: a customer with a reservation of the notice's campaign that still
holds its place (reservations.models.HOLDING_STATUSES) or has a live order, and that
matches the notice's narrower scope when it has one (the variant, or the way of receiving).
The pages ask `active_for_reservation` / `active_for_order` (nothing for a reservation or
order that is over), the API's status poll the same through its fact; the messaging below
selects exactly those customers in SQL.

Reads return plain data (`ShownNotice`) in the reader's language; each is one query on the
partial index of published notices by campaign, cheap enough for every status poll.
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Case, IntegerField, Q, Value, When
from django.utils import timezone
from django.utils.translation import get_language

from orders.models import CLOSED_STATUSES, Order
from reservations.models import HOLDING_STATUSES, Reservation

from .models import Notice, NoticeSeverity


@dataclass(frozen=True)
class ShownNotice:
    id: int
    severity: str
    title: str
    text: str
    language: str  # the text's language ("ko" when the notice has no English)
    starts_at: dt.datetime
    ends_at: dt.datetime
    scope: str = ""  # on the campaign page: the variant or way of receiving it is for

    @property
    def critical(self) -> bool:
        return self.severity == NoticeSeverity.CRITICAL

    @property
    def severity_label(self) -> str:
        return NoticeSeverity(self.severity).label

    def as_json(self) -> dict:
        """The API's shape: severity, title, text, starts_at, ends_at (ISO 8601)."""
        return {
            "severity": self.severity,
            "title": self.title,
            "text": self.text,
            "starts_at": self.starts_at.isoformat(),
            "ends_at": self.ends_at.isoformat(),
        }


def _active(now: dt.datetime | None):
    now = now or timezone.now()
    return Notice.objects.filter(published=True, starts_at__lte=now, ends_at__gt=now)


def _shown(rows: Iterable[Notice], language: str | None, *, scoped: bool = False) -> list:
    language = language or get_language() or "ko"
    return [
        ShownNotice(
            n.pk,
            n.severity,
            *n.text_in(language),
            n.starts_at,
            n.ends_at,
            scope=n.scope_label if scoped and (n.variant_id or n.fulfilment) else "",
        )
        for n in rows
    ]


# Most severe first, then the newest.
_ORDER = ["-severity_rank", "-starts_at", "-pk"]


def _ranked(notices):
    return notices.annotate(
        severity_rank=Case(
            When(severity=NoticeSeverity.CRITICAL, then=Value(2)),
            When(severity=NoticeSeverity.WARNING, then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        )
    ).order_by(*_ORDER)


def _matching(variant_id: int | None, fulfilment: str | None) -> Q:
    """Campaign-wide notices, and those for exactly this variant or way of receiving."""
    scope = Q(variant__isnull=True, fulfilment="")
    if variant_id is not None:
        scope |= Q(variant_id=variant_id)
    if fulfilment:
        scope |= Q(fulfilment=fulfilment)
    return scope


def active_for(
    *,
    campaign_id: int,
    variant_id: int | None = None,
    fulfilment: str | None = None,
    now: dt.datetime | None = None,
    language: str | None = None,
) -> list[ShownNotice]:
    """The campaign's notices shown now to someone with this variant and way of receiving
    (either None: only the notices not narrowed to one). One query."""
    rows = _active(now).filter(_matching(variant_id, fulfilment), campaign_id=campaign_id)
    return _shown(_ranked(rows), language)


def affects(reservation: Reservation, order: Order | None = None) -> bool:
    """Whether notices of the reservation's campaign concern its customer: it holds its
    place, or its order is live."""
    return reservation.status in HOLDING_STATUSES or (order is not None and order.is_live)


def active_for_reservation(
    reservation: Reservation, *, order: Order | None = None, now=None, language=None
) -> list[ShownNotice]:
    if not affects(reservation, order):
        return []
    return active_for(
        campaign_id=reservation.campaign_id,
        variant_id=reservation.variant_id,
        fulfilment=reservation.fulfilment,
        now=now,
        language=language,
    )


def active_for_order(order: Order, *, now=None, language=None) -> list[ShownNotice]:
    return active_for_reservation(order.reservation, order=order, now=now, language=language)


_BILINGUAL = ("title_ko", "body_ko", "title_en", "body_en")
_RANK = " ".join(
    f"WHEN '{severity}' THEN {rank}"
    for severity, rank in ((NoticeSeverity.CRITICAL, 2), (NoticeSeverity.WARNING, 1))
)
_HOLDING = ", ".join(f"'{status}'" for status in HOLDING_STATUSES)
_CLOSED = ", ".join(f"'{status}'" for status in CLOSED_STATUSES)

# active_for_order inside an order status's own statement (orders.status_load: o is the
# order, r its reservation), so a status poll reads its notices without a query of its
# own: the same rows in the same order, as JSON for notices_from_json.
ORDER_NOTICES_SQL = f"""
SELECT coalesce(json_agg(json_build_object(
           'id', n.id, 'severity', n.severity, 'starts_at', n.starts_at,
           'ends_at', n.ends_at, {", ".join(f"'{f}', n.{f}" for f in _BILINGUAL)})
           ORDER BY CASE n.severity {_RANK} ELSE 0 END DESC, n.starts_at DESC, n.id DESC),
           '[]')
  FROM support_notice n
 WHERE (r.status IN ({_HOLDING}) OR o.status NOT IN ({_CLOSED}))
   AND n.campaign_id = r.campaign_id AND n.published
   AND n.starts_at <= now() AND n.ends_at > now()
   AND ((n.variant_id IS NULL AND n.fulfilment = '')
        OR n.variant_id = r.variant_id OR n.fulfilment = r.fulfilment)
"""  # noqa: S608 (constants only)


# When the notices an order's status shows may change with no write: the next start or end
# of any of the campaign's notices (a broader set than ORDER_NOTICES_SQL's, which is safe).
ORDER_NOTICES_CHANGE_AT_SQL = """
SELECT min(t.at) FROM support_notice n, LATERAL (VALUES (n.starts_at), (n.ends_at)) t(at)
 WHERE n.campaign_id = r.campaign_id AND t.at > now()
"""


def notices_from_json(rows: list[dict], *, language: str | None = None) -> list[ShownNotice]:
    notices = [
        Notice(
            pk=row["id"],
            severity=row["severity"],
            starts_at=dt.datetime.fromisoformat(row["starts_at"]),
            ends_at=dt.datetime.fromisoformat(row["ends_at"]),
            **{field: row[field] for field in _BILINGUAL},
        )
        for row in rows
    ]
    return _shown(notices, language)


def active_in_campaign(
    *, campaign_id: int, now: dt.datetime | None = None, language: str | None = None
) -> list[ShownNotice]:
    """The campaign page's: every notice of the campaign shown now, the narrower ones
    labelled with the variant or way of receiving they are for."""
    rows = _active(now).filter(campaign_id=campaign_id).select_related("variant")
    return _shown(_ranked(rows), language, scoped=True)


def active_for_customer(
    *, customer_id: int | None, now: dt.datetime | None = None, language: str | None = None
) -> list[ShownNotice]:
    """The support page's: the notices concerning any of the customer's reservations that
    hold their place (two queries); for a signed-out visitor every notice shown now."""
    if customer_id is None:
        return _shown(_ranked(_active(now).select_related("variant")), language, scoped=True)
    held = (
        Reservation.objects.filter(customer_id=customer_id, status__in=HOLDING_STATUSES)
        .values_list("campaign_id", "variant_id", "fulfilment")
        .distinct()
    )
    scope = Q(pk__in=[])
    for campaign_id, variant_id, fulfilment in held:
        scope |= Q(campaign_id=campaign_id) & _matching(variant_id, fulfilment)
    return _shown(_ranked(_active(now).filter(scope)), language)
