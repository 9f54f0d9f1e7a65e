import os

from celery import Celery, Task, signals
from django.db import InterfaceError, OperationalError, close_old_connections, connection

from . import log_masking

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "preorder_shop.settings")


class StoreAwareTask(Task):
    """Every task starts and ends with a usable database connection, and one that failed on
    a lost connection is retried, not dropped.

    Django checks its persistent connections around each web request; a worker has no
    requests, and Celery's own check runs only every CELERY_DB_REUSE_MAX tasks, so after a
    PostgreSQL restart every task failed with "the connection is closed" until the pool was
    killed by hand. close_old_connections() drops a connection that is broken or too old
    (with CONN_HEALTH_CHECKS the next query checks the reused one first), as Django does for
    requests; reuse is kept. Tasks are idempotent (ARCHITECTURE.md), so a retry is safe."""

    autoretry_for = (OperationalError, InterfaceError)
    retry_backoff = True  # 1 s, 2 s, 4 s ... with jitter
    retry_backoff_max = 60
    max_retries = 8  # a few minutes of outage

    def __call__(self, *args, **kwargs):
        _drop_unusable_connections()
        try:
            return super().__call__(*args, **kwargs)
        finally:
            _drop_unusable_connections()


def _drop_unusable_connections() -> None:
    # A task body called directly inside a caller's transaction (a test, a service) must not
    # lose that transaction: Django closes a connection whose autocommit differs from its
    # setting, so only a worker's own top-level call checks.
    if not connection.in_atomic_block:
        close_old_connections()


app = Celery("preorder_shop", task_cls=StoreAwareTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The worker replaces the handlers settings.LOGGING made with its own: mask on those too.
signals.after_setup_logger.connect(log_masking.install, weak=False)
signals.after_setup_task_logger.connect(log_masking.install, weak=False)
