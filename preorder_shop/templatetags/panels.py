"""{% panels "slot" name=object ... %}: the panels upper apps add to this page
(preorder_shop.pages)."""

from django import template
from django.utils.safestring import mark_safe

from preorder_shop.pages import render_panels

register = template.Library()


@register.simple_tag(takes_context=True)
def panels(context, slot: str, **objects) -> str:
    # Each panel is a rendered template (autoescaped like any page), so the joined HTML is
    # safe as it is.
    return mark_safe(render_panels(slot, context.get("request"), **objects))  # noqa: S308
