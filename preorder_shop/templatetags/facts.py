"""{% facts "slot" name=value ... as facts %}: the facts upper apps add to this text
(preorder_shop.pages), e.g. a notification's `{{ facts.expected_delivery }}`."""

from django import template

from preorder_shop.pages import page_facts

register = template.Library()


@register.simple_tag
def facts(slot: str, **objects) -> dict[str, object]:
    return page_facts(slot, **objects)
