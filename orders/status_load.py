"""An order's status read in one statement (issue 13, "cheap to poll").

A poll asks the same thing every few seconds of tens of thousands of orders, and compiling
the ORM's queries for it cost more than running them. So what a status response shows is
read here by one hand-written statement, built on first use and prepared once per
connection (preorder_shop.statements): the order, its
reservation, campaign and variant, its history, the reservation's other orders (for the
allowed actions), the place in line (reservations.lines, the same statement the other pages
run) and the upper apps' facts that ship SQL of their own (preorder_shop.pages.fact_sql).
The rows become model instances as the ORM would make them, so orders.selectors words them
with the same code as everything else.
"""

import datetime as dt
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from preorder_shop import kept_answers, statements, tokens
from preorder_shop.identifiers import ORDER_NUMBER, RESERVATION_NUMBER, IdentifierKind
from preorder_shop.models import ApiToken
from preorder_shop.pages import FACT_SQL, fact_changes_at, fact_sql
from reservations import lines
from reservations.models import (
    HOLDING_STATUSES,
    Campaign,
    Reservation,
    ReservationChange,
    Variant,
)
from reservations.selectors import QueueStanding

from .models import CLOSED_STATUSES, Order

SLOT = "order_status"
ORDER, RESERVATION = FACT_SQL[SLOT]  # the aliases the facts' SQL may use


def _quoted(values) -> str:
    return ", ".join(f"'{value}'" for value in values)


# The reservation's orders, as customer_actions reads them.
SIBLING_FIELDS = ["id", "reservation_id", "status", "number", "submitted_at"]
_MODELS = ((Order, ORDER), (Reservation, RESERVATION), (Campaign, "c"), (Variant, "v"))
_STANDING = lines.standing_sql(
    variant=f"{RESERVATION}.variant_id", position=f"{RESERVATION}.position"
)


@dataclass(frozen=True)
class _Statement:
    sql: str
    facts: tuple[str, ...]
    order_fields: tuple[str, ...] | None = None  # the order's loaded fields; None: all


# What an API poll reads of the order itself: what its status shows and the allowed actions
# ask (orders.selectors.status_facts, customer_actions), and nothing else: no personal data.
# Any other field would be a deferred load, one more query (the tests count them per state).
POLL_ORDER_FIELDS = (
    "id",
    "reservation_id",
    "status",
    "number",
    "courier",
    "tracking_number",
    "created_at",
    "submitted_at",
)


# The reservation's orders (customer_actions), newest first.
_SIBLINGS = f"""
  LEFT JOIN LATERAL (
      SELECT array_agg(x.id ORDER BY x.created_at DESC) AS ids,
             array_agg(x.status ORDER BY x.created_at DESC) AS statuses,
             array_agg(x.number ORDER BY x.created_at DESC) AS numbers,
             array_agg(x.submitted_at ORDER BY x.created_at DESC) AS submitted_ats
        FROM orders_order x WHERE x.reservation_id = {RESERVATION}.id) s ON true"""  # noqa: S608
_HOLDS_PLACE = f"{RESERVATION}.status IN ({_quoted(HOLDING_STATUSES)})"


def _statement(where: str, order_fields: tuple[str, ...] | None) -> _Statement:
    facts = fact_sql(SLOT)
    extra = "".join(f",\n       ({sql}) AS fact_{i}" for i, sql in enumerate(facts.values()))
    # The next moment a fact changes with time alone (LEAST ignores NULLs).
    changes_at = "".join(f", ({sql})" for sql in fact_changes_at(SLOT))
    order = (
        ", ".join(f'{ORDER}."{Order._meta.get_field(name).column}"' for name in order_fields)
        if order_fields
        else statements.columns(Order, ORDER)
    )
    others = (statements.columns(model, alias) for model, alias in _MODELS[1:])
    sql = f"""
SELECT {order}, {", ".join(others)},
       h.statuses, h.ats, s.ids, s.statuses, s.numbers, s.submitted_ats,
       st.place, st.total, st.total_at, st.live_total,
       LEAST(NULL::timestamptz{changes_at}) AS changes_at{extra}
  FROM orders_order {ORDER}
  JOIN reservations_reservation {RESERVATION} ON {RESERVATION}.id = {ORDER}.reservation_id
  JOIN reservations_campaign c ON c.id = {RESERVATION}.campaign_id
  JOIN reservations_variant v ON v.id = {RESERVATION}.variant_id
  LEFT JOIN LATERAL (
      SELECT array_agg(t.to_status ORDER BY t.at, t.id) AS statuses,
             array_agg(t.at ORDER BY t.at, t.id) AS ats
        FROM orders_ordertransition t WHERE t.order_id = {ORDER}.id) h ON true{_SIBLINGS}
  LEFT JOIN LATERAL ({_STANDING}) st
    ON {_HOLDS_PLACE} AND {ORDER}.status NOT IN ({_quoted(CLOSED_STATUSES)})
 WHERE {where}
"""  # noqa: S608 (model metadata, constants and the registered facts' SQL only)
    return _Statement(sql=sql, facts=tuple(facts), order_fields=order_fields)


