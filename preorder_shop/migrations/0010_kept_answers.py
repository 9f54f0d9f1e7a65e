"""Kept answers: a poll's last answer, served again until something it shows changes (issue 13).

Two tables, bookkeeping of the database itself (no Django model), both UNLOGGED: a crash
empties both together, and an empty table only means the next polls render again.

- preorder_shop_change_mark (scope, scope_id, xact, at): "transaction xact changed what the
  answers of this scope show". The apps' triggers write the marks, in the transaction that
  makes the change, through preorder_shop_changed(scope, id): 'r' a reservation (its row,
  its history, its orders and their history, its unit, its order's holds), 'v' a variant's
  line (a place or the refreshed total moved), 'g' everything (a campaign, a variant, a
  notice). Each app's own migration says which of its tables mark what.
- preorder_shop_kept_answer: per (kind, number, variant of the answer) the body, ETag and
  poll interval an answer was rendered with, whose it is (customer, reservation, variant),
  `since`: the xmin of the snapshot the answer's statement read (pg_snapshot_xmin), and
  until when it may be served with no change (the next moment something shown changes with
  time alone: a window opens or closes, a notice starts or ends).

Why `since` makes a kept answer exact. Every transaction with an id below the snapshot's
xmin had finished when the snapshot was taken, so its changes are in the answer. A
transaction with an id at or above it may have committed after the snapshot, unseen. So
the answer stands while no mark of its scopes has xact >= since (over-cautious for
transactions that did commit before the snapshot: they only cost a render). A change
committed while an answer is being rendered is therefore never hidden by that answer,
whichever writes first: the mark exists before the commit, in the same transaction.

Marks are pruned after a day (preorder_shop.kept_answers.prune), kept answers after an
hour: an answer is served only while younger than an hour, so a mark that could still
matter is younger than a day unless a transaction stays open for most of a day.
"""

from django.db import migrations

FORWARD = r"""
CREATE UNLOGGED TABLE preorder_shop_change_mark (
    id bigserial PRIMARY KEY,
    scope char(1) NOT NULL CHECK (scope IN ('r', 'v', 'g')),
    scope_id bigint NOT NULL,
    xact xid8 NOT NULL DEFAULT pg_current_xact_id(),
    at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX preorder_shop_change_mark_scope ON preorder_shop_change_mark (scope, scope_id, xact);
CREATE INDEX preorder_shop_change_mark_at ON preorder_shop_change_mark (at);

CREATE UNLOGGED TABLE preorder_shop_kept_answer (
    kind text NOT NULL,
    number text NOT NULL,
    variant text NOT NULL,
    customer_id bigint NOT NULL,
    reservation_id bigint NOT NULL,
    line_id bigint NOT NULL,
    since xid8 NOT NULL,
    made_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    kept_until timestamptz NOT NULL,
    etag text NOT NULL,
    body bytea,
    poll_interval integer NOT NULL,
    PRIMARY KEY (kind, number, variant)
);
CREATE INDEX preorder_shop_kept_answer_made_at ON preorder_shop_kept_answer (made_at);

CREATE FUNCTION preorder_shop_changed(scope char, scope_id bigint) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO preorder_shop_change_mark (scope, scope_id) VALUES (scope, scope_id)
$$;

-- For a statement trigger's transition table: one mark per distinct id.
CREATE FUNCTION preorder_shop_changed_all(scope char, ids bigint[]) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO preorder_shop_change_mark (scope, scope_id)
    SELECT DISTINCT scope, id FROM unnest(ids) AS id WHERE id IS NOT NULL
$$;
"""

BACKWARD = r"""
DROP FUNCTION preorder_shop_changed_all(char, bigint[]);
DROP FUNCTION preorder_shop_changed(char, bigint);
DROP TABLE preorder_shop_kept_answer;
DROP TABLE preorder_shop_change_mark;
"""


class Migration(migrations.Migration):
    dependencies = [("preorder_shop", "0009_api_tokens")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
