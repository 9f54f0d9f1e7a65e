"""The browser harness: Playwright driving Debian's Chromium against a live server.

Every test here runs against pytest-django's live server (a real thread serving the app on
the test's PostgreSQL database and Redis), in a phone-sized context: 360x740, Korean by
default, Seoul time. After each page a test calls `look(page, "name")`, which

- runs axe-core in the page and fails on any serious or critical violation not listed in
  ALLOWED_AXE_EXCEPTIONS (empty: nothing is excused today),
- fails if the page scrolls sideways (document scrollWidth wider than the viewport),
- fails on any console error or uncaught page error so far (CSP refusals show up here),
- writes a full-page screenshot to .local/screenshots/<test>/<nn>-<name>.png (git-ignored),
  so a person can look at every page of the last run.

Chromium and a Korean font come from Debian (scripts/stack.sh: ensure_browser, run by
`make test`); Playwright's own browser download is not used.
"""

import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from axe_playwright_python.base import AXE_SCRIPT  # axe-core, bundled (MPL-2.0)
from playwright.sync_api import BrowserContext, ConsoleMessage, Page

from orders.demo import ensure_demo_plans
from reservations.demo import ensure_demo_campaign
from reservations.models import Campaign
from reservations.tests.factories import ReservationFactory

# Playwright's sync API runs an asyncio event loop in this thread for the whole session;
# Django refuses ORM calls from a thread with a running loop unless told it is safe. It is
# here: the test's own ORM calls (seeding, checks) are plain synchronous code.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
WIDTH, HEIGHT = 360, 740
SCREENSHOTS = Path(__file__).resolve().parents[2] / ".local" / "screenshots"

# axe-core rule ids excused from the serious/critical check, each with the reason. Empty:
# a new entry needs a reason a reviewer accepts, and an issue to remove it again.
ALLOWED_AXE_EXCEPTIONS: dict[str, str] = {}
FAILING_IMPACTS = {"serious", "critical"}

LANGUAGES = {
    "ko": {"locale": "ko-KR", "accept_language": "ko-KR,ko;q=0.9"},
    "en": {"locale": "en-US", "accept_language": "en-US,en;q=0.9"},
}


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"{CHROMIUM} is missing: run the tests with `make test` "
            "(or apt-get install chromium fonts-nanum)"
        )
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": ["--no-sandbox"]}


@pytest.fixture
def lang() -> str:
    """The customer's language; a test parametrizes it to walk in English too."""
    return "ko"


@pytest.fixture
def browser_context_args(browser_context_args: dict, lang: str) -> dict:
    chosen = LANGUAGES[lang]
    return {
        **browser_context_args,
        "viewport": {"width": WIDTH, "height": HEIGHT},
        "screen": {"width": WIDTH, "height": HEIGHT},
        "device_scale_factor": 1,
        "is_mobile": True,
        "has_touch": True,
        "locale": chosen["locale"],
        "timezone_id": "Asia/Seoul",
        "extra_http_headers": {"Accept-Language": chosen["accept_language"]},
    }


@pytest.fixture(autouse=True)
def _browser_settings(settings, live_server) -> None:
    """The live server shows the one-time code on the page, so the browser signs in like a
    person reading the SMS."""
    settings.OTP_SHOW_CODE_ON_PAGE = True


@pytest.fixture
def page_errors(context: BrowserContext) -> Iterator[list[str]]:
    """Console errors and uncaught exceptions of every page of the context; the test fails
    on any (checked after each page by `look`, and once more at the end)."""
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(
                f"console error on {message.page.url if message.page else '?'}: "
                f"{message.text} ({message.location.get('url', '')})"
            )

    def watch(page: Page) -> None:
        page.on("pageerror", lambda exc: errors.append(f"page error on {page.url}: {exc}"))

    context.on("console", on_console)
    context.on("page", watch)
    for page in context.pages:
        watch(page)
    yield errors
    assert not errors, "\n".join(errors)


def axe_violations(page: Page) -> list[dict]:
    """axe-core's serious and critical violations on the page, minus the allowed ones."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SCRIPT)  # through the DevTools protocol: the page's CSP allows it
    results = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        v
        for v in results["violations"]
        if v["impact"] in FAILING_IMPACTS and v["id"] not in ALLOWED_AXE_EXCEPTIONS
    ]


def describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} {v['helpUrl']}")
        for node in v["nodes"][:5]:
            lines.append(f"    {node['target']}: {node.get('failureSummary', '')!r}")
    return "\n".join(lines)


@pytest.fixture
def look(request, page_errors: list[str]) -> Callable[..., None]:
    """look(page, name, axe=True): check the page as it is now and screenshot it."""
    folder = SCREENSHOTS / re.sub(r"[^\w.-]+", "_", request.node.name).strip("_")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    count = 0

    def check(page: Page, name: str, *, axe: bool = True) -> None:
        nonlocal count
        count += 1
        page.wait_for_load_state("load")
        page.screenshot(path=folder / f"{count:02d}-{name}.png", full_page=True)
        if page_errors:
            found = "\n".join(page_errors)
            page_errors.clear()  # reported here, not once more at teardown
            pytest.fail(f"{name} ({page.url}):\n{found}")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= WIDTH, f"{name} ({page.url}) scrolls sideways: {width}px wide"
        if axe:
            found = axe_violations(page)
            assert not found, f"axe on {name} ({page.url}):\n{describe(found)}"

    return check


class Taps:
    """Every tap, choice or field filled by the customer, counted."""

    def __init__(self) -> None:
        self.count = 0

    def click(self, locator) -> None:
        self.count += 1
        locator.click()

    def check(self, locator) -> None:
        self.count += 1
        locator.check()

    def fill(self, locator, value: str) -> None:
        self.count += 1
        locator.fill(value)


@pytest.fixture
def taps() -> Taps:
    return Taps()


@pytest.fixture
def campaign() -> Campaign:
    """The demo campaign (40 variants, three ways of receiving, rate plans), with a few
    customers already in line."""
    campaign = ensure_demo_campaign()
    ensure_demo_plans(campaign)
    variants = list(campaign.variants.order_by("pk")[:3])
    for variant in variants:
        ReservationFactory(variant=variant)
    return campaign


def sign_in(page: Page, look, taps: Taps, *, phone: str, name: str) -> None:
    """From a page with a sign-in link: phone and name, then the code the page shows."""
    taps.click(page.locator("main a[href^='/signin/']").first)
    look(page, "signin")
    taps.fill(page.locator("input[name=phone]"), phone)
    taps.fill(page.locator("input[name=name]"), name)
    taps.click(page.locator("main form button[type=submit]"))
    page.wait_for_url(re.compile(r"/signin/code/"))
    look(page, "signin-code")
    code = page.get_by_test_id("dev-code").inner_text().strip()
    taps.fill(page.locator("input[name=code]"), code)
    with page.expect_navigation():
        taps.click(page.locator("main form:has(input[name=code]) button[type=submit]"))
