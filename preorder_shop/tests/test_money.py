from django.template import Context, Template
from django.utils import translation

from preorder_shop.money import per_month, won


def test_prices_read_the_korean_way_in_korean():
    with translation.override("ko"):
        assert won(1250000) == "1,250,000원"
        assert per_month(55000) == "월 55,000원"


def test_prices_read_the_english_way_in_english():
    with translation.override("en"):
        assert won(1250000) == "₩1,250,000"
        assert per_month(55000) == "₩55,000/month"


def test_template_filters_use_the_same_words():
    template = Template("{% load money %}{{ p|won }} {{ f|per_month }}")
    with translation.override("ko"):
        assert template.render(Context({"p": 990000, "f": 69000})) == "990,000원 월 69,000원"
