"""orders_order_guard checks a status change with a plain expression.

Same allowed moves and errors; the function body now lives in _order_guard.function, which
no longer runs a NOT IN (VALUES ...) query for every updated row.
"""

from django.db import migrations

from orders.migrations import _order_guard


class Migration(migrations.Migration):
    dependencies = [("orders", "0004_order_fewer_indexes")]

    operations = [
        # Backward leaves it: the previous body was equivalent.
        migrations.RunSQL(
            _order_guard.function(insert_checks=_order_guard.CHECK_RESERVATION),
            migrations.RunSQL.noop,
        )
    ]
