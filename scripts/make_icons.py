"""Draws the app icons (PNG) from preorder_shop/static/img/app-icon.svg with the browser the
test suite already uses. Run once after changing the SVG and commit the PNGs:

    .venv/bin/python scripts/make_icons.py
"""

from pathlib import Path

from playwright.sync_api import sync_playwright

IMG = Path(__file__).resolve().parents[1] / "preorder_shop" / "static" / "img"
SIZES = {"icon-192.png": 192, "icon-512.png": 512, "apple-touch-icon.png": 180}


def main() -> None:
    svg = (IMG / "app-icon.svg").read_text()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        for name, size in SIZES.items():
            page = browser.new_page(viewport={"width": size, "height": size})
            page.set_content(
                "<html><body style='margin:0'>"
                + svg.replace("<svg ", f"<svg width='{size}' height='{size}' ", 1)
                + "</body></html>"
            )
            page.screenshot(path=IMG / name, omit_background=True)
            page.close()
            print(f"{name}: {size}x{size}")
        browser.close()


if __name__ == "__main__":
    main()
