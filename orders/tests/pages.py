"""Comparing two rendered pages of the order app."""

import re

# A CSRF token differs on every render (Django masks it anew).
CSRF_TOKEN = re.compile(r"\b[A-Za-z0-9]{64}\b")


def masked(page: str) -> str:
    """The page with its CSRF tokens blanked, for comparing two renders."""
    return CSRF_TOKEN.sub("<token>", page)
