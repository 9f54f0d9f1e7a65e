"""Production settings: `check --deploy` is clean with DEBUG=0, and a missing key is refused.

Each case runs in a fresh interpreter, because settings are read once per process and the
test process itself runs with the development settings.
"""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]

# Overrides the settings read with DEBUG=0. They are dropped from the inherited environment so
# the check sees the production defaults (compose sets some of them to 0 for local http use).
HARDENING_OVERRIDES = (
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
)


def production_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in HARDENING_OVERRIDES}
    env.pop("SECRET_KEY", None)
    env.pop("COURIER_WEBHOOK_SECRET", None)
    # The browser suite sets this for its own process (tests/browser/conftest.py); a
    # production environment never has it, and check --deploy rightly refuses it.
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    env.update(
        DJANGO_SETTINGS_MODULE="preorder_shop.settings",
        DEBUG="0",
        ALLOWED_HOSTS="shop.example.com",
    )
    env.update(extra)
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - fixed argv: this interpreter and project files
        [sys.executable, *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def random_secret_key() -> str:
    key = secrets.token_urlsafe(50)
    assert len(key) >= 50
    return key


# A production SMS gateway is the carrier's; any class that is not the log channel will do.
GATEWAY = "preorder_shop.channels.EmailChannel"


def test_check_deploy_passes_with_production_settings():
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        production_env(
            SECRET_KEY=random_secret_key(),
            COURIER_WEBHOOK_SECRET=random_secret_key(),
            SMS_CHANNEL=GATEWAY,
        ),
    )
    assert result.returncode == 0, (
        f"manage.py check --deploy exited {result.returncode}\n"
        f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"
    )


@pytest.mark.parametrize("secret_key", [None, ""], ids=["unset", "empty"])
def test_settings_refuse_to_load_without_secret_key_when_debug_is_off(secret_key):
    env = production_env()
    if secret_key is not None:
        env["SECRET_KEY"] = secret_key
    result = run(["-c", "import django; django.setup()"], env)
    assert result.returncode != 0, f"settings loaded without SECRET_KEY:\n{result.stdout}"
    assert "SECRET_KEY must be set" in result.stderr, result.stderr


def test_settings_refuse_to_load_without_the_courier_secret_when_debug_is_off():
    result = run(
        ["-c", "import django; django.setup()"], production_env(SECRET_KEY=random_secret_key())
    )
    assert result.returncode != 0
    assert "COURIER_WEBHOOK_SECRET must be set" in result.stderr, result.stderr


def test_settings_load_with_debug_off_and_both_secrets():
    """The control for the tests above: with both secrets the same command succeeds."""
    result = run(
        ["-c", "import django; django.setup()"],
        production_env(SECRET_KEY=random_secret_key(), COURIER_WEBHOOK_SECRET=random_secret_key()),
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        ({}, "preorder_shop.E001"),
        (
            {
                "SMS_CHANNEL": GATEWAY,
                "COURIER_WEBHOOK_SECRET": (
                    "development-only-courier-secret-never-use-in-production"
                ),
            },
            "preorder_shop.E002",
        ),
        ({"SMS_CHANNEL": GATEWAY, "OTP_SHOW_CODE_ON_PAGE": "1"}, "preorder_shop.E003"),
    ],
)
def test_check_deploy_refuses_development_channels_and_secrets(extra, error):
    env = production_env(
        SECRET_KEY=random_secret_key(), COURIER_WEBHOOK_SECRET=random_secret_key()
    )
    env.update(extra)
    result = run(["manage.py", "check", "--deploy"], env)
    assert result.returncode != 0
    assert error in result.stderr + result.stdout
