"""Running calls at the same moment on real, separate database connections."""

import threading
import time
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


def execute(sql: str, params=None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


class InThread:
    """Run `call` in a thread on its own connection; `pid` is that connection's backend."""

    def __init__(self, call: Callable[[], object]) -> None:
        self.call, self.pid, self.result = call, None, None
        self.started = threading.Event()
        self.thread = threading.Thread(target=self._run)
        self.thread.start()
        assert self.started.wait(30), "the thread did not start"

    def _run(self) -> None:
        try:
            self.pid = execute("SELECT pg_backend_pid()")[0][0]
            self.started.set()
            self.result = self.call()
        except Exception as exc:  # the test inspects it
            self.result = exc
        finally:
            self.started.set()
            connection.close()

    def waiting_or_done(self) -> bool:
        if not self.thread.is_alive():
            return True
        return execute(
            "SELECT EXISTS (SELECT FROM pg_locks WHERE pid = %s AND NOT granted)", [self.pid]
        ) == [(True,)]

    def join(self) -> object:
        self.thread.join(60)
        assert not self.thread.is_alive(), "a thread hung"
        return self.result


def until(condition: Callable[[], bool], what: str) -> None:
    """Poll until `condition` holds (a lock wait shows in pg_locks at once); fail after 30 s."""
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.005)