_statements: dict[tuple[str, tuple[str, ...] | None], _Statement] = {}


def _prepared(where: str, order_fields: tuple[str, ...] | None = None) -> _Statement:
    # Built on first use: the facts' SQL is registered in the apps' ready().
    key = (where, order_fields)
    if key not in _statements:
        _statements[key] = _statement(where, order_fields)
    return _statements[key]


def by_number(*, customer_id: int, number: str) -> Order | None:
    """The customer's order numbered `number`, loaded for its status; None otherwise."""
    return _load(
        _prepared(f"{ORDER}.number = %(number)s AND {RESERVATION}.customer_id = %(customer)s"),
        {"number": number, "customer": customer_id},
    )


def by_token(*, raw_token: str, number: str) -> tuple[ApiToken | None, Order | None]:
    """An API poll's one round trip: the live token `raw_token` names (None: not signed in)
    and its customer's order numbered `number` as by_number loads it (None: none such)."""
    statement = _poll_statement()
    return _polled(
        statement.sql, raw_token, number, ORDER_NUMBER, lambda row: _order_from_row(statement, row)
    )


@functools.cache  # built on first use, as _prepared
def _poll_statement() -> _Statement:
    inner = _prepared(
        f"{ORDER}.number = %(number)s AND {RESERVATION}.customer_id = {_TOKEN_CUSTOMER}",
        POLL_ORDER_FIELDS,
    )
    return _Statement(
        sql=_with_token(inner.sql), facts=inner.facts, order_fields=POLL_ORDER_FIELDS
    )


# A poll's statement: the live token (tokens.LIVE_BY_HASH), the snapshot it reads (kept
# answers' since), then the row the poll reads for that token's customer, or NULLs when
# there is none.
_TOKEN_CUSTOMER = "tok.customer_id"  # noqa: S105 (a column, not a secret)
_TOKEN_WIDTH = len(tokens.LIVE_COLUMNS)


def _with_token(sql: str) -> str:
    live = tokens.LIVE_BY_HASH
    since = kept_answers.SINCE_SQL
    return f"SELECT tok.*, {since}, s.* FROM ({live}) tok LEFT JOIN LATERAL ({sql}) s ON true"  # noqa: S608


def _polled(
    sql: str, raw_token: str, number: str, kind: IdentifierKind, load: Callable
) -> tuple[ApiToken | None, Any]:
    if not kind.shape.matches(number):  # not looked up: the token alone
        return tokens.authenticate(raw_token), None
    row = statements.fetchone(sql, {**tokens.live_parameters(raw_token), "number": number})
    if row is None:
        return None, None
    token = tokens.live_token(row[:_TOKEN_WIDTH])
    since, loaded = row[_TOKEN_WIDTH], row[_TOKEN_WIDTH + 1 :]
    if loaded[0] is None:  # the row's id: nothing of that number is this customer's
        return token, None
    found = load(loaded)
    found.read_since = since  # the snapshot it was read in (kept_answers.SINCE_SQL)
    return token, found


def by_pk(pk: int) -> Order | None:
    return _load(_prepared(f"{ORDER}.id = %(pk)s"), {"pk": pk})


def _load(statement: _Statement, params: dict) -> Order | None:
    row = statements.fetchone(statement.sql, params)
    return None if row is None else _order_from_row(statement, row)


def _order_from_row(statement: _Statement, row: Sequence) -> Order:
    if statement.order_fields:
        at = len(statement.order_fields)
        order = statements.partial(Order, dict(zip(statement.order_fields, row[:at], strict=True)))
    else:
        order, at = statements.instance(Order, row, 0)
    instances = []
    for model, _alias in _MODELS[1:]:
        loaded, at = statements.instance(model, row, at)
        instances.append(loaded)
    reservation, campaign, variant = instances
    history_statuses, history_ats, *siblings = row[at : at + 6]
    standing_row = row[at + 6 : at + 10]
    reservation.campaign, reservation.variant = campaign, variant
    order.reservation = reservation
    reservation._prefetched_objects_cache = {"orders": _siblings(reservation, order, *siblings)}
    order.history = list(zip(history_statuses or [], history_ats or [], strict=True))
    order.standing = _standing(*standing_row) if standing_row[0] is not None else None
    order.facts_change_at = row[at + 10]
    order.loaded_facts = dict(zip(statement.facts, row[at + 11 :], strict=True))
    return order


