"""Pages that span the layers, without a lower app importing an upper one.

Three registries, filled by apps in their AppConfig.ready() (so what is registered is fixed
once the apps are loaded, and nothing registers on import by accident):

- Panels: an upper app contributes content to a named slot of a lower app's page. The
  lower app's template renders the slot, `{% panels "reservation_page" reservation=... %}`
  (preorder_shop/templatetags/panels.py), passing the page's objects; each panel's context
  function gets them and returns its template's context, or None to show nothing. Fulfilment
  adds "a phone is reserved for you", the festival draw, stock arrivals and, on each option
  of the campaign page's phone chooser ("variant_option", given the option's variant ids),
  the next lot's expected arrival; support and events will add notices and banners the same
  way.
- Facts: the same for data rather than HTML. An upper app contributes a named value to a
  slot of a lower app's JSON or message; the lower app asks `page_facts("order_status",
  order=...)` and merges the dict it gets ({name: value}). Fulfilment adds the expected
  delivery to an order's status (the order page's status and the API's, whose ETag hashes
  the facts too) and to notification texts ({% facts %},
  preorder_shop/templatetags/facts.py, rendered in the message's language).
- Page names: the app that owns the page showing a lower app's object names its URL here,
  so the lower app can link to it (`page_url("reservation", number=...)`) without knowing
  which app that is.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.template.loader import render_to_string
from django.urls import reverse

# Every slot a page renders; registering for another is a mistake caught at start-up.
SLOTS = frozenset(
    {
        "campaign_page",
        "campaign_page_end",
        "variant_option",
        "reservation_page",
        "order_page",
        # support's own pages (issue 14): its help page and the ticket form, which show
        # notices and help articles for the chosen category and subject.
        "support_page",
        "ticket_form",
    }
)
PAGES = frozenset({"reservation"})
# Every slot that asks for facts: an order's status (orders.selectors.status_facts, for the
# order page and the API), and a notification's text (whose facts get the message's payload
# as keywords).
FACT_SLOTS = frozenset({"order_status", "notification"})
# Slots whose owner reads its objects in one SQL statement, and the aliases a fact's `sql`
# may use there: an order's status (orders.status_load: o = the order, r = its reservation).
FACT_SQL = {"order_status": ("o", "r")}


@dataclass(frozen=True)
class Panel:
    template: str
    context: Callable[..., dict | None]  # the page's objects as keywords -> context or None
    order: int = 100  # lower first


_panels: dict[str, list[Panel]] = {slot: [] for slot in SLOTS}
_pages: dict[str, str] = {}
_facts: dict[str, dict[str, Callable[..., object]]] = {slot: {} for slot in FACT_SLOTS}
_fact_sql: dict[str, dict[str, str]] = {slot: {} for slot in FACT_SQL}
_fact_changes_at: dict[str, dict[str, str]] = {slot: {} for slot in FACT_SQL}


def add_panel(
    slot: str, *, template: str, context: Callable[..., dict | None], order: int = 100
) -> None:
    if slot not in SLOTS:
        raise ValueError(f"unknown page slot {slot!r}; slots are {sorted(SLOTS)}")
    panel = Panel(template=template, context=context, order=order)
    if panel not in _panels[slot]:  # ready() may run twice in tests
        _panels[slot].append(panel)
        _panels[slot].sort(key=lambda p: p.order)


def render_panels(slot: str, request, **objects) -> str:
    """The HTML of every panel of `slot` that has something to show for these objects."""
    parts = []
    for panel in _panels[slot]:
        context = panel.context(**objects)
        if context is not None:
            parts.append(render_to_string(panel.template, {**objects, **context}, request))
    return "".join(parts)


def add_fact(
    slot: str, name: str, value: Callable[..., object], *, sql: str = "", changes_at: str = ""
) -> None:
    """Contribute `name` to `slot`: value(**objects) -> a JSON-able value (None for
    "nothing to say", which the caller still shows, e.g. as null).

    `sql`, for a slot whose owner loads its objects in one statement (FACT_SQL): an SQL
    expression over that statement's aliases, read in the same statement; its value reaches
    value() as the keyword `loaded`, so a polled fact costs no query of its own.

    `changes_at`, for a fact whose value changes with time alone (no write): an SQL
    expression over the same aliases, the next moment after now() at which it may change
    (a timestamptz; NULL: none), so an answer kept with the fact is kept no longer
    (preorder_shop.kept_answers)."""
    if slot not in FACT_SLOTS:
        raise ValueError(f"unknown fact slot {slot!r}; slots are {sorted(FACT_SLOTS)}")
    if (sql or changes_at) and slot not in FACT_SQL:
        raise ValueError(f"fact slot {slot!r} reads no SQL; only {sorted(FACT_SQL)} do")
    registered = _facts[slot].get(name)
    if registered is not None and registered is not value:
        raise ValueError(f"fact {name!r} of slot {slot!r} is registered twice")
    _facts[slot][name] = value
    if sql:
        _fact_sql[slot][name] = sql
    if changes_at:
        _fact_changes_at[slot][name] = changes_at


def fact_sql(slot: str) -> dict[str, str]:
    """{name: SQL expression} of the facts of `slot` read in its owner's statement."""
    return dict(_fact_sql[slot])


def fact_changes_at(slot: str) -> list[str]:
    """The changes_at SQL expressions of the facts of `slot`, by the facts' names."""
    return [_fact_changes_at[slot][name] for name in sorted(_fact_changes_at[slot])]


def page_facts(slot: str, *, loaded: dict[str, object] | None = None, **objects) -> dict:
    """{name: value} of every fact registered for `slot`, for these objects; `loaded`: the
    values of the slot's fact_sql() expressions, by name, as the owner's statement read them."""
    loaded = loaded or {}
    return {
        name: value(**objects, loaded=loaded[name]) if name in loaded else value(**objects)
        for name, value in _facts[slot].items()
    }


def name_page(kind: str, url_name: str) -> None:
    if kind not in PAGES:
        raise ValueError(f"unknown page {kind!r}; pages are {sorted(PAGES)}")
    _pages[kind] = url_name


def page_url(kind: str, **kwargs) -> str:
    return reverse(_pages[kind], kwargs=kwargs)
