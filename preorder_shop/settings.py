"""Settings, all from environment variables with safe development defaults.

DEBUG defaults to on for development; with DEBUG off the deployment hardening below applies
and SECRET_KEY must be given (`manage.py check --deploy` passes with DEBUG=0 and a real key).
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "development-only-secret-key-never-use-in-production"  # noqa: S105

# Couriers sign their webhooks with this shared secret (HMAC-SHA256).
COURIER_WEBHOOK_SECRET = os.environ.get("COURIER_WEBHOOK_SECRET", "")
if not COURIER_WEBHOOK_SECRET:
    if not DEBUG:
        raise ImproperlyConfigured("COURIER_WEBHOOK_SECRET must be set when DEBUG is off.")
    # preorder_shop.checks refuses this value when DEBUG is off.
    COURIER_WEBHOOK_SECRET = "development-only-courier-secret-never-use-in-production"  # noqa: S105
# The development courier simulator hands over and delivers orders on its own (beat task).
COURIER_SIMULATOR = env_bool("COURIER_SIMULATOR", DEBUG)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Proxies (addresses or networks, e.g. "10.0.0.0/8") whose X-Forwarded-For is believed when
# telling who a client is (preorder_shop/client.py). None by default: a forged header counts
# for nothing unless the request really came through one of these.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "csp",  # its system checks: settings in the pre-4.0 style are refused
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "ninja",  # the API's docs page: the Swagger UI bundle it ships, served as static files
    "preorder_shop.apps.PreorderShopConfig",
    "reservations",
    "orders",
    "fulfillment",
    "support",
    "events",
    "preorder_shop.staff_auth",  # after django-otp: it replaces django-otp's device admins
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "preorder_shop.headers.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "preorder_shop.problems.MethodNotAllowedProblem",  # the API's 405 as a problem too
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified(): the second factor
    "preorder_shop.middleware.CustomerMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

# Content-Security-Policy (django-csp; its middleware and the Permissions-Policy one sit
# above WhiteNoise, so static files carry them too): our own origin only, no inline script
# or style and no nonces; a test walks the templates so none slips in. The admin needs
# nothing more (preorder_shop/tests/test_security_headers.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

ROOT_URLCONF = "preorder_shop.urls"
# Django's own CSRF failure page carries an inline style, which the policy above refuses.
CSRF_FAILURE_VIEW = "preorder_shop.errors.csrf_failure"
WSGI_APPLICATION = "preorder_shop.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Persistent connections matter about 6x for throughput on these machines.
DATABASES = {
    "default": dj_database_url.config(
        default="postgres://postgres@127.0.0.1:5432/preorder_shop",
        conn_max_age=env_int("CONN_MAX_AGE", 600),
        conn_health_checks=True,
    )
}
# JIT compilation pays off for long analytical queries, not for this application's: it
# took ~0.5 s of compiling on each variant's allocation statement (measured at 1,000,000
# reservations), as the planner's large cost estimates for set-based batches trip it.
DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
# Prepared statements only where asked for (preorder_shop.statements: the status poll's
# hot statements, planned once per connection). Django turns psycopg's prepared statements
# off entirely (None), which also refuses an explicit prepare; a threshold no query reaches
# keeps every other query unprepared, as before.
DATABASES["default"]["OPTIONS"]["prepare_threshold"] = 2**31 - 1
if os.environ.get("TEST_DATABASE_NAME"):  # lets two test runs share one server
    DATABASES["default"]["TEST"] = {"NAME": os.environ["TEST_DATABASE_NAME"]}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "preorder",
    }
}
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_COOKIE_AGE = 60 * 60 * 24 * 14

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "ko"
LANGUAGES = [("ko", _("Korean")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Korean dates and times as Korean writes them ("오전 6:16"): preorder_shop/formats/ko.
FORMAT_MODULE_PATH = ["preorder_shop.formats"]
TIME_ZONE = "Asia/Seoul"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / ".local" / "static"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "preorder@localhost")
# Where customers reach the shop: notifications turn page paths into links with it.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")

# Celery: Redis broker, JSON only, acknowledge after the task ran so a crash redelivers it.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Keep database connections across tasks (the Django fixup closes them after every task
# otherwise, which costs a connection per task).
CELERY_DB_REUSE_MAX = 1000
# An unacknowledged task of a killed worker goes back to the queue after this long; the
# beat-driven dispatchers re-enqueue idempotent work much sooner anyway.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 600}
# Orders the pipeline moves per transaction.
PIPELINE_BATCH_SIZE = env_int("PIPELINE_BATCH_SIZE", 5000)
CELERY_BEAT_SCHEDULE = {
    "sweep-outbox": {"task": "preorder_shop.tasks.sweep_outbox", "schedule": 30.0},
    "prune-kept-answers": {"task": "preorder_shop.tasks.prune_kept_answers", "schedule": 600.0},
    "close-order-windows": {"task": "orders.tasks.close_order_windows", "schedule": 60.0},
    "allocate-arrived-stock": {
        "task": "fulfillment.tasks.allocate_arrived_stock",
        "schedule": 60.0,
    },
    "advance-pipeline": {"task": "fulfillment.tasks.advance_pipeline", "schedule": 15.0},
    "remind-before-deadline": {
        "task": "fulfillment.tasks.remind_before_deadline",
        "schedule": 600.0,
    },
    "prune-webhook-nonces": {"task": "fulfillment.tasks.prune_webhook_nonces", "schedule": 3600.0},
    "close-solved-tickets": {"task": "support.tasks.close_solved_tickets", "schedule": 3600.0},
    # Missed SLA deadlines to the team lead, once each (support.services.breaches).
    "notify-sla-breaches": {
        "task": "support.tasks.notify_sla_breaches",
        "schedule": 60.0,
        "options": {"expires": 60.0},
    },
    # Callbacks (support.services.callbacks): reminded 10 to 9 minutes before the call.
    "send-callback-reminders": {
        "task": "support.tasks.send_callback_reminders",
        "schedule": 60.0,
        "options": {"expires": 60.0},
    },
    # The lines' totals (reservations.lines): a total shown is at most ~10 s old. A run the
    # worker could not start within the interval is dropped; the next one does its work.
    "refresh-line-counts": {
        "task": "reservations.tasks.refresh_line_counts",
        "schedule": 10.0,
        "options": {"expires": 10.0},
    },
}
# Development: fake couriers hand over and deliver (fulfillment.services.simulator).
if COURIER_SIMULATOR:
    CELERY_BEAT_SCHEDULE["simulate-couriers"] = {
        "task": "fulfillment.tasks.simulate_couriers",
        "schedule": 60.0,
    }

# Notification channels (the outbox sends through these) and one-time codes.
SMS_CHANNEL = os.environ.get("SMS_CHANNEL", "preorder_shop.channels.LogSmsChannel")
OUTBOX_CHANNELS = {
    "sms": SMS_CHANNEL,
    "email": os.environ.get("EMAIL_CHANNEL", "preorder_shop.channels.EmailChannel"),
}
# A provider's contracted rate, "<messages a second>[/<burst>]" (preorder_shop.pacing):
# senders wait for their turn instead of meeting its 429s. Unset: not paced.
OUTBOX_SEND_RATES = {
    channel: (float(rate), int(burst or float(rate)))
    for channel in ("sms", "email")
    if (setting := os.environ.get(f"{channel.upper()}_SEND_RATE"))
    for rate, _, burst in [setting.partition("/")]
}
# Sweep tasks started in parallel for a large batch of messages (preorder_shop.outbox
# queue_from_select): at most the worker processes that may send at once.
OUTBOX_BATCH_SWEEPERS = int(os.environ.get("OUTBOX_BATCH_SWEEPERS", "8"))
OTP_SHOW_CODE_ON_PAGE = env_bool("OTP_SHOW_CODE_ON_PAGE", DEBUG)

# When the support desk is staffed (support.shifts): per weekday (0 = Monday) the hours
# people answer tickets, in SUPPORT_TIME_ZONE; a day left out is not staffed.
SUPPORT_TIME_ZONE = "Asia/Seoul"
SUPPORT_STAFFED_HOURS = dict.fromkeys(range(5), ("09:00", "18:00"))  # Mon-Fri
# Who hears of a missed SLA deadline (support.services.breaches); empty: nobody.
SUPPORT_TEAM_LEAD_EMAIL = os.environ.get("SUPPORT_TEAM_LEAD_EMAIL", "support-lead@localhost")

LOGIN_URL = "signin"

# Staff give a second factor (an authenticator app's code or a recovery code) to reach the
# admin (preorder_shop/staff_auth). Unset, it is required whenever DEBUG is off, read at
# request time (so the test suite, run with DEBUG off, meets admin as production does);
# `check --deploy` refuses turning it off with DEBUG off.
STAFF_REQUIRE_TWO_FACTOR = (
    env_bool("STAFF_REQUIRE_TWO_FACTOR", False)
    if os.environ.get("STAFF_REQUIRE_TWO_FACTOR")
    else None
)
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "Pre-order admin")
LOGIN_REDIRECT_URL = "/"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    # Every handler masks phone numbers and e-mail addresses (issue 12, item 4).
    "filters": {"personal_data": {"()": "preorder_shop.log_masking.MaskPersonalData"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["personal_data"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
