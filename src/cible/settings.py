"""Django settings, read from CIBLE_* environment variables (documented in .env.example)."""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

from cible.lib.env import env_bool, env_int, env_list, env_str, secret_key

PACKAGE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(env_str("CIBLE_VAR_DIR", "var")).resolve()

DEBUG = env_bool("CIBLE_DEBUG", False)
SECRET_KEY = secret_key("CIBLE_SECRET_KEY", keep_in=VAR_DIR / "secret_key")
ALLOWED_HOSTS = env_list("CIBLE_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CIBLE_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",
    "django_htmx",
    "ninja",  # serves Swagger UI's files itself: no CDN for the API docs page
    "auditlog",
    "huey.contrib.djhuey",
    "cible.core",
    "cible.people",
    "cible.quality.imports",
    "cible.quality.duplicates",
    "cible.quality.freshness",
    "cible.quality.privacy",
    "cible.segments.axes",
    "cible.segments.profiles",
    "cible.segments.targets",
    "cible.engagement.campaigns",
    "cible.engagement.interactions",
    "cible.engagement.capture",
    "cible.engagement.tasks",
    "cible.lifecycle.leads",
    "cible.lifecycle.scoring",
    "cible.lifecycle.predictive",
    "cible.nurture.mailing",
    "cible.nurture.programs",
    "cible.routing.assignment",
    "cible.routing.sla",
    "cible.pipeline",
    "cible.insights.performance",
    "cible.insights.funnel",
    "cible.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "cible.people.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "cible.urls"
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"
WSGI_APPLICATION = "cible.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "cible.core.context_processors.navigation",
            ],
        },
    }
]

# --- database --------------------------------------------------------------------------------
DATABASE_URL = env_str("CIBLE_DATABASE_URL", f"sqlite:///{VAR_DIR / 'cible.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers work while a writer writes; IMMEDIATE takes the write lock at BEGIN,
        # so two writers queue instead of failing half-way with "database is locked".
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        # Reads through a memory map (up to SQLite's default 2 GB cap) find a million-row
        # table's pages in the OS cache without copying them: row lookups by key twice as fast.
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
            "PRAGMA cache_size=-64000; PRAGMA temp_store=MEMORY; PRAGMA mmap_size=2147418112;"
        ),
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- background work -------------------------------------------------------------------------
REDIS_URL = env_str("CIBLE_REDIS_URL", "")
HUEY: dict[str, object]
if REDIS_URL:
    HUEY = {"huey_class": "huey.RedisHuey", "name": "cible", "url": REDIS_URL}
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "cible",
        "filename": str(VAR_DIR / "huey.sqlite3"),
    }
HUEY["immediate"] = env_bool("CIBLE_TASKS_IMMEDIATE", False)

# --- email ------------------------------------------------------------------------------------
# Nurture emails, escalations and notifications go out through Django's SMTP backend.
EMAIL_BACKEND = env_str("CIBLE_EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env_str("CIBLE_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("CIBLE_EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("CIBLE_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = env_str("CIBLE_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = env_bool("CIBLE_EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("CIBLE_EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("CIBLE_EMAIL_TIMEOUT", 30)
DEFAULT_FROM_EMAIL = env_str("CIBLE_EMAIL_FROM", "Cible <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The address people reach Cible at: links in emails (tracking, unsubscribe) are built on it.
SITE_URL = env_str("CIBLE_SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# SMTP connections a sending batch uses at once (more help with a distant, slow server).
MAIL_SMTP_CONNECTIONS = env_int("CIBLE_MAIL_SMTP_CONNECTIONS", 1)
# Bounces: delivery status notifications read from a Maildir folder and/or an IMAP mailbox,
# and an inbound webhook (POST /api/v1/mail/bounces, header X-Cible-Webhook-Secret).
MAIL_BOUNCE_MAILDIR = env_str("CIBLE_MAIL_BOUNCE_MAILDIR", "")
MAIL_BOUNCE_IMAP_HOST = env_str("CIBLE_MAIL_BOUNCE_IMAP_HOST", "")
MAIL_BOUNCE_IMAP_PORT = env_int("CIBLE_MAIL_BOUNCE_IMAP_PORT", 993)
MAIL_BOUNCE_IMAP_USER = env_str("CIBLE_MAIL_BOUNCE_IMAP_USER", "")
MAIL_BOUNCE_IMAP_PASSWORD = env_str("CIBLE_MAIL_BOUNCE_IMAP_PASSWORD", "")
MAIL_BOUNCE_IMAP_FOLDER = env_str("CIBLE_MAIL_BOUNCE_IMAP_FOLDER", "INBOX")
MAIL_BOUNCE_IMAP_SSL = env_bool("CIBLE_MAIL_BOUNCE_IMAP_SSL", True)
# A CA bundle to check the IMAP server's certificate against, instead of the system's.
MAIL_BOUNCE_IMAP_CAFILE = env_str("CIBLE_MAIL_BOUNCE_IMAP_CAFILE", "")
MAIL_WEBHOOK_SECRET = env_str("CIBLE_MAIL_WEBHOOK_SECRET", "")

# --- authentication --------------------------------------------------------------------------
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# --- language, time, money -------------------------------------------------------------------
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = env_str("CIBLE_TIME_ZONE", "Europe/Paris")
USE_I18N = True
USE_TZ = True
DEFAULT_CURRENCY = "EUR"

# --- static files ----------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns when it is missing
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True  # serve straight from the package: no collectstatic step
WHITENOISE_AUTOREFRESH = DEBUG

# --- limits and security -------------------------------------------------------------------
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("CIBLE_MAX_BODY_BYTES", 5 * 1024 * 1024)
# The largest CSV or XLSX file an import accepts (CSV files are streamed whatever their size).
IMPORT_MAX_FILE_BYTES = env_int("CIBLE_IMPORT_MAX_FILE_BYTES", 1024 * 1024 * 1024)
# An XLSX sheet is held in memory whole while it is read (some 130 bytes per cell).
IMPORT_MAX_XLSX_CELLS = env_int("CIBLE_IMPORT_MAX_XLSX_CELLS", 5_000_000)
# An import with at least this many rows, that mostly creates records and would at least double
# the table, builds the table's secondary indexes once at the end (0: never; core/indexes.py).
IMPORT_REBUILD_INDEXES_FROM = env_int("CIBLE_IMPORT_REBUILD_INDEXES_FROM", 100_000)
# Days an uploaded file is kept once its import is left alone (finished, failed…); 0: forever.
IMPORT_FILE_RETENTION_DAYS = env_int("CIBLE_IMPORT_FILE_RETENTION_DAYS", 30)
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

# --- audit -----------------------------------------------------------------------------------
AUDITLOG_INCLUDE_ALL_MODELS = False
AUDITLOG_DISABLE_REMOTE_ADDR = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("CIBLE_LOG_LEVEL", "WARNING")},
}
