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
from dataclasses import dataclass

from django.db import connection

from preorder_shop import statements
from preorder_shop.pages import FACT_SQL, fact_sql
from reservations import lines
from reservations.models import HOLDING_STATUSES, Campaign, Reservation, Variant
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


def _statement(where: str) -> _Statement:
    facts = fact_sql(SLOT)
    extra = "".join(f",\n       ({sql}) AS fact_{i}" for i, sql in enumerate(facts.values()))
    sql = f"""
SELECT {", ".join(statements.columns(model, alias) for model, alias in _MODELS)},
       h.statuses, h.ats, s.ids, s.statuses, s.numbers, s.submitted_ats,
       st.place, st.total, st.total_at, st.live_total{extra}
  FROM orders_order {ORDER}
  JOIN reservations_reservation {RESERVATION} ON {RESERVATION}.id = {ORDER}.reservation_id
  JOIN reservations_campaign c ON c.id = {RESERVATION}.campaign_id
  JOIN reservations_variant v ON v.id = {RESERVATION}.variant_id
  LEFT JOIN LATERAL (
      SELECT array_agg(t.to_status ORDER BY t.at, t.id) AS statuses,
             array_agg(t.at ORDER BY t.at, t.id) AS ats
        FROM orders_ordertransition t WHERE t.order_id = {ORDER}.id) h ON true
  LEFT JOIN LATERAL (
      SELECT array_agg(x.id ORDER BY x.created_at DESC) AS ids,
             array_agg(x.status ORDER BY x.created_at DESC) AS statuses,
             array_agg(x.number ORDER BY x.created_at DESC) AS numbers,
             array_agg(x.submitted_at ORDER BY x.created_at DESC) AS submitted_ats
        FROM orders_order x WHERE x.reservation_id = {RESERVATION}.id) s ON true
  LEFT JOIN LATERAL ({_STANDING}) st
    ON {RESERVATION}.status IN ({_quoted(HOLDING_STATUSES)})
   AND {ORDER}.status NOT IN ({_quoted(CLOSED_STATUSES)})
 WHERE {where}
"""  # noqa: S608 (model metadata, constants and the registered facts' SQL only)
    return _Statement(sql=sql, facts=tuple(facts))


_statements: dict[str, _Statement] = {}


def _prepared(where: str) -> _Statement:
    # Built on first use: the facts' SQL is registered in the apps' ready().
    if where not in _statements:
        _statements[where] = _statement(where)
    return _statements[where]


def by_number(*, customer_id: int, number: str) -> Order | None:
    """The customer's order numbered `number`, loaded for its status; None otherwise."""
    return _load(
        _prepared(f"{ORDER}.number = %(number)s AND {RESERVATION}.customer_id = %(customer)s"),
        {"number": number, "customer": customer_id},
    )


def by_pk(pk: int) -> Order | None:
    return _load(_prepared(f"{ORDER}.id = %(pk)s"), {"pk": pk})


def _load(statement: _Statement, params: dict) -> Order | None:
    row = statements.fetchone(statement.sql, params)
    if row is None:
        return None
    instances = []
    at = 0
    for model, _alias in _MODELS:
        loaded, at = statements.instance(model, row, at)
        instances.append(loaded)
    order, reservation, campaign, variant = instances
    history_statuses, history_ats, *siblings = row[at : at + 6]
    standing_row = row[at + 6 : at + 10]
    reservation.campaign, reservation.variant = campaign, variant
    order.reservation = reservation
    reservation._prefetched_objects_cache = {"orders": _siblings(order, *siblings)}
    order.history = list(zip(history_statuses or [], history_ats or [], strict=True))
    order.standing = _standing(*standing_row) if standing_row[0] is not None else None
    order.loaded_facts = dict(zip(statement.facts, row[at + 10 :], strict=True))
    return order


def _siblings(order: Order, ids, statuses, numbers, submitted_ats) -> list[Order]:
    """The reservation's orders, newest first; `order` itself as loaded."""
    return [
        order
        if pk == order.pk
        else Order.from_db(connection.alias, SIBLING_FIELDS, (pk, order.reservation_id, *rest))
        for pk, *rest in zip(ids, statuses, numbers, submitted_ats, strict=True)
    ]


def _standing(
    place: int, total: int | None, total_at: dt.datetime | None, live_total: int | None
) -> QueueStanding:
    place, total, total_at = lines.standing_from_row(place, total, total_at, live_total)
    return QueueStanding(place=place, total=total, total_at=total_at)
