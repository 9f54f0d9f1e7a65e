"""Pages that span the layers, without a lower app importing an upper one.

Two registries, filled by apps in their AppConfig.ready() (so what is registered is fixed
once the apps are loaded, and nothing registers on import by accident):

- Panels: an upper app contributes content to a named slot of a lower app's page. The
  lower app's template renders the slot, `{% panels "reservation_page" reservation=... %}`
  (preorder_shop/templatetags/panels.py), passing the page's objects; each panel's context
  function gets them and returns its template's context, or None to show nothing. Fulfilment
  adds "a phone is reserved for you", the festival draw and stock arrivals; support and
  events will add notices and banners the same way.
- Page names: the app that owns the page showing a lower app's object names its URL here,
  so the lower app can link to it (`page_url("reservation", number=...)`) without knowing
  which app that is.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.template.loader import render_to_string
from django.urls import reverse

# Every slot a page renders; registering for another is a mistake caught at start-up.
SLOTS = frozenset({"campaign_page", "campaign_page_end", "reservation_page", "order_page"})
PAGES = frozenset({"reservation"})


@dataclass(frozen=True)
class Panel:
    template: str
    context: Callable[..., dict | None]  # the page's objects as keywords -> context or None
    order: int = 100  # lower first


_panels: dict[str, list[Panel]] = {slot: [] for slot in SLOTS}
_pages: dict[str, str] = {}


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


def name_page(kind: str, url_name: str) -> None:
    if kind not in PAGES:
        raise ValueError(f"unknown page {kind!r}; pages are {sorted(PAGES)}")
    _pages[kind] = url_name


def page_url(kind: str, **kwargs) -> str:
    return reverse(_pages[kind], kwargs=kwargs)
