"""The SVG chart component (preorder_shop.charts): what a screen reader and a browser without
script get (role, title, description, the table), where the marks go, and numbers in the
active language's format while coordinates never are."""

import xml.etree.ElementTree as ET

import pytest
from django.template import Context, Template
from django.utils import translation

from preorder_shop import charts
from preorder_shop.charts import PLOT_H, TOP, Series, axis_ticks, bar_chart, line_chart

SVG = "{http://www.w3.org/2000/svg}"


def parsed(chart) -> ET.Element:
    """The rendered figure as XML: it must be well-formed (SVG is XML)."""
    return ET.fromstring(str(chart))  # noqa: S314 - our own output


def main_svg(figure: ET.Element) -> ET.Element:
    return figure.find(f"{SVG}svg")


def opened(**kwargs):
    fields = {
        "name": "opened",
        "title": "Tickets opened",
        "description": "Per day, every category",
        "labels": ["9/21", "9/22", "9/23"],
        "series": [Series("Tickets", [4, 2, None])],
        "counts": True,
    }
    return bar_chart(**{**fields, **kwargs})


def test_the_svg_is_an_image_named_by_its_title_and_description():
    svg = main_svg(parsed(opened()))

    assert svg.get("role") == "img"
    title, desc = svg.find(f"{SVG}title"), svg.find(f"{SVG}desc")
    assert (title.text, desc.text) == ("Tickets opened", "Per day, every category")
    assert svg.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert title.get("id") == "chart-opened-title"


def test_a_bar_per_value_scaled_to_the_axis_with_its_own_tooltip():
    svg = main_svg(parsed(opened()))

    bars = svg.findall(f".//{SVG}rect")
    assert [bar.find(f"{SVG}title").text for bar in bars] == ["9/21: 4", "9/22: 2"]  # no None
    heights = [float(bar.get("height")) for bar in bars]
    assert heights == pytest.approx([PLOT_H, PLOT_H / 2], abs=0.1)  # axis 0..4
    assert float(bars[0].get("y")) == pytest.approx(TOP, abs=0.1)
    ticks = [t.text for t in svg.findall(f".//{SVG}g[@class='chart-axis']/{SVG}text")]
    assert ticks[:3] == ["0", "1", "2"]  # counts step by whole numbers
    assert ticks[-3:] == ["9/21", "9/22", "9/23"]


def test_a_line_breaks_where_a_value_is_missing():
    chart = line_chart(
        name="response",
        title="First response",
        description="p50 and p90 per day, in minutes",
        labels=["a", "b", "c", "d"],
        series=[Series("p50", [10, None, 20, 30]), Series("p90", [40, 50, 60, 70])],
        value_format=charts.minutes,
    )
    svg = main_svg(parsed(chart))

    lines = svg.findall(f".//{SVG}polyline")
    assert [len(line.get("points").split()) for line in lines] == [1, 2, 4]
    assert lines[0].get("stroke") != lines[2].get("stroke")
    assert lines[0].get("stroke-dasharray") is None and lines[2].get("stroke-dasharray")
    tooltips = [c.find(f"{SVG}title").text for c in svg.findall(f".//{SVG}circle")]
    assert tooltips[:3] == ["a · p50: 10 min", "c · p50: 20 min", "d · p50: 30 min"]


def test_several_series_have_a_legend_and_one_does_not():
    two = parsed(opened(series=[Series("Opened", [1, 2, 3]), Series("Answered", [1, 1, 0])]))

    legend = two.find("figcaption/span[@class='chart-legend']")
    assert "Opened" in "".join(legend.itertext()) and "Answered" in "".join(legend.itertext())
    assert len(main_svg(two).findall(f".//{SVG}rect")) == 6  # a zero is a bar too
    assert parsed(opened()).find("figcaption/span[@class='chart-legend']") is None


def test_the_title_is_shown_above_the_chart_too():
    assert parsed(opened()).find("figcaption/strong").text == "Tickets opened"


