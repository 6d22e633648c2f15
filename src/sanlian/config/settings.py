"""The one settings module: every deployment difference comes from environment variables."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


BASE_DIR = Path(__file__).resolve().parent.parent
# Everything the product writes (SQLite file, keys, uploads, exports) lives in one directory,
# so a second `make demo` reuses it and a backup is one copy.
DATA_DIR = Path(env("SANLIAN_DATA_DIR", str(Path.cwd() / "var"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

# production = the hardened configuration that `check --deploy` must pass.
PRODUCTION = env("SANLIAN_ENV", "development") == "production"
DEBUG = env_bool("SANLIAN_DEBUG", default=not PRODUCTION)

SECRET_KEY = env("SANLIAN_SECRET_KEY")
if not SECRET_KEY:
    if PRODUCTION:
        raise RuntimeError("SANLIAN_SECRET_KEY must be set in production")
    SECRET_KEY = "dev-only-insecure-key-sanlian-0123456789-abcdefghijklmnopqrstuvwxyz"  # noqa: S105

ALLOWED_HOSTS = [h for h in env("SANLIAN_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in env("SANLIAN_CSRF_TRUSTED_ORIGINS").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "csp",
    "django_htmx",
    "template_partials",
    "ninja",
    "sanlian.core",
    "sanlian.organizations",
    "sanlian.resources",
    "sanlian.delivery",
    "sanlian.insights",
]

MIDDLEWARE = [
    # Residents' anonymous pages (the survey link) take a short chain of their own; see
    # sanlian.core.lanes. Everything else goes on down this list.
    "sanlian.core.lanes.PublicLaneMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "sanlian.core.middleware.SessionTouchMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "sanlian.core.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "sanlian.core.middleware.RequestContextMiddleware",
    "sanlian.core.middleware.SessionExpiredMiddleware",
    "sanlian.core.middleware.AccountGateMiddleware",
    # axes must come last so that it sees the final authentication result.
    "axes.middleware.AxesMiddleware",
]

PUBLIC_LANE_PREFIXES = ("/svc/s/",)
PUBLIC_LANE_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",  # the Host check, Content-Length
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "sanlian.core.middleware.CSPMiddleware",
    "sanlian.core.middleware.RequestContextMiddleware",
]

ROOT_URLCONF = "sanlian.config.urls"
WSGI_APPLICATION = "sanlian.config.wsgi.application"
ASGI_APPLICATION = "sanlian.config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "sanlian.core.context_processors.navigation",
            ],
            "builtins": ["template_partials.templatetags.partials"],
        },
    }
]

# Database: SQLite in the data directory unless DATABASE_URL says otherwise.
DATABASE_URL = env("DATABASE_URL", f"sqlite:///{DATA_DIR / 'sanlian.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers work while one writer writes; IMMEDIATE avoids deadlocks on upgrade.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["TEST"] = {"NAME": env("SANLIAN_TEST_SQLITE", "") or None}
else:
    DATABASES["default"]["TEST"] = {"NAME": env("SANLIAN_TEST_DBNAME", "") or None}
    # No JIT: compiling costs PostgreSQL 0.3-0.5 s per costly query and our aggregates gain
    # less than that back (a city's dashboard: 37 s with JIT, 27 s without; a district's
    # 10 s and 8.6 s).
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["options"] = f"{options.get('options', '')} -c jit=off".strip()
    # Prepared statements for the few server-side-binding cursors we open ourselves (the
    # survey submission, delivery.services.surveys); Django's own cursors bind on the client
    # and never prepare. Behind PgBouncer in transaction mode this needs PgBouncer 1.21+ with
    # max_prepared_statements, or SANLIAN_DB_PREPARE=0.
    if env_bool("SANLIAN_DB_PREPARE", True):
        options.setdefault("prepare_threshold", 5)
        # And planned once: left to choose, PostgreSQL re-planned the submission for every
        # answer (0.5 ms of its 1.4 ms), because its generic estimate for "answers from this
        # address in the last minute" looks worse than a plan for the actual minute. Both
        # plans are the same index lookups. Only those cursors prepare, so only they see it.
        options["options"] += " -c plan_cache_mode=force_generic_plan"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# 等保2.0: at least 8 characters of at least three kinds.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "sanlian.core.validators.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "sanlian.core.validators.CharacterClassValidator"},
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
]

# Lockout after five failures per account (not per address: offices share one NAT address).
AXES_FAILURE_LIMIT = int(env("SANLIAN_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(env("SANLIAN_LOCKOUT_MINUTES", "30")))
AXES_LOCKOUT_PARAMETERS = ["username"]
# axes.W006 wants the address in the lockout key too; a whole office behind one NAT address
# would then be locked out by one person's typos. Per-account lockout is what 等保 asks.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "core/locked_out.html"
AXES_VERBOSE = False
AXES_IPWARE_PROXY_COUNT = int(env("SANLIAN_PROXY_COUNT", "0")) or None

# Idle expiry: the cookie is renewed on every request, so it lapses after this much idleness.
SESSION_COOKIE_AGE = int(env("SANLIAN_SESSION_IDLE_SECONDS", str(30 * 60)))
# Idle expiry: the session's expiry moves forward with use, saved at most once a minute
# (core.middleware.SessionTouchMiddleware), not on every request.
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_FAILURE_VIEW = "sanlian.core.views.csrf_failure"

OTP_TOTP_ISSUER = "三联平台"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
MEDIA_ROOT = DATA_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Serve static files from the apps' folders in development (no collectstatic step for the demo).
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = DEBUG

# Content Security Policy: nothing from any other host, no inline script, no eval.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SANLIAN_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(env("SANLIAN_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Field encryption for resident ID numbers and case notes. The key file is created in
# DATA_DIR on first use unless SANLIAN_FIELD_KEY gives one (production should give one).
FIELD_ENCRYPTION_KEY = env("SANLIAN_FIELD_KEY")

# Audit entries are kept at least this long; the database refuses deleting younger ones
# whatever this says, because the Cybersecurity Law's minimum is six months.
AUDIT_RETENTION_DAYS = max(int(env("SANLIAN_AUDIT_RETENTION_DAYS", "180")), 180)

# Background work: Celery on Redis when REDIS_URL is set; in-process otherwise.
REDIS_URL = env("REDIS_URL")
TASKS_BACKEND = "celery" if REDIS_URL else "inprocess"
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = env("SANLIAN_CELERY_QUEUE", "sanlian")
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # An unacknowledged task (its worker died) is handed out again after this long.
    "visibility_timeout": int(env("SANLIAN_TASK_VISIBILITY_TIMEOUT", "3600")),
}
CELERY_TIMEZONE = TIME_ZONE
# Tests set this to run in-process tasks synchronously instead of on a thread.
TASKS_INPROCESS_SYNC = env_bool("SANLIAN_TASKS_SYNC", False)

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "sanlian.core.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "sanlian",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

NINJA_PAGINATION_PER_PAGE = 50

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("SANLIAN_LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

# 资源联合: a disbursement above this amount (元) needs two different approvers (four-eyes).
DISBURSEMENT_FOUR_EYES_ABOVE = env("SANLIAN_FOUR_EYES_ABOVE", "50000")
# Evidence files of project milestones (sign-in sheets, photos, minutes): the largest accepted.
EVIDENCE_MAX_BYTES = int(env("SANLIAN_EVIDENCE_MAX_BYTES", str(20 * 1024 * 1024)))
# The resource ledger's estimated values (元): an hour of volunteer service, an hour of a venue
# lent to a project (0: lending a venue writes no ledger entry).
VOLUNTEER_HOUR_VALUE = env("SANLIAN_VOLUNTEER_HOUR_VALUE", "20")
VENUE_HOUR_VALUE = env("SANLIAN_VENUE_HOUR_VALUE", "50")

# 服务联动 public pages (no account): answers of one address per minute to a survey, and
# activity sign-ups / door check-ins of one address per window (offices and homes share NAT
# addresses: generous). Behind a reverse proxy set SANLIAN_PROXY_COUNT, or every resident
# shares the proxy's address.
SURVEY_ANSWERS_PER_ADDRESS_PER_MINUTE = int(env("SANLIAN_SURVEY_ANSWERS_PER_MINUTE", "30"))
ACTIVITY_PUBLIC_LIMIT = int(env("SANLIAN_ACTIVITY_PUBLIC_LIMIT", "30"))
ACTIVITY_PUBLIC_WINDOW = int(env("SANLIAN_ACTIVITY_PUBLIC_WINDOW", "600"))

# 数据看板: each area's figures are recomputed in the background this often (minutes); a page
# older than this shows its snapshot, says so and asks for a refresh (insights.services.snapshots).
DASHBOARD_REFRESH_MINUTES = int(env("SANLIAN_DASHBOARD_REFRESH_MINUTES", "60"))
CELERY_BEAT_SCHEDULE = {
    "refresh-dashboards": {
        "task": "sanlian.insights.refresh_dashboards",
        "schedule": DASHBOARD_REFRESH_MINUTES * 60,
    }
}
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")

# The pages benchmark's reference (bench/pages.py): /bench/reference/, a minimal signed-in page
# (one primary-key query, the base template). Mounted only when this is on.
BENCH_REFERENCE_PAGE = env_bool("SANLIAN_BENCH_REFERENCE_PAGE", False)
