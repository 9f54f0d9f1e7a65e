"""Real processes for the chaos tests: Celery workers, a throwaway PostgreSQL cluster, a
private Redis and a web server, all on loopback. Every start waits with a deadline and every
stop ends in SIGKILL, so a failing test leaves nothing running."""

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO
from urllib.parse import quote

import psycopg
import redis
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
PG_OWNER = "postgres"  # initdb refuses to run as root (scripts/stack.sh: as_pg_owner)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def url_of_test_database() -> str:
    """The database the running tests use (the test database, once pytest-django made it)."""
    db = settings.DATABASES["default"]
    credentials = quote(db["USER"]) + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def start_worker(
    queue: str,
    name: str,
    *,
    database_url: str | None = None,
    broker_url: str | None = None,
    log: IO | None = None,
    loglevel: str = "WARNING",
    concurrency: int | None = None,
) -> subprocess.Popen:
    """A real worker process (by default on the test database and the test broker), small
    pipeline batches so that work is always in mid-flight. One task at a time in the worker
    process itself (solo pool), or `concurrency` prefork children as deployed."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url or url_of_test_database(),
        "CELERY_BROKER_URL": broker_url or settings.CELERY_BROKER_URL,
        "PIPELINE_BATCH_SIZE": "25",
    }
    if broker_url:
        env["REDIS_URL"] = broker_url
    pool = (
        ["--pool", "prefork", "--concurrency", str(concurrency)]
        if concurrency
        else ["--pool", "solo"]
    )
    return subprocess.Popen(  # noqa: S603 - our own worker, fixed arguments
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "preorder_shop",
            "worker",
            *pool,
            "-Q",
            queue,
            "-n",
            f"{name}@chaos",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            loglevel,
        ],
        cwd=ROOT,
        env=env,
        stdout=log or subprocess.DEVNULL,
        stderr=subprocess.STDOUT if log else subprocess.DEVNULL,
    )


def stop(process: subprocess.Popen, *, grace: float = 10) -> None:
    """SIGTERM, then SIGKILL after `grace` seconds; a no-op for a process already gone."""
    if process.poll() is None:
        pool = children(process)
        process.terminate()
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
            for pid in pool:  # a prefork child outlives a killed parent
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(pid), signal.SIGKILL)


def run(command: list[str], *, timeout: float, env: dict | None = None) -> str:
    """Run a command to completion within `timeout`; its output, or an error that shows it."""
    result = subprocess.run(  # noqa: S603 - fixed commands of the tests
        command,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode:
        raise RuntimeError(
            f"{command[:3]} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
        )
    return result.stdout


def manage(*args: str, env: dict, timeout: float = 120) -> str:
    return run([sys.executable, "manage.py", *args], env={**os.environ, **env}, timeout=timeout)


def wait_until(predicate, *, timeout: float, interval: float = 0.05, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"not within {timeout} s: {what}")
        time.sleep(interval)


def start_web(port: int, *, env: dict, log: IO, workers: int = 3) -> subprocess.Popen:
    """gunicorn with the deployed configuration (preorder_shop/gunicorn.py) on 127.0.0.1,
    in its own process group so that its workers go with it."""
    return subprocess.Popen(  # noqa: S603 - our own server, fixed arguments
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "preorder_shop.wsgi",
            "--config",
            "preorder_shop/gunicorn.py",
            "--bind",
            f"127.0.0.1:{port}",
        ],
        cwd=ROOT,
        env={**os.environ, **env, "WEB_CONCURRENCY": str(workers)},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop_web(server: subprocess.Popen) -> None:
    stop(server, grace=15)
    with contextlib.suppress(ProcessLookupError):  # a worker left behind
        os.killpg(server.pid, signal.SIGKILL)


def children(process: subprocess.Popen) -> list[str]:
    """Process ids of `process`'s children (a worker's pool, gunicorn's workers)."""
    path = Path(f"/proc/{process.pid}/task/{process.pid}/children")
    return path.read_text().split() if path.exists() else []


def _pg_bin() -> Path:
    for candidate in [
        Path("/usr/lib/postgresql/15/bin"),
        *sorted(Path("/usr/lib/postgresql").glob("*/bin")),
    ]:
        if (candidate / "initdb").exists():
            return candidate
    if found := shutil.which("initdb"):
        return Path(found).parent
    raise RuntimeError("PostgreSQL server binaries not found (apt-get install postgresql-15)")


class PrivatePostgres:
    """A throwaway PostgreSQL cluster in a temporary directory, never the shared test one,
    so that it can be restarted under a test without disturbing concurrent runs. Durability
    is off (fsync, synchronous_commit): a fast restart shuts down cleanly anyway."""

    def __init__(self) -> None:
        self.bin = _pg_bin()
        self.root = Path(tempfile.mkdtemp(prefix="store-chaos-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = free_port()
        self.as_root = os.getuid() == 0
        if self.as_root:
            owner = pwd.getpwnam(PG_OWNER)
            os.chown(self.root, owner.pw_uid, owner.pw_gid)

    def _pg(self, tool: str, *args: str, timeout: float = 60) -> str:
        command = [str(self.bin / tool), *args]
        if self.as_root:
            command = ["/usr/sbin/runuser", "-u", PG_OWNER, "--", *command]
        return run(command, timeout=timeout)

    def start(self) -> None:
        self._pg(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            " -c max_connections=50"
        )
        self._pg(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-w",
            "-t",
            "30",
            "-o",
            options,
            "start",
        )

    def restart(self) -> float:
        """Fast shutdown (open connections are terminated, transactions rolled back), then
        start again on the same port; returns the seconds it took."""
        started = time.monotonic()
        self._pg(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-m",
            "fast",
            "-w",
            "-t",
            "30",
            "restart",
        )
        return time.monotonic() - started

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._pg("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "-t", "20", "stop")
        pid_file = self.data / "postmaster.pid"
        with contextlib.suppress(OSError, ValueError):  # pg_ctl failed: kill the postmaster
            os.kill(int(pid_file.read_text().split()[0]), signal.SIGKILL)
        shutil.rmtree(self.root, ignore_errors=True)


class PrivateRedis:
    """A Redis of our own on a free port, started with the project's scripts/redis.conf (the
    append-only file that makes counters outlive a restart), in a temporary directory."""

    def __init__(self) -> None:
        self.server = shutil.which("redis-server")
        if self.server is None:
            raise RuntimeError("redis-server not found (apt-get install redis-server)")
        self.dir = Path(tempfile.mkdtemp(prefix="store-chaos-redis-"))
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - fixed arguments
            [
                self.server,
                str(ROOT / "scripts" / "redis.conf"),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.dir),
                "--logfile",
                str(self.dir / "redis.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)

        def answers() -> bool:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited; see {self.dir / 'redis.log'}")
            try:
                return bool(client.ping())
            except redis.RedisError:
                return False

        wait_until(answers, timeout=20, what="Redis answers PING")

    def stop(self) -> None:
        """SIGTERM: what a service manager does; Redis writes out what it holds and exits."""
        if self.process is not None:
            stop(self.process, grace=20)

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)
