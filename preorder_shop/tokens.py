"""API tokens: random, stored hashed, sliding 30-day expiry, revocable (issue 13).

A token is `secrets.token_urlsafe(32)`; the database keeps its SHA-256 only, so a leaked
table signs nobody in. A token unused for IDLE_LIFETIME stops working; use slides the
window, but last_used_at is written at most once per TOUCH_EVERY so polls stay cheap.
"""

import datetime as dt
import hashlib
import secrets

from django.db import models
from django.utils import timezone

from . import statements
from .models import ApiToken, Customer

IDLE_LIFETIME = dt.timedelta(days=30)
TOUCH_EVERY = dt.timedelta(minutes=1)
PREFIX_LENGTH = 8


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def issue(customer: Customer, *, device: str = "") -> tuple[ApiToken, str]:
    """A new token for `customer`; the raw token is returned once and never stored."""
    raw = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        customer=customer,
        token_hash=hash_token(raw),
        prefix=raw[:PREFIX_LENGTH],
        device=device[:60],
    )
    return token, raw


def live() -> models.QuerySet[ApiToken]:
    return ApiToken.objects.filter(
        revoked_at__isnull=True, last_used_at__gt=timezone.now() - IDLE_LIFETIME
    )


# live() for one hash, with the customer: every API request runs it, so it is prepared
# (preorder_shop.statements).
_LIVE = "t.token_hash = %(hash)s AND t.revoked_at IS NULL AND t.last_used_at > %(since)s"
_AUTHENTICATE = f"""
SELECT {statements.columns(ApiToken, "t")}, {statements.columns(Customer, "c")}
  FROM preorder_shop_apitoken t JOIN preorder_shop_customer c ON c.id = t.customer_id
 WHERE {_LIVE}
"""  # noqa: S608 (model metadata only)

# live() for one hash as a subquery of a poll's own statement (orders.status_load), which
# authenticates and reads in one round trip: its columns are LIVE_COLUMNS, its parameters
# live_parameters(raw).
LIVE_COLUMNS = ["id", "customer_id", "last_used_at"]
LIVE_BY_HASH = f"""
SELECT {", ".join(f"t.{name}" for name in LIVE_COLUMNS)} FROM preorder_shop_apitoken t
 WHERE {_LIVE}"""  # noqa: S608


def live_parameters(raw: str) -> dict:
    return {"hash": hash_token(raw), "since": timezone.now() - IDLE_LIFETIME}


def authenticate(raw: str) -> ApiToken | None:
    """The live token `raw` names (its customer loaded), its use recorded; else None."""
    row = statements.fetchone(_AUTHENTICATE, live_parameters(raw))
    if row is None:
        return None
    token, at = statements.instance(ApiToken, row, 0)
    token.customer, _ = statements.instance(Customer, row, at)
    return _record_use(token)


def live_token(row) -> ApiToken:
    """The token of a LIVE_BY_HASH row (LIVE_COLUMNS, the rest deferred), its use recorded."""
    return _record_use(statements.partial(ApiToken, dict(zip(LIVE_COLUMNS, row, strict=True))))


def _record_use(token: ApiToken) -> ApiToken:
    """Slide the token's window: last_used_at is written at most once per TOUCH_EVERY."""
    now = timezone.now()
    if now - token.last_used_at >= TOUCH_EVERY:
        # Conditional: of many parallel polls in the same minute, one writes.
        ApiToken.objects.filter(pk=token.pk, last_used_at__lt=now - TOUCH_EVERY).update(
            last_used_at=now
        )
        token.last_used_at = now
    return token


def revoke(customer: Customer, token_id: int) -> bool:
    """Revoke one of `customer`'s live tokens; False when there is none by that id."""
    return bool(live().filter(customer=customer, pk=token_id).update(revoked_at=timezone.now()))


def page(
    customer: Customer, *, after: int | None, limit: int
) -> tuple[list[ApiToken], int | None]:
    """The customer's live tokens, newest first, `limit` at a time after the id `after`;
    and the cursor of the next page (None on the last)."""
    tokens = live().filter(customer=customer)
    if after is not None:
        tokens = tokens.filter(pk__lt=after)
    rows = list(tokens.order_by("-pk")[: limit + 1])
    if len(rows) > limit:
        return rows[:limit], rows[limit - 1].pk
    return rows, None
