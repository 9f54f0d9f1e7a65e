"""Charts drawn on the server as SVG: no script, no CDN, readable without either.

A chart is a value to put in a template (`{{ chart }}`): a <figure> with an SVG that has
role="img", a <title> and a <desc> (what a screen reader reads), a mark per value with its
own <title> (the tooltip), a legend when there are several series, and the same numbers as
a table under it. Numbers are formatted in the active language's format; the words are the
caller's (translated) and the component's own (gettext).

    chart = bar_chart(
        name="opened", title=_("Tickets opened"), description=_("Per day, every category"),
        labels=[...], series=[Series(_("Tickets"), [3, 0, 5])],
    )

Geometry is computed here and handed to the templates (templates/charts/) as strings, so
a template never does arithmetic and an SVG coordinate is never localised ("1,5").
"""

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.template.loader import render_to_string
from django.utils import formats
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from .commands import display_width

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 12, 40  # room for the axis labels
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
MAX_X_LABELS = 12  # more labels than this are thinned to every n-th
CHAR_PX = 6  # a column of the axis's 11 px text, about
# Distinguishable colours, and dash patterns so lines differ without colour too.
COLOURS = ("#1c64b4", "#c2410c", "#2f7d32", "#7b2d8e", "#52606d")
DASHES = ("", "6 3", "2 3", "8 3 2 3", "1 2")

Format = Callable[[float], str]
# Each rounds first: Django's number_format cuts decimals off (2/3 would read "66%").


def number(decimals: int = 0) -> Format:
    """Values as numbers in the active language's format (grouping included)."""
    return lambda value: formats.number_format(
        round(value, decimals), decimals, force_grouping=True
    )


def percent(value: float) -> str:
    """A share (0..1) as a whole percentage."""
    return f"{formats.number_format(round(value * 100), 0)}%"  # the same sign in ko and en


def minutes(value: float) -> str:
    """A number of minutes."""
    return _("%(value)s min") % {
        "value": formats.number_format(round(value), 0, force_grouping=True)
    }


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[float | None]  # None: no value (drawn as a gap, "—" in the table)


