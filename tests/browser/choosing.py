"""Choosing a phone on the campaign page, as a customer taps it: model, capacity, colour,
way of receiving (one tap each), with or without JavaScript. Shared by the browser tests
that need a reservation."""

from playwright.sync_api import Page, expect

from reservations.models import Variant


def steps(variant: Variant, fulfilment: str) -> list[tuple[str, str]]:
    return [
        ("model", variant.model_name),
        ("capacity", str(variant.capacity_gb)),
        ("colour", variant.colour),
        ("fulfilment", fulfilment),
    ]


def option(page: Page, step: str, value: str):
    return page.locator(f"#chooser button[name={step}][value='{value}']")


def choose(page: Page, taps, variant: Variant, fulfilment: str, *, after_each=None) -> None:
    """Tap the four choices; each one is pressed once the step has answered (an htmx swap,
    or a new page without JavaScript). `after_each(step)` runs after every step."""
    for step, value in steps(variant, fulfilment):
        taps.click(option(page, step, value))
        expect(option(page, step, value)).to_have_attribute("aria-pressed", "true")
        if after_each:
            after_each(step)


def reserve_button(page: Page):
    return page.locator("form[action$='/reserve/'] button[type=submit]")
