"""The Lighthouse budget: five storefront pages at Lighthouse's mobile profile, against a
production-like server.

Run by bench/lighthouse.sh (`make bench-lighthouse`), which has started PostgreSQL and
Redis, exported DATABASE_URL and REDIS_URL, and installed Lighthouse from npm into
.local/lighthouse. This driver:

1. recreates the database preorder_shop_bench_lighthouse on the same server (the dev data
   is untouched), migrates it, collects static files, seeds the demo campaign (seed_demo)
   and uses Redis database 2, the benchmarks' own (do not run `make bench` at the same time);
2. creates one customer with a reservation, a unit held for it and a submitted order, and a
   signed-in session for them (as sign-in leaves it);
3. starts gunicorn with preorder_shop/gunicorn.py and the production settings, DEBUG off:
   WhiteNoise serves the static files. Plain HTTP on the loopback has no TLS, so the
   HTTPS-only settings that would break it are switched off through their environment
   variables: SECURE_SSL_REDIRECT (else every page is a redirect to https://) and the
   Secure flag of the session and CSRF cookies (else Chromium drops them). HSTS needs nothing:
   Django sends it only over HTTPS. Lighthouse treats 127.0.0.1 as a secure origin;
4. runs Lighthouse RUNS times per page (default mobile emulation and simulated throttling,
   headless Chromium), in Korean (Accept-Language), the customer's pages with the session
   cookie (--extra-headers), and keeps every JSON report in .local/lighthouse-reports/;
5. prints the medians against the budget and, for each missed budget, the audits that
   failed; exits 1 when a budget is missed.

It serves the work tree as it is; with --committed, HEAD exported by git archive (others'
unfinished edits in a shared work tree then cannot break a page mid-run).
"""

import argparse
import contextlib
import datetime as dt
import json
import os
import runpy
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

# Run as a script, so this folder is on sys.path.
from lighthouse_report import CATEGORIES, print_summary
from stores import reset_stores, with_path

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / ".local" / "lighthouse-bench"
REPORTS = ROOT / ".local" / "lighthouse-reports"
LIGHTHOUSE = ROOT / ".local" / "lighthouse" / "node_modules" / ".bin" / "lighthouse"
CHROME_PATH = "/usr/bin/chromium"
CHROME_FLAGS = "--headless=new --no-sandbox"
BENCH_DATABASE = "preorder_shop_bench_lighthouse"
BENCH_REDIS_DB = 2
GUNICORN_CONFIG = "preorder_shop/gunicorn.py"
ACCEPT_LANGUAGE = {"ko": "ko-KR,ko;q=0.9", "en": "en-US,en;q=0.9"}

# Lighthouse's own hiccups (a trace without navigationStart, say) end with this advice; such
# a run is repeated once. A page's failure (a 500) is not.
LIGHTHOUSE_FLAKE = "Please run Lighthouse again"
PAGE_NAMES = ["landing", "campaign", "sign-in", "reservation", "order"]


def say(message: str) -> None:
    print(f"==> {message}", file=sys.stderr, flush=True)


def bench_environment() -> dict[str, str]:
    """The environment of the driver and of gunicorn: production settings, private stores."""
    return {
        "DJANGO_SETTINGS_MODULE": "preorder_shop.settings",
        "DATABASE_URL": with_path(os.environ["DATABASE_URL"], f"/{BENCH_DATABASE}"),
        "REDIS_URL": with_path(os.environ["REDIS_URL"], f"/{BENCH_REDIS_DB}"),
        "CELERY_BROKER_URL": with_path(os.environ["REDIS_URL"], f"/{BENCH_REDIS_DB}"),
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "COURIER_WEBHOOK_SECRET": secrets.token_urlsafe(32),
        "ALLOWED_HOSTS": "127.0.0.1",
        # Plain HTTP on the loopback: see the module docstring.
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "STATIC_ROOT": str(STATE / "static"),
    }


