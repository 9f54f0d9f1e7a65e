"""Conditional GET (RFC 9110 section 13) for responses that are cheap to check and dearer to
render: the caller derives a strong ETag from exactly what the body shows, answers a
matching If-None-Match with `not_modified` (no body rendered), and otherwise renders and
`mark`s the 200 with the same validator.

Both answers say `Cache-Control: private, no-cache`: a browser or app may keep the body but
must ask each time (so a change is never served stale from a cache), and no shared cache
keeps one customer's answer. `Vary` names every request header the body depends on.
"""

import dataclasses
import hashlib
import json

from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.utils.cache import patch_vary_headers
from django.utils.http import parse_etags

CACHE_CONTROL = "private, no-cache"


def _plain(value: object) -> object:
    # A dataclass by its fields (as dataclasses.asdict, without its deep copy: a poll
    # hashes its facts every time); dates and anything else by str().
    return vars(value) if dataclasses.is_dataclass(value) else str(value)


def strong_etag(value: object) -> str:
    """A strong validator for `value` (JSON-able, dataclasses by their fields, dates and
    other objects by str()): the same value always gives the same tag, any change gives
    another."""
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), default=_plain)
    return '"' + hashlib.sha256(canonical.encode()).hexdigest()[:32] + '"'


def _opaque(tag: str) -> str:
    return tag.removeprefix("W/")


def none_match(request: HttpRequest, etag: str) -> bool:
    """The request's If-None-Match names `etag` (or is `*`): the client has this body.
    If-None-Match compares weakly, so W/"x" matches "x"; a list matches if any member does."""
    header = request.META.get("HTTP_IF_NONE_MATCH", "")
    if not header:
        return False
    tags = parse_etags(header)  # ['*'] for "*"; malformed members are dropped
    return "*" in tags or _opaque(etag) in {_opaque(t) for t in tags}


def mark(response: HttpResponse, etag: str, *, vary: tuple[str, ...]) -> HttpResponse:
    response["ETag"] = etag
    response["Cache-Control"] = CACHE_CONTROL
    if response.has_header("Vary"):
        patch_vary_headers(response, vary)
    else:  # the same header, without parsing the one that is not there (every poll)
        response["Vary"] = ", ".join(vary)
    return response


def not_modified(etag: str, *, vary: tuple[str, ...]) -> HttpResponse:
    """304: the same validator and caching headers as the 200 would carry, and no body."""
    return mark(HttpResponseNotModified(), etag, vary=vary)