@dataclass(frozen=True)
class Chart:
    kind: str  # "bar" or "line"
    name: str  # unique on its page: the element ids derive from it
    title: str
    description: str
    labels: Sequence[str]
    series: Sequence[Series]
    value_format: Format = field(default_factory=number)
    maximum: float | None = None  # the top of the value axis (e.g. 1 for shares)
    counts: bool = False  # whole numbers: the axis steps by 1 at least

    def __post_init__(self):
        if self.kind not in ("bar", "line"):
            raise ValueError(f"unknown chart kind {self.kind!r}")
        if not self.series:
            raise ValueError("a chart needs at least one series")
        for series in self.series:
            if len(series.values) != len(self.labels):
                raise ValueError(f"series {series.label!r} has not one value per label")

    def __html__(self) -> SafeString:
        return self.render()

    def __str__(self) -> str:
        return self.render()

    def render(self) -> SafeString:
        return render_to_string("charts/chart.html", self.context())

    def context(self) -> dict:
        ticks = axis_ticks(self._largest(), self.maximum, counts=self.counts)
        top = ticks[-1]
        return {
            "chart": self,
            "id": f"chart-{self.name}",
            "width": WIDTH,
            "height": HEIGHT,
            "plot": {
                "left": LEFT,
                "right": WIDTH - RIGHT,
                "top": TOP,
                "bottom": TOP + PLOT_H,
            },
            "y_ticks": [
                {"y": _coord(_y(tick, top)), "text": self.value_format(tick)} for tick in ticks
            ],
            "x_labels": self._x_labels(),
            "marks": self._bars(top) if self.kind == "bar" else self._lines(top),
            "legend": [
                {
                    "label": s.label,
                    "colour": COLOURS[i % len(COLOURS)],
                    "dash": DASHES[i % len(DASHES)] if self.kind == "line" else "",
                }
                for i, s in enumerate(self.series)
            ]
            if len(self.series) > 1
            else [],
            "rows": [
                {"label": label, "cells": [self._text(s.values[i]) for s in self.series]}
                for i, label in enumerate(self.labels)
            ],
        }

    def _largest(self) -> float:
        return max((v for s in self.series for v in s.values if v is not None), default=0)

    def _text(self, value: float | None) -> str:
        return "—" if value is None else self.value_format(value)

    def _slot(self) -> float:
        return PLOT_W / max(len(self.labels), 1)

    def _x_labels(self) -> list[dict]:
        every = math.ceil(len(self.labels) / MAX_X_LABELS) or 1
        room = every * self._slot()
        return [
            {"x": _coord(LEFT + (i + 0.5) * self._slot()), "text": fit(label, room)}
            for i, label in enumerate(self.labels)
            if i % every == 0
        ]

    def _tooltip(self, series: Series, i: int) -> str:
        value = self._text(series.values[i])
        if len(self.series) == 1:
            return f"{self.labels[i]}: {value}"
        return f"{self.labels[i]} · {series.label}: {value}"

    def _bars(self, top: float) -> list[dict]:
        slot = self._slot()
        width = slot * 0.8 / len(self.series)
        bars = []
        for j, series in enumerate(self.series):
            for i, value in enumerate(series.values):
                if value is None:
                    continue
                y = _y(value, top)
                bars.append(
                    {
                        "x": _coord(LEFT + i * slot + slot * 0.1 + j * width),
                        "y": _coord(y),
                        "width": _coord(width),
                        "height": _coord(TOP + PLOT_H - y),
                        "colour": COLOURS[j % len(COLOURS)],
                        "tooltip": self._tooltip(series, i),
                    }
                )
        return bars

    def _lines(self, top: float) -> list[dict]:
        """Per series: its polylines (a gap at each missing value) and its points."""
        slot, lines = self._slot(), []
        for j, series in enumerate(self.series):
            segments, points, current = [], [], []
            for i, value in enumerate(series.values):
                if value is None:
                    if current:
                        segments.append(" ".join(current))
                    current = []
                    continue
                x, y = _coord(LEFT + (i + 0.5) * slot), _coord(_y(value, top))
                current.append(f"{x},{y}")
                points.append({"x": x, "y": y, "tooltip": self._tooltip(series, i)})
            if current:
                segments.append(" ".join(current))
            lines.append(
                {
                    "segments": segments,
                    "points": points,
                    "colour": COLOURS[j % len(COLOURS)],
                    "dash": DASHES[j % len(DASHES)],
                }
            )
        return lines


def bar_chart(**kwargs) -> Chart:
    """Bars per label, one per series side by side (see Chart for the arguments)."""
    return Chart(kind="bar", **kwargs)


def line_chart(**kwargs) -> Chart:
    """A line per series across the labels, broken where a value is missing."""
    return Chart(kind="line", **kwargs)


def axis_ticks(
    largest: float, maximum: float | None = None, *, counts: bool = False
) -> list[float]:
    """0 and round steps (1, 2 or 5 times a power of ten; at least 1 for counts) up to at
    least `largest` (or `maximum` when given), at most 4 steps."""
    top = maximum if maximum is not None else largest
    if top <= 0:
        return [0, 1]
    rough = top / 4
    power = 10 ** math.floor(math.log10(rough))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= rough)
    if counts:
        step = max(step, 1)
    count = math.ceil(round(top / step, 9))
    return [round(step * n, 9) for n in range(count + 1)]


def fit(label: str, room: float) -> str:
    """`label` cut with an ellipsis to fit `room` pixels on the axis (the tooltip and the
    table keep it whole): about 6 px a column at the axis's size, Hangul two columns."""
    columns = max(int(room // CHAR_PX) - 1, 1)
    if display_width(label) <= columns:
        return label
    while label and display_width(label) > columns - 1:
        label = label[:-1]
    return label.rstrip() + "…"


def _y(value: float, top: float) -> float:
    return TOP + PLOT_H - max(0.0, min(value / top, 1.0)) * PLOT_H


def _coord(value: float) -> str:
    return f"{value:.1f}"
