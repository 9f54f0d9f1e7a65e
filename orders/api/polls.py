"""The two status polls' one way of answering (issue 13): the order's status and one
reservation. A kept answer that still stands is served as it is (preorder_shop.kept_answers:
a 304 for its ETag, else its body), at the cost of one statement and no rendering; else
the endpoint reads and renders, and what it sends is kept for the next poll."""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from preorder_shop import kept_answers
from preorder_shop.api import signed_in
from preorder_shop.conditional import mark, none_match, not_modified
from preorder_shop.identifiers import IdentifierKind
from reservations.models import Reservation

from .. import polling, selectors

# The body follows the token's customer and the language asked for.
VARY = ("Authorization", "Accept-Language")


@dataclass(frozen=True)
class Fresh:
    """An answer just read (not yet rendered) by an endpoint's own statement."""

    etag: str
    render: Callable[[], bytes]  # the body; called only when the request wants it
    poll_interval: int
    reservation: Reservation  # whose answer: its customer, its line
    since: str  # the snapshot it was read in (kept_answers.SINCE_SQL)
    changes_at: dt.datetime | None  # selectors.changes_at


def polled(
    request: HttpRequest,
    *,
    kind: str,
    number: str,
    identifier: IdentifierKind,
    read: Callable[[str, dt.datetime], Fresh],
) -> HttpResponse:
    """Answer a poll of `kind` numbered `number` (an `identifier`): from the kept answer if
    it stands, else from read(raw token, now), which raises the endpoint's 401 or 404
    itself (a number without the identifier's shape is left to it)."""
    variant = kept_answers.variant(str(selectors.RENDERER_VERSION))
    raw = request.auth.raw
    if identifier.shape.matches(number):
        token, kept = kept_answers.look_up(kind, raw_token=raw, number=number, variant=variant)
        signed_in(request, token)
        if kept is not None and (answer := kept_answers.answered(request, kept, vary=VARY)):
            return polling.set_poll_interval(answer, kept.poll_interval)
    fresh = read(raw, timezone.now())
    body = None
    if none_match(request, fresh.etag):
        answer = not_modified(fresh.etag, vary=VARY)
    else:
        body = fresh.render()
        answer = mark(HttpResponse(body, content_type=kept_answers.JSON), fresh.etag, vary=VARY)
    kept_answers.keep(
        kept_answers.Answer(
            kind=kind,
            number=number,
            variant=variant,
            customer_id=fresh.reservation.customer_id,
            reservation_id=fresh.reservation.pk,
            line_id=fresh.reservation.variant_id,
            since=fresh.since,
            until=fresh.changes_at,
            etag=fresh.etag,
            body=body,
            poll_interval=fresh.poll_interval,
        )
    )
    return polling.set_poll_interval(answer, fresh.poll_interval)
