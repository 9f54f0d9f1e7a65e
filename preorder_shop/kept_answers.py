"""Kept answers: a status poll's last answer, served again until something it shows changes
(issue 13, "cheap to poll, never stale"; migration 0010 explains the tables and why an
answer kept is never stale).

A poll first asks `look_up`: one prepared statement checks the token (tokens.LIVE_BY_HASH)
and finds the answer kept for this number, in this language, for this token's customer,
that no change has marked since it was read and whose time has not run out. Then an
If-None-Match that names its ETag is a 304 and any other request gets the kept body
(`answered`), and nothing is loaded or rendered. Otherwise the endpoint reads and renders
as before and `keep`s what it sent, with the snapshot its statement read (`since`).

The endpoints (orders.api) decide what to keep and for how long; this module knows nothing
of orders. An answer is kept at most LIFETIME, and a mark is kept MARKS_KEPT (`prune`).
"""

import datetime as dt
import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import get_language

from . import statements, tokens
from .conditional import mark, none_match, not_modified
from .models import ApiToken

LIFETIME = dt.timedelta(hours=1)
MARKS_KEPT = dt.timedelta(days=1)
JSON = "application/json; charset=utf-8"

# The snapshot a statement reads, as a column of that statement: pass it to keep() as since.
SINCE_SQL = "pg_snapshot_xmin(pg_current_snapshot())::text"

_LOOK_UP = f"""
SELECT tok.*, k.etag, k.body, k.poll_interval
  FROM ({tokens.LIVE_BY_HASH}) tok
  LEFT JOIN LATERAL (
      SELECT k.etag, k.body, k.poll_interval FROM preorder_shop_kept_answer k
       WHERE k.kind = %(kind)s AND k.number = %(number)s AND k.variant = %(variant)s
         AND k.customer_id = tok.customer_id
         AND k.kept_until > now() AND k.made_at > now() - %(lifetime)s::interval
         AND NOT EXISTS (SELECT FROM preorder_shop_change_mark m WHERE m.scope = 'r'
                            AND m.scope_id = k.reservation_id AND m.xact >= k.since)
         AND NOT EXISTS (SELECT FROM preorder_shop_change_mark m WHERE m.scope = 'v'
                            AND m.scope_id = k.line_id AND m.xact >= k.since)
         AND NOT EXISTS (SELECT FROM preorder_shop_change_mark m WHERE m.scope = 'g'
                            AND m.scope_id = 0 AND m.xact >= k.since)) k ON true
"""  # noqa: S608 (the token's statement and constants only)
_TOKEN_WIDTH = len(tokens.LIVE_COLUMNS)

_KEEP = """
INSERT INTO preorder_shop_kept_answer AS k
       (kind, number, variant, customer_id, reservation_id, line_id, since, kept_until,
        etag, body, poll_interval)
VALUES (%(kind)s, %(number)s, %(variant)s, %(customer)s, %(reservation)s, %(line)s,
        %(since)s::xid8, %(until)s, %(etag)s, %(body)s, %(poll_interval)s)
ON CONFLICT (kind, number, variant) DO UPDATE
   SET customer_id = excluded.customer_id, reservation_id = excluded.reservation_id,
       line_id = excluded.line_id, since = excluded.since, made_at = clock_timestamp(),
       kept_until = excluded.kept_until, etag = excluded.etag, body = excluded.body,
       poll_interval = excluded.poll_interval
"""


@dataclass(frozen=True)
class Kept:
    etag: str
    body: bytes | None  # None: kept from a 304, whose body was not rendered
    poll_interval: int


def _catalogs_digest() -> str:
    digest = hashlib.sha256()
    for folder in settings.LOCALE_PATHS:
        for catalog in sorted(Path(folder).glob("*/LC_MESSAGES/*.mo")):
            digest.update(catalog.read_bytes())
    return digest.hexdigest()[:12]


@functools.cache
def _release() -> str:
    # A new translation is a new wording of the same facts: answers kept before it are not
    # served after it.
    return _catalogs_digest()


def variant(renderer: str) -> str:
    """What else an answer depends on than its facts: the renderer's version (the caller's),
    the active language and time zone, and the translations."""
    return f"{renderer}|{get_language()}|{timezone.get_current_timezone_name()}|{_release()}"


def look_up(
    kind: str, *, raw_token: str, number: str, variant: str
) -> tuple[ApiToken | None, Kept | None]:
    """The live token `raw_token` names (None: not signed in), its use recorded, and the
    answer kept for its customer's `kind` numbered `number` in `variant`, if it still
    stands (None: read and render)."""
    row = statements.fetchone(
        _LOOK_UP,
        {
            **tokens.live_parameters(raw_token),
            "kind": kind,
            "number": number,
            "variant": variant,
            "lifetime": LIFETIME,
        },
    )
    if row is None:
        return None, None
    token = tokens.live_token(row[:_TOKEN_WIDTH])
    etag, body, poll_interval = row[_TOKEN_WIDTH:]
    if etag is None:
        return token, None
    return token, Kept(etag, body, poll_interval)  # psycopg loads bytea as bytes


def answered(request: HttpRequest, kept: Kept, *, vary: tuple[str, ...]) -> HttpResponse | None:
    """The kept answer to this request: a 304 when its If-None-Match names the kept ETag,
    else the kept body; None when only the ETag was kept and the request wants the body."""
    if none_match(request, kept.etag):
        return not_modified(kept.etag, vary=vary)
    if kept.body is None:
        return None
    return mark(HttpResponse(kept.body, content_type=JSON), kept.etag, vary=vary)


@dataclass(frozen=True)
class Answer:
    """What an endpoint keeps of an answer it rendered."""

    kind: str
    number: str
    variant: str
    customer_id: int
    reservation_id: int
    line_id: int  # the variant whose line the answer's place and total are in
    since: str  # SINCE_SQL, read by the statement the answer was rendered from
    until: dt.datetime | None  # the next moment a time passes that the answer depends on
    etag: str
    body: bytes | None
    poll_interval: int


def keep(answer: Answer) -> None:
    """Keep `answer` for the next polls (replacing the one kept before); an answer that may
    change any moment (until now or earlier) is not kept."""
    now = timezone.now()
    if answer.until is not None and answer.until <= now:
        return
    latest = now + LIFETIME
    until = latest if answer.until is None else min(answer.until, latest)
    statements.execute(
        _KEEP,
        {
            "kind": answer.kind,
            "number": answer.number,
            "variant": answer.variant,
            "customer": answer.customer_id,
            "reservation": answer.reservation_id,
            "line": answer.line_id,
            "since": answer.since,
            "until": until,
            "etag": answer.etag,
            "body": answer.body,
            "poll_interval": answer.poll_interval,
        },
    )


def prune() -> tuple[int, int]:
    """Forget answers past LIFETIME and marks past MARKS_KEPT: (answers, marks) deleted."""
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM preorder_shop_kept_answer WHERE made_at <= now() - %s", [LIFETIME]
        )
        answers = cursor.rowcount
        cursor.execute(
            "DELETE FROM preorder_shop_change_mark WHERE at <= now() - %s", [MARKS_KEPT]
        )
        return answers, cursor.rowcount