def _siblings(
    reservation: Reservation, order: Order | None, ids, statuses, numbers, submitted_ats
) -> list[Order]:
    """The reservation's orders, newest first; `order` itself as loaded."""
    return [
        order
        if order is not None and pk == order.pk
        else statements.partial(
            Order, dict(zip(SIBLING_FIELDS, (pk, reservation.pk, *rest), strict=True))
        )
        for pk, *rest in zip(
            ids or [], statuses or [], numbers or [], submitted_ats or [], strict=True
        )
    ]


# A reservation as its API answer shows it: the reservation, campaign and variant, its
# history (reservations.selectors.reservation_timeline), its orders and its standing.
_CUSTOMER = "<the customer>"  # replaced by the customer's parameter or the token's column
CHANGE_FIELDS = ["id", "reservation_id", "field", "from_value", "to_value", "actor_kind", "at"]
_RESERVATION = f"""
SELECT {", ".join(statements.columns(model, alias) for model, alias in _MODELS[1:])},
       h.ids, h.fields, h.from_values, h.to_values, h.actor_kinds, h.ats,
       s.ids, s.statuses, s.numbers, s.submitted_ats,
       st.place, st.total, st.total_at, st.live_total
  FROM reservations_reservation {RESERVATION}
  JOIN reservations_campaign c ON c.id = {RESERVATION}.campaign_id
  JOIN reservations_variant v ON v.id = {RESERVATION}.variant_id
  LEFT JOIN LATERAL (
      SELECT array_agg(ch.id ORDER BY ch.at, ch.id) AS ids,
             array_agg(ch.field ORDER BY ch.at, ch.id) AS fields,
             array_agg(ch.from_value ORDER BY ch.at, ch.id) AS from_values,
             array_agg(ch.to_value ORDER BY ch.at, ch.id) AS to_values,
             array_agg(ch.actor_kind ORDER BY ch.at, ch.id) AS actor_kinds,
             array_agg(ch.at ORDER BY ch.at, ch.id) AS ats
        FROM reservations_reservationchange ch
       WHERE ch.reservation_id = {RESERVATION}.id) h ON true{_SIBLINGS}
  LEFT JOIN LATERAL ({_STANDING}) st ON {_HOLDS_PLACE}
 WHERE {RESERVATION}.number = %(number)s AND {RESERVATION}.customer_id = {_CUSTOMER}
"""  # noqa: S608 (model metadata and constants only; the customer's expression is ours)


def reservation_by_number(*, customer_id: int, number: str) -> Reservation | None:
    """The customer's reservation numbered `number` with its campaign, variant, history and
    orders loaded (reservation.changes.all(), reservation.orders.all() read no database) and
    its standing as `reservation.standing`; None otherwise."""
    row = statements.fetchone(
        _RESERVATION_OF_CUSTOMER, {"number": number, "customer": customer_id}
    )
    return None if row is None else _reservation_from_row(row)


def reservation_by_token(
    *, raw_token: str, number: str
) -> tuple[ApiToken | None, Reservation | None]:
    """reservation_by_number for an API poll, with its token in the same round trip (as
    by_token)."""
    return _polled(
        _RESERVATION_OF_TOKEN, raw_token, number, RESERVATION_NUMBER, _reservation_from_row
    )


_RESERVATION_OF_CUSTOMER = _RESERVATION.replace(_CUSTOMER, "%(customer)s")
_RESERVATION_OF_TOKEN = _with_token(_RESERVATION.replace(_CUSTOMER, _TOKEN_CUSTOMER))


def _reservation_from_row(row: Sequence) -> Reservation:
    reservation, at = statements.instance(Reservation, row, 0)
    reservation.campaign, at = statements.instance(Campaign, row, at)
    reservation.variant, at = statements.instance(Variant, row, at)
    changes = zip(*(column or [] for column in row[at : at + 6]), strict=True)
    reservation._prefetched_objects_cache = {
        "changes": [
            statements.partial(
                ReservationChange,
                dict(zip(CHANGE_FIELDS, (pk, reservation.pk, *rest), strict=True)),
            )
            for pk, *rest in changes
        ],
        "orders": _siblings(reservation, None, *row[at + 6 : at + 10]),
    }
    standing_row = row[at + 10 : at + 14]
    reservation.standing = _standing(*standing_row) if standing_row[0] is not None else None
    return reservation


def _standing(
    place: int, total: int | None, total_at: dt.datetime | None, live_total: int | None
) -> QueueStanding:
    place, total, total_at = lines.standing_from_row(place, total, total_at, live_total)
    return QueueStanding(place=place, total=total, total_at=total_at)
