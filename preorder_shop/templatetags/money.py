"""{{ variant.price_krw|won }} and {{ plan.monthly_fee_krw|per_month }} (preorder_shop.money)."""

from django import template

from preorder_shop import money

register = template.Library()
register.filter("won", money.won)
register.filter("per_month", money.per_month)
