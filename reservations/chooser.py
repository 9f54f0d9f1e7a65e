"""The campaign page's phone chooser: model, then capacity, then colour, then the way to
receive it.

The choices so far travel as plain GET parameters (model, capacity, colour, fulfilment), so
every step is an ordinary link-like form submission without JavaScript and an in-place swap
with htmx. This module turns those parameters and the campaign's variants (with their live
counts) into the steps to show; it queries nothing itself. A value that does not fit (a
tampered parameter, a colour the newly chosen capacity does not come in) is dropped, and
the step asks again, so the page never shows a choice the campaign cannot sell.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.utils.text import slugify
from django.utils.translation import gettext as _

from preorder_shop.money import won

from .models import Campaign, Variant

STEPS = ("model", "capacity", "colour", "fulfilment")


@dataclass(frozen=True)
class Option:
    value: str  # the GET parameter's value
    label: str
    variants: tuple[Variant, ...] = ()  # every variant this option still leaves open
    chosen: bool = False

    @property
    def variant_ids(self) -> list[int]:
        return [v.pk for v in self.variants]

    @property
    def in_line(self) -> int:
        """Reservations holding a place for these variants (annotated by the selector)."""
        return sum(v.reserved for v in self.variants)

    @property
    def price(self) -> str:
        """One price, or "from" the lowest when the variants left open differ."""
        prices = {v.price_krw for v in self.variants}
        if not prices:
            return ""
        if len(prices) == 1:
            return won(prices.pop())
        return _("from %(price)s") % {"price": won(min(prices))}

    @property
    def swatch(self) -> str:
        """The colour step's CSS class (reservations/static/reservations/chooser.css)."""
        return f"swatch-{slugify(self.value)}"


@dataclass(frozen=True)
class Step:
    name: str
    number: int
    title: str
    options: list[Option]

    @property
    def chosen(self) -> Option | None:
        return next((o for o in self.options if o.chosen), None)

    @property
    def then(self) -> str:
        """The id a plain (no-JavaScript) page load scrolls to after this step: the next."""
        later = STEPS[STEPS.index(self.name) + 1 :]
        return f"step-{later[0]}" if later else "summary"


@dataclass(frozen=True)
class Chooser:
    steps: list[Step]  # the steps reached so far: each one after the previous is chosen
    choices: dict[str, str] = field(default_factory=dict)  # only values that fit
    dropped: bool = False  # a value given did not fit and was left out
    variant: Variant | None = None
    fulfilment_label: str = ""

    @property
    def fulfilment(self) -> str:
        return self.choices.get("fulfilment", "")

    @property
    def complete(self) -> bool:
        return self.variant is not None and bool(self.fulfilment)

    @property
    def next_step(self) -> Step | None:
        return next((s for s in self.steps if s.chosen is None), None)

    @property
    def missing_message(self) -> str:
        """What to choose next, in the customer's words; empty when everything is chosen."""
        step = self.next_step
        return PROMPTS[step.name]() if step else ""

    @property
    def summary(self) -> list[str]:
        return [s.chosen.label for s in self.steps if s.chosen]

    @property
    def price(self) -> str:
        last = next((s.chosen for s in reversed(self.steps[:3]) if s.chosen), None)
        return last.price if last else ""

    def query(self) -> str:
        return urlencode(self.choices)


PROMPTS = {
    "model": lambda: _("Choose a model."),
    "capacity": lambda: _("Choose a capacity."),
    "colour": lambda: _("Choose a colour."),
    "fulfilment": lambda: _("Choose how you want to receive the phone."),
}


def _titles() -> dict[str, str]:
    return {
        "model": _("Model"),
        "capacity": _("Capacity"),
        "colour": _("Colour"),
        "fulfilment": _("How you receive it"),
    }


def build(campaign: Campaign, variants: Iterable[Variant], params: Mapping[str, str]) -> Chooser:
    """The steps for these choices; `variants` are the campaign's, annotated with
    `reserved` (selectors.variants_with_counts) and ordered by model, capacity, colour."""
    titles = _titles()
    left = list(variants)
    steps: list[Step] = []
    choices: dict[str, str] = {}
    dropped = False

    narrowing = (
        ("model", lambda v: v.model_name, lambda v: v.model_name),
        ("capacity", lambda v: str(v.capacity_gb), lambda v: v.capacity_label),
        ("colour", lambda v: v.colour, lambda v: v.colour),
    )
    reached = True
    for number, (name, key, label) in enumerate(narrowing, start=1):
        wanted = str(params.get(name) or "")
        if not reached:
            dropped |= bool(wanted) and not _fits(left, key, wanted)
            if wanted and _fits(left, key, wanted):
                choices[name] = wanted  # kept for when the earlier step is chosen
            continue
        groups: dict[str, list[Variant]] = {}
        for v in left:
            groups.setdefault(key(v), []).append(v)
        options = [
            Option(value=k, label=label(vs[0]), variants=tuple(vs), chosen=k == wanted)
            for k, vs in groups.items()
        ]
        steps.append(Step(name=name, number=number, title=titles[name], options=options))
        if wanted in groups:
            choices[name] = wanted
            left = groups[wanted]
        else:
            dropped |= bool(wanted)
            reached = False

    variant = left[0] if reached and len(left) == 1 else None
    offered = campaign.fulfilment_choices()
    wanted = str(params.get("fulfilment") or "")
    way_label = dict(offered).get(wanted, "")
    if way_label:
        choices["fulfilment"] = wanted
    else:
        dropped |= bool(wanted)
    if variant is not None:
        options = [
            Option(value=value, label=label, chosen=value == wanted) for value, label in offered
        ]
        steps.append(
            Step(name="fulfilment", number=4, title=titles["fulfilment"], options=options)
        )
    # Order the carried choices as the steps are, so URLs read model first.
    choices = {name: choices[name] for name in STEPS if name in choices}
    return Chooser(
        steps=steps,
        choices=choices,
        dropped=dropped,
        variant=variant,
        fulfilment_label=way_label if variant is not None else "",
    )


def _fits(variants: list[Variant], key, wanted: str) -> bool:
    """Whether a later step's value can still be chosen at all in this campaign (checked
    properly once the earlier steps are chosen)."""
    return any(key(v) == wanted for v in variants)


def choices_of(variant: Variant, fulfilment: str) -> dict[str, str]:
    """The GET parameters that choose `variant` and `fulfilment` again (after a refusal)."""
    choices = {
        "model": variant.model_name,
        "capacity": str(variant.capacity_gb),
        "colour": variant.colour,
    }
    if fulfilment:
        choices["fulfilment"] = fulfilment
    return choices


def posted_choices(data: Mapping[str, str], variant: Variant | None) -> dict[str, str]:
    """The choices of a refused submission: those of its variant when it names one of the
    campaign's, else the chooser's fields it carried."""
    if variant is not None:
        return choices_of(variant, str(data.get("fulfilment") or ""))
    return {name: str(data[name]) for name in STEPS if data.get(name)}
