"""The API's docs page (issue 13): Swagger UI from this repository's static files runs under
the strict Content-Security-Policy (a refused script or style is a console error) and lists
the operations of the live schema."""

import pytest
from playwright.sync_api import Page, expect

from .conftest import SCREENSHOTS

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_docs_page_boots_swagger_ui_from_static_files(page: Page, live_server, page_errors):
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto(f"{live_server.url}/api/v1/docs")
    expect(page.get_by_role("link", name="/api/v1/auth/token", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="/api/v1/campaigns/{slug}", exact=True)).to_be_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "api-docs.png", full_page=True)
    assert all(url.startswith(live_server.url) for url in requested), requested
    assert not page_errors, page_errors