def test_long_labels_are_cut_on_the_axis_only():
    labels = ["Where is my phone / delivery", "취소", "배송지 또는 배송 정보 변경", "Other"] * 2
    figure = parsed(opened(labels=labels, series=[Series("Rate", [1] * 8)]))

    axis = [t.text for t in main_svg(figure).findall(f".//{SVG}g[@class='chart-axis']/{SVG}text")]
    assert axis[-8:] == ["Where is…", "취소", "배송지 또…", "Other"] * 2
    assert figure.findall("details/table/tbody/tr/th")[0].text == labels[0]
    tooltip = main_svg(figure).find(f".//{SVG}rect/{SVG}title").text
    assert tooltip == "Where is my phone / delivery: 1"


def test_fit():
    assert charts.fit("abcdef", 100) == "abcdef"
    assert charts.fit("abcdefghijklmnopqrstuvwxyz", 60) == "abcdefgh…"
    assert charts.fit("가나다라마바사", 40) == "가나…"


def test_the_same_numbers_as_a_table():
    table = parsed(opened()).find("details/table")

    assert table.find("caption").text == "Tickets opened"
    assert [th.text for th in table.findall("thead/tr/th")] == ["Tickets"]
    rows = [[cell.text for cell in row] for row in table.findall("tbody/tr")]
    assert rows == [["9/21", "4"], ["9/22", "2"], ["9/23", "—"]]


def test_numbers_follow_the_language_and_coordinates_never_do():
    chart = opened(
        series=[Series("Tickets", [12345.5, 2, 0])], value_format=charts.number(1), counts=False
    )
    with translation.override("de"):
        figure = parsed(chart)
    cells = [row.findall("td")[0].text for row in figure.findall("details/table/tbody/tr")]
    assert cells == ["12.345,5", "2,0", "0,0"]
    for bar in main_svg(figure).findall(f".//{SVG}rect"):
        float(bar.get("x")), float(bar.get("height"))  # "12,3" would not parse
    with translation.override("ko"):
        assert charts.percent(0.5) == "50%"
        assert charts.percent(2 / 3) == "67%"  # rounded, not cut
        assert charts.minutes(64.6) == "65분"
        assert charts.number()(1234567) == "1,234,567"


def test_words_are_escaped():
    figure = parsed(opened(title="<script>alert(1)</script>", labels=["<b>", "&", "'"]))

    assert main_svg(figure).find(f"{SVG}title").text == "<script>alert(1)</script>"
    assert figure.find(".//script") is None


def test_a_chart_renders_where_a_template_names_it():
    html = Template("{{ chart }}").render(Context({"chart": opened()}))

    assert html.startswith('\n<figure class="chart chart-bar" id="chart-opened">')


def test_many_labels_are_thinned_on_the_axis_but_all_in_the_table():
    labels = [f"d{n}" for n in range(30)]
    figure = parsed(opened(labels=labels, series=[Series("Tickets", list(range(30)))]))

    axis = [t.text for t in main_svg(figure).findall(f".//{SVG}g[@class='chart-axis']/{SVG}text")]
    assert [t for t in axis if t.startswith("d")] == [f"d{n}" for n in range(0, 30, 3)]
    assert len(figure.findall("details/table/tbody/tr")) == 30


@pytest.mark.parametrize(
    ("largest", "maximum", "counts", "ticks"),
    [
        (7, None, False, [0, 2, 4, 6, 8]),
        (9, None, False, [0, 5, 10]),
        (1, None, True, [0, 1]),
        (0.3, None, False, [0, 0.1, 0.2, 0.3]),
        (0.4, 1, False, [0, 0.5, 1]),
        (0, None, False, [0, 1]),
        (1234, None, False, [0, 500, 1000, 1500]),
    ],
)
def test_axis_ticks_are_round(largest, maximum, counts, ticks):
    assert axis_ticks(largest, maximum, counts=counts) == ticks


def test_a_series_must_have_a_value_per_label():
    with pytest.raises(ValueError, match="one value per label"):
        opened(series=[Series("Tickets", [1, 2])])
    with pytest.raises(ValueError, match="kind"):
        charts.Chart(kind="pie", name="x", title="", description="", labels=[], series=[])
