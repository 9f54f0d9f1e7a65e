"""Running calls at the same moment on real, separate database connections."""

import threading
from collections.abc import Callable

from django.db import connection


def run_at_once(calls: list[Callable[[], object]], timeout: float = 60) -> list[object]:
    """Run every call in its own thread, released together; return results or exceptions.

    Each thread gets its own PostgreSQL connection (Django opens one per thread) and closes
    it at the end. Use in django_db(transaction=True) tests so the threads see each other's
    commits. `timeout`: seconds each thread may take once released.
    """
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def worker(index: int, call: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = call()
        except Exception as exc:  # the test inspects what each call raised
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return results