def committed_tree() -> Path:
    """HEAD as committed, exported into .local/lighthouse-bench/tree: others' unfinished
    edits in the shared work tree are not measured."""
    tree = STATE / "tree"
    shutil.rmtree(tree, ignore_errors=True)
    tree.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", "HEAD"], cwd=ROOT, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
    return tree


def prepare() -> tuple[dict[str, tuple[str, bool]], str]:
    """Seed the fresh database; return the pages {name: (path, public)} and the customer's
    session cookie ("name=value")."""
    import django
    from django.core.management import call_command

    django.setup()
    from reservations.demo import DEMO_SLUG

    say(f"Migrating {BENCH_DATABASE}, collecting static files, seeding the demo campaign")
    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    with open(os.devnull, "w") as quiet:
        call_command("seed_demo", stdout=quiet)
    reservation, order, cookie = create_customer_with_order()
    paths = [
        ("/", True),
        (f"/c/{DEMO_SLUG}/", True),
        ("/signin/", True),
        (f"/my/reservations/{reservation}/", False),
        (f"/my/orders/{order}/", False),
    ]
    return dict(zip(PAGE_NAMES, paths, strict=True)), cookie


def create_customer_with_order() -> tuple[str, str, str]:
    """A customer who reserved, was given a unit and submitted the order form, signed in.

    Return the reservation number, the order number and the session cookie.
    """
    import uuid

    from django.conf import settings
    from django.contrib.sessions.backends.cached_db import SessionStore
    from django.core.management import call_command

    from orders.models import JoinType, RatePlan
    from orders.services import open_draft, submit_order
    from preorder_shop.customer_session import SESSION_KEY
    from preorder_shop.models import Customer
    from reservations.demo import DEMO_SLUG
    from reservations.models import Fulfilment, Variant
    from reservations.services import reserve

    customer = Customer.objects.create(phone="+821055501234", name="김등대")
    variant = (
        Variant.objects.select_related("campaign")
        .filter(campaign__slug=DEMO_SLUG, model_name="iPhone 15 Pro", capacity_gb=256)
        .order_by("pk")
        .first()
    )
    reservation = reserve(
        customer_id=customer.pk,
        variant=variant,
        fulfilment=Fulfilment.COURIER,
        idempotency_key=uuid.uuid4(),
    )
    with open(os.devnull, "w") as quiet:  # the demo's first wave has arrived: hold a unit
        call_command("allocate", campaign=DEMO_SLUG, stdout=quiet)
    draft = open_draft(reservation=reservation, customer=customer)
    answers = {
        "plan": RatePlan.objects.filter(campaign=variant.campaign).order_by("pk").first(),
        "join_type": JoinType.NEW_LINE,
        "recipient_name": "김등대",
        "recipient_phone": "+821055501234",
        "postcode": "04524",
        "address_line1": "서울특별시 중구 세종대로 110",
    }
    order = submit_order(order=draft, customer=customer, values=answers)
    session = SessionStore()
    session[SESSION_KEY] = customer.pk
    session.set_expiry(dt.timedelta(hours=2))
    session.save()
    cookie = f"{settings.SESSION_COOKIE_NAME}={session.session_key}"
    return reservation.number, order.number, cookie


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(env: dict[str, str], port: int, app: Path) -> subprocess.Popen:
    log = (STATE / "gunicorn.log").open("w")
    command = [str(Path(sys.executable).parent / "gunicorn"), "preorder_shop.wsgi"]
    command += ["--config", GUNICORN_CONFIG, "--bind", f"127.0.0.1:{port}"]
    command += ["--pid", str(STATE / "gunicorn.pid")]
    return subprocess.Popen(
        command,
        cwd=app,
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_until_ready(server: subprocess.Popen, port: int) -> None:
    """Wait until gunicorn answers and all its workers have booted."""
    workers = runpy.run_path(str(ROOT / GUNICORN_CONFIG))["workers"]
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited; see {STATE / 'gunicorn.log'}")
        with contextlib.suppress(OSError), opener.open(f"http://127.0.0.1:{port}/") as response:
            booted = len(children.read_text().split()) if children.exists() else 0
            if response.status == 200 and booted == workers:
                return
        time.sleep(0.2)
    raise SystemExit(f"gunicorn did not come up; see {STATE / 'gunicorn.log'}")


def stop_gunicorn(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def run_lighthouse(url: str, headers: dict[str, str], report: Path) -> dict | str:
    """The report, or why Lighthouse could not make one (a 500, say)."""
    command = [
        str(LIGHTHOUSE),
        url,
        "--output=json",
        f"--output-path={report}",
        f"--only-categories={','.join(CATEGORIES)}",
        f"--chrome-flags={CHROME_FLAGS}",
        f"--extra-headers={json.dumps(headers)}",
        "--quiet",
    ]
    env = {**os.environ, "CHROME_PATH": CHROME_PATH}
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    if result.returncode != 0 or not report.exists():
        return f"lighthouse failed ({result.returncode}): {result.stderr.strip()[-500:]}"
    data = json.loads(report.read_text())
    if data.get("runtimeError"):
        return f"lighthouse could not load the page: {data['runtimeError']['message']}"
    if data["finalDisplayedUrl"] != data["requestedUrl"]:
        return f"redirected to {data['finalDisplayedUrl']}"
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="Lighthouse runs per page")
    parser.add_argument("--pages", help=f"comma-separated, of: {', '.join(PAGE_NAMES)}")
    parser.add_argument("--lang", choices=sorted(ACCEPT_LANGUAGE), default="ko")
    parser.add_argument(
        "--committed",
        action="store_true",
        help="serve HEAD as committed instead of the work tree with its uncommitted edits",
    )
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally clauses
    STATE.mkdir(parents=True, exist_ok=True)
    app = committed_tree() if args.committed else ROOT
    sys.path.insert(0, str(app))
    REPORTS.mkdir(parents=True, exist_ok=True)
    for old in REPORTS.glob("*.json"):
        old.unlink()
    env = bench_environment()
    os.environ.update(env)
    say(f"Resetting {BENCH_DATABASE} and Redis database {BENCH_REDIS_DB}")
    reset_stores(env["DATABASE_URL"], env["REDIS_URL"], BENCH_DATABASE)
    pages, cookie = prepare()
    if args.pages:
        chosen = args.pages.split(",")
        if unknown := set(chosen) - set(pages):
            parser.error(f"unknown pages: {', '.join(sorted(unknown))}")
        pages = {name: pages[name] for name in chosen}
    load_before = os.getloadavg()[0]

    port = free_port()
    say(f"Starting gunicorn on 127.0.0.1:{port}")
    server = start_gunicorn(env, port, app)
    results: dict[str, list[dict]] = {name: [] for name in pages}
    errors: dict[str, list[str]] = {name: [] for name in pages}
    try:
        wait_until_ready(server, port)
        for run in range(1, args.runs + 1):  # the pages in turn, so a busy minute hits all
            for name, (path, public) in pages.items():
                headers = {"Accept-Language": ACCEPT_LANGUAGE[args.lang]}
                if not public:
                    headers["Cookie"] = cookie
                report = REPORTS / f"{name}-{run}.json"
                say(f"{name} {run}/{args.runs}: {path}")
                data = run_lighthouse(f"http://127.0.0.1:{port}{path}", headers, report)
                if isinstance(data, str) and LIGHTHOUSE_FLAKE in data:
                    say(f"{name} {run}: {data}; once more")
                    data = run_lighthouse(f"http://127.0.0.1:{port}{path}", headers, report)
                if isinstance(data, str):
                    say(f"{name} {run}: {data}")
                    errors[name].append(data)
                else:
                    results[name].append(data)
    finally:
        say("Stopping gunicorn")
        stop_gunicorn(server)
    missed = print_summary(
        pages,
        results,
        errors,
        load=load_before,
        args=args,
        reports=REPORTS,
        server_log=STATE / "gunicorn.log",
    )
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
