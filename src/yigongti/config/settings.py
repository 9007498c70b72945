"""Django settings, built from the one typed settings object in ``env.py``."""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from yigongti.config import env

try:
    CONFIG = env.load()
except env.SettingsError as exc:  # pragma: no cover - exercised through a subprocess test
    raise ImproperlyConfigured(str(exc)) from None

PACKAGE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = CONFIG.secret_key
DEBUG = CONFIG.debug
ALLOWED_HOSTS = list(CONFIG.allowed_hosts)
if CONFIG.profile == "test":
    ALLOWED_HOSTS += ["testserver"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "ninja",  # serves Swagger UI from its own static files, never from a CDN
    "yigongti.core",
    "yigongti.geo",
    "yigongti.organizations",
    "yigongti.staff",
    "yigongti.accounts",
    "yigongti.residents",
    "yigongti.encounters",
    "yigongti.scheduling",
    "yigongti.referrals",
    "yigongti.analytics",
    "yigongti.indicators",
    "yigongti.synth",
    "yigongti.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "yigongti.web.middleware.ActorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "yigongti.config.urls"
WSGI_APPLICATION = "yigongti.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "yigongti.web.context.platform",
            ],
        },
    },
]

if CONFIG.database_url:
    # Tests close connections after each request so the live server's threads do not keep
    # the throwaway test database open at teardown.
    DATABASES = {
        "default": dj_database_url.parse(
            CONFIG.database_url, conn_max_age=0 if CONFIG.profile == "test" else 60
        )
    }
else:
    CONFIG.data_dir.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(CONFIG.sqlite_path),
        }
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL journal, a busy timeout instead of "database is locked", and IMMEDIATE write
    # transactions so that concurrent writers queue instead of failing on upgrade. A 64 MiB
    # page cache (default 2 MiB) keeps the indexes of a county's million-row tables in memory
    # during imports (allocated only as pages are used); checkpointing the WAL every 64 MiB
    # instead of 4 MiB writes each hot index page back once per many imported chunks.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
            " PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY; PRAGMA wal_autocheckpoint=16384;"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DATABASES["default"]["ATOMIC_REQUESTS"] = True

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if CONFIG.profile == "test":
    # Tests create many users; a fast hasher keeps them quick. Argon2 is asserted in its own test.
    PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.Argon2PasswordHasher",
    ]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"

LOGIN_FAILURE_LIMIT = CONFIG.login_failure_limit
LOGIN_LOCKOUT_MINUTES = CONFIG.login_lockout_minutes

SESSION_COOKIE_SECURE = CONFIG.secure_cookies
CSRF_COOKIE_SECURE = CONFIG.secure_cookies
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 8 * 3600
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
FORMAT_MODULE_PATH = ["yigongti.config.formats"]  # 280,500, not 280500 (intcomma)

STATIC_URL = "/static/"
STATIC_ROOT = CONFIG.data_dir / "staticfiles"
SNAPSHOT_ROOT = CONFIG.data_dir / "snapshot"  # Parquet snapshots (analytics)
SPARK_MASTER = CONFIG.spark_master  # the Spark engine (indicators compute --engine spark)
# Uploaded documents (the indicator evidence register). No MEDIA_URL is routed: files are served
# only by login-required, scope-checked, audited views, never as public static files.
MEDIA_ROOT = CONFIG.data_dir / "media"
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = CONFIG.profile != "production"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
