"""Reading rendered pages in tests."""

import html
import re


def text(response) -> str:
    """The page's text as a reader sees it: whitespace collapsed, entities decoded."""
    return html.unescape(re.sub(r"\s+", " ", response.content.decode()))
