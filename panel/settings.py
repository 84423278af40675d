"""Settings for the panel: everything an operator may change comes from the environment (django-environ).

The defaults are for development on a fresh machine: SQLite under var/, an embedded Celery broker on the
file system, DEBUG on. Production sets DEBUG=0, SECRET_KEY, DATABASE_URL, CELERY_BROKER_URL, ALLOWED_HOSTS.
"""

import hashlib
import hmac
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=True)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        sys.exit("Refusing to start: DEBUG is off and SECRET_KEY is not set (export SECRET_KEY=<a long random string>).")
    SECRET_KEY = "dev-only-insecure-key-never-use-in-production"  # noqa: S105 - DEBUG only

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "csp",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "core",
    "panel",
    "accounts",
    "catalog",
    "orders",
    "sandbox",
    "resellerapi",
    "payments",
    "support",
    "backoffice",
]

MIDDLEWARE = [
    "panel.logs.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.TwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "panel.urls"
WSGI_APPLICATION = "panel.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "panel.context_processors.site",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'panel.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share one SQLite file: WAL lets readers run beside a writer, IMMEDIATE makes a
    # writing transaction take the lock up front (no deadlock on upgrade), and the timeout waits it out.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
# Off by default, as in Django: a check is one more round trip on every request (a sixth of an API `add`'s
# time). A connection that died (the database restarted) then fails one request, and is replaced after it.
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", env.bool("CONN_HEALTH_CHECKS", default=False))

# The API's rate limit counts in the cache: share it between web workers with CACHE_URL=redis://...
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes first: it refuses a locked account or address before the password is even checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
# Login throttling (django-axes): LOGIN_FAILURE_LIMIT failed logins lock the account, and separately the address,
# for LOGIN_LOCKOUT_MINUTES (the page says so, HTTP 429); a successful login clears the account's count.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "core.net.client_ip"
AXES_LOCKOUT_CALLABLE = "accounts.views.login_locked_out"
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False
# Two-factor authentication (django-otp, TOTP + backup codes): customers may turn it on; staff must, before the
# back office or the admin opens, wherever this is on (by default when DEBUG is off).
TWO_FACTOR_REQUIRED_FOR_STAFF = env.bool("TWO_FACTOR_REQUIRED_FOR_STAFF", default=not DEBUG)
OTP_TOTP_ISSUER = env.str("PANEL_NAME", default="SMM Panel")
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # the admin never shows a device's secret
# Sign-ups per address and password-reset requests per address and per e-mail, each an hour.
SIGNUP_LIMIT_PER_HOUR = env.int("SIGNUP_LIMIT_PER_HOUR", default=5)
PASSWORD_RESET_LIMIT_PER_HOUR = env.int("PASSWORD_RESET_LIMIT_PER_HOUR", default=10)
PASSWORD_RESET_LIMIT_PER_EMAIL = env.int("PASSWORD_RESET_LIMIT_PER_EMAIL", default=3)
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Served by whitenoise (also under gunicorn in development, straight from the app folders). In production the
# collected, hashed copies (collectstatic); the app folders stay a fallback for a file not collected yet.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "panel.storage.StaticFiles"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="panel@localhost")

# --- HTTP hardening ----------------------------------------------------------------------------------------
# Cookies out of scripts' reach (HTMX gets the CSRF token from the page, never from the cookie), pages never
# framed, no content-type sniffing, the referrer kept to this site.
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# A session lasts two weeks of absence at the most, and ends with the browser when asked (SESSION_BROWSER_ONLY).
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=14 * 24 * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = env.bool("SESSION_BROWSER_ONLY", default=False)
# In production the panel sits behind a TLS-terminating proxy (README, "Deploying") that sets
# X-Forwarded-Proto: only then are the https-only settings below right, so they follow SITE_URL's scheme
# (each can be set on its own). The proxy must overwrite X-Forwarded-Proto, never pass a client's through.
HTTPS = env.str("SITE_URL", default="").startswith("https://")
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=HTTPS)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=HTTPS)
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=HTTPS)
    # The container's health check asks over plain HTTP from inside.
    SECURE_REDIRECT_EXEMPT = [r"^healthz"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if HTTPS else 0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
# How many reverse proxies of the operator's own stand in front of the panel (each appends to
# X-Forwarded-For): the visitor's address for login throttling and API allow-lists (core.net.client_ip).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
# Content-Security-Policy (django-csp): scripts, styles and images from this site only, forms post only here
# (the payment pages redirect to a gateway rather than post to it), nothing framed, no plugins. The vendored
# HTMX is told not to add its inline indicator style (templates/base.html).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    },
}

# --- The panel ------------------------------------------------------------------------------------------
PANEL_NAME = env.str("PANEL_NAME", default="SMM Panel")
PANEL_CURRENCY = env.str("PANEL_CURRENCY", default="USD")
# Where this panel can reach itself; the demo registers its own sandbox at SITE_URL + /sandbox/api/v2.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

# Seconds between refreshes of a live order page or orders list (HTMX polling) while orders move.
LIVE_REFRESH_SECONDS = env.int("LIVE_REFRESH_SECONDS", default=5)
# Seconds between refreshes of the staff dashboard.
DASHBOARD_REFRESH_SECONDS = env.float("DASHBOARD_REFRESH_SECONDS", default=30.0)

# Provider HTTP: connect and read timeouts (seconds) of the smmapi client.
PROVIDER_CONNECT_TIMEOUT = env.float("PROVIDER_CONNECT_TIMEOUT", default=5.0)
PROVIDER_READ_TIMEOUT = env.float("PROVIDER_READ_TIMEOUT", default=30.0)

# The simulated provider at /sandbox/api/v2 and the simulated payment gateway at /sandbox/gateway/ (demo and
# tests). Off in production (DEBUG=0) unless asked for: its test card credits balances with money nobody paid.
SANDBOX_ENABLED = env.bool("SANDBOX_ENABLED", default=DEBUG)
# Seconds of wall time a sandbox order needs to move from Pending to its final status.
SANDBOX_ORDER_SECONDS = env.float("SANDBOX_ORDER_SECONDS", default=120.0)

# --- Celery ---------------------------------------------------------------------------------------------
# Where the embedded broker keeps its files (CELERY_BROKER_DIR): a bench can have a folder of its own.
BROKER_DIR = Path(env.str("CELERY_BROKER_DIR", default=str(VAR_DIR / "broker")))
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://localhost/")
if CELERY_BROKER_URL.startswith("filesystem://"):
    # The embedded broker: messages are files under var/broker, no server needed; each written whole before a
    # worker can see it (panel/broker.py).
    CELERY_BROKER_TRANSPORT = "panel.broker:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any] = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
else:
    # Publishing (from a web request) tries a dead broker twice and gives up within a second; the order is
    # safe in the database and the sweep sends it once the broker is back.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": 3600,
        "max_retries": 1,
        "interval_start": 0,
        "interval_step": 0.2,
        "interval_max": 0.2,
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A web request that hands an order to a dead broker must give up fast; the sweep sends it later.
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=1.0)
CELERY_TASK_IGNORE_RESULT = True
# The worker and beat log through LOGGING above (JSON, redacted) rather than Celery's own root handler.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=240)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ACKS_LATE = False
# Celery's Django fixup closes every database connection after each task unless told to reuse them: polling's
# batch tasks (a thousand a minute at scale) would each open a new PostgreSQL connection. Kept for this many
# tasks (and CONN_MAX_AGE) instead.
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Beat notes a heartbeat on every tick (panel.beat): the back office tells a stopped beat from a stopped worker.
CELERY_BEAT_SCHEDULER = "panel.beat:HeartbeatScheduler"
# Seconds between catalog syncs of every active provider.
CATALOG_SYNC_SECONDS = env.float("CATALOG_SYNC_SECONDS", default=3600.0)
# Seconds between polling cycles (order, refill and cancel progress).
POLL_INTERVAL_SECONDS = env.float("POLL_INTERVAL_SECONDS", default=60.0)
CELERY_BEAT_SCHEDULE = {
    "catalog-sync": {"task": "catalog.sync_all", "schedule": CATALOG_SYNC_SECONDS},
    "orders-sweep": {"task": "orders.sweep", "schedule": env.float("ORDER_SWEEP_SECONDS", default=60.0)},
    "orders-poll": {"task": "orders.poll_cycle", "schedule": POLL_INTERVAL_SECONDS},
    "heartbeat": {"task": "panel.heartbeat", "schedule": 30.0},
    "provider-call-timings-cleanup": {"task": "catalog.forget_old_calls", "schedule": 3600.0},
    "payments-reconcile": {"task": "payments.reconcile",
                           "schedule": env.float("PAYMENTS_RECONCILE_SECONDS", default=60.0)},
    # Notifications whose task was lost (or whose worker died), tries that are due again, and the digests.
    "notifications-sweep": {"task": "support.sweep_notifications",
                            "schedule": env.float("NOTIFY_SWEEP_SECONDS", default=60.0)},
}
# An order asked about less than this long ago is not asked again: two cycles that overlap (two beats, a
# manual poll_orders) split the orders rather than both asking. Below the interval, so each cycle polls all.
POLL_REPOLL_SECONDS = max(0.0, min(env.float("POLL_REPOLL_SECONDS", default=30.0),
                                   0.9 * POLL_INTERVAL_SECONDS))
# Polling: IDs per `status` call (the protocol's limit is 100), orders per provider per cycle, per-item
# errors in a row before staff are told, and the backoff of a provider whose calls fail.
POLL_BATCH_SIZE = min(env.int("POLL_BATCH_SIZE", default=100), 100)
POLL_MAX_ORDERS_PER_CYCLE = env.int("POLL_MAX_ORDERS_PER_CYCLE", default=200000)
POLL_ERROR_LIMIT = env.int("POLL_ERROR_LIMIT", default=5)
POLL_BACKOFF_SECONDS = env.float("POLL_BACKOFF_SECONDS", default=60.0)
# A failed call is tried again within the cycle this many times (after POLL_RETRY_SECONDS × the attempt,
# jittered) before it counts; a provider is backed off only after this many failed calls in a row.
POLL_RETRIES = env.int("POLL_RETRIES", default=2)
POLL_RETRY_SECONDS = env.float("POLL_RETRY_SECONDS", default=0.25)
POLL_FAILURES_BEFORE_BACKOFF = env.int("POLL_FAILURES_BEFORE_BACKOFF", default=3)
# Calls in flight at once per provider, for a new provider (each provider has its own setting).
POLL_CONCURRENCY = env.int("POLL_CONCURRENCY", default=4)
POLL_BACKOFF_MAX_SECONDS = env.float("POLL_BACKOFF_MAX_SECONDS", default=3600.0)

# --- Logging: secrets never logged; smmapi logs at INFO without keys ---------------------------------------
# One JSON object a line with the request's (or Celery task's) id in production (LOG_FORMAT=json, the default
# with DEBUG off), plain lines in development; every line passes panel.logs.RedactSecrets first.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain" if DEBUG else "json")
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "panel.logs.RequestIdFilter"}, "redact": {"()": "panel.logs.RedactSecrets"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "panel.logs.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json" if LOG_FORMAT == "json" else "plain",
                             "filters": ["redact", "request_id"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # The Stripe SDK logs every request at INFO, and an error's message as Stripe wrote it (a masked key).
    # django-axes notes every login at INFO; its warnings (a lockout) are kept.
    "loggers": {"django.db.backends": {"level": "WARNING"}, "stripe": {"level": "WARNING"},
                "axes": {"level": "WARNING"}},
}

# --- Reseller API (/api/v2 served to customers) -------------------------------------------------------------
# Requests per API key per minute (a fixed window counted in the default cache; 0 turns the limit off).
# The cache is per process unless CACHES points at a shared one (Redis): with N web workers on LocMem
# the effective limit is up to N times this.
API_RATE_LIMIT_PER_MINUTE = env.int("API_RATE_LIMIT_PER_MINUTE", default=600)

# --- Payments: every gateway's settings come from the environment, never from a page ------------------------
# Stripe Checkout (cards): enabled when the secret key is set; the webhook secret verifies /payments/webhook/stripe/.
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
# Where the SDK sends its calls: Stripe's own, or a stand-in (stripe-mock, a test server).
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="https://api.stripe.com")
# Cryptomus (crypto): enabled when both are set; the payment API key signs requests and verifies webhooks.
CRYPTOMUS_MERCHANT_ID = env.str("CRYPTOMUS_MERCHANT_ID", default="")
CRYPTOMUS_API_KEY = env.str("CRYPTOMUS_API_KEY", default="")
CRYPTOMUS_API_BASE = env.str("CRYPTOMUS_API_BASE", default="https://api.cryptomus.com")
# The sandbox gateway under /sandbox/gateway/ (with SANDBOX_ENABLED): its API key and signing secret, derived
# from SECRET_KEY unless given; the seconds it waits before it sends a notification, as real gateways do.
SANDBOX_GATEWAY_KEY = env.str("SANDBOX_GATEWAY_KEY", default="") or hmac.new(
    SECRET_KEY.encode(), b"sandbox-gateway-key", hashlib.sha256).hexdigest()[:32]
SANDBOX_GATEWAY_SECRET = env.str("SANDBOX_GATEWAY_SECRET", default="") or hmac.new(
    SECRET_KEY.encode(), b"sandbox-gateway-signing", hashlib.sha256).hexdigest()
SANDBOX_GATEWAY_NOTIFY_DELAY = env.float("SANDBOX_GATEWAY_NOTIFY_DELAY", default=1.0)
# Seconds to connect to and hear from a gateway.
PAYMENT_GATEWAY_TIMEOUT = env.float("PAYMENT_GATEWAY_TIMEOUT", default=15.0)
# How long a customer has to pay on the gateway's page before the payment expires.
PAYMENT_LIFETIME_SECONDS = env.int("PAYMENT_LIFETIME_SECONDS", default=3600)
# A payment pending this long has its state fetched from the gateway (its webhook may have been lost); and
# no payment is asked about more often than this by the beat task.
PAYMENT_CHECK_AFTER_SECONDS = env.int("PAYMENT_CHECK_AFTER_SECONDS", default=300)
# Seconds between refreshes of a payment's page while it waits for the gateway.
PAYMENT_REFRESH_SECONDS = env.float("PAYMENT_REFRESH_SECONDS", default=3.0)
# A payment past its expiry whose gateway cannot be asked is expired anyway this much later.
PAYMENT_EXPIRY_GRACE_SECONDS = env.int("PAYMENT_EXPIRY_GRACE_SECONDS", default=86400)

# --- Notifications ----------------------------------------------------------------------------------------
# Email goes through EMAIL_BACKEND (console in development). For SMTP either give EMAIL_URL
# (smtp+tls://user:password@smtp.example.com:587; it wins over EMAIL_BACKEND and the single settings) or
# EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend with EMAIL_HOST, EMAIL_PORT, ... below.
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
if env.str("EMAIL_URL", default=""):
    globals().update({name: value for name, value in env.email_url("EMAIL_URL").items()
                      if name.startswith("EMAIL_") and value not in (None, "")})
# Seconds an SMTP connection may take: without it a stuck server holds the sending task until its time limit.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
# Staff alerts by Telegram, when both are set: the bot's token (from @BotFather; never logged or stored
# with a notification) and the chat it writes to (a group's ID, e.g. -1001234567890).
TELEGRAM_BOT_TOKEN = env.str("TELEGRAM_BOT_TOKEN", default="")
TELEGRAM_CHAT_ID = env.str("TELEGRAM_CHAT_ID", default="")
TELEGRAM_API_BASE = env.str("TELEGRAM_API_BASE", default="https://api.telegram.org")
TELEGRAM_CONNECT_TIMEOUT = env.float("TELEGRAM_CONNECT_TIMEOUT", default=5.0)
TELEGRAM_READ_TIMEOUT = env.float("TELEGRAM_READ_TIMEOUT", default=10.0)
# The Bot API's token is part of each request's URL, which urllib3 logs at DEBUG: never logged here.
LOGGING["loggers"].setdefault("urllib3.connectionpool", {"level": "INFO"})
# Per channel and recipient: at most this many messages of one kind in the window go out one by one; beyond,
# they wait and go together in one digest (at most one per kind and window).
NOTIFY_MAX_PER_KIND = env.int("NOTIFY_MAX_PER_KIND", default=5)
NOTIFY_WINDOW_SECONDS = env.int("NOTIFY_WINDOW_SECONDS", default=600)
# A message that cannot be sent is tried this many times in all, after NOTIFY_RETRY_SECONDS, then twice
# that, and so on; then it is marked failed with its error. A worker that died mid-send frees its rows
# after NOTIFY_LEASE_SECONDS.
NOTIFY_MAX_ATTEMPTS = env.int("NOTIFY_MAX_ATTEMPTS", default=4)
NOTIFY_RETRY_SECONDS = env.float("NOTIFY_RETRY_SECONDS", default=60.0)
NOTIFY_LEASE_SECONDS = env.int("NOTIFY_LEASE_SECONDS", default=600)
# Seconds between refreshes of the bell (the unread count in the top bar).
NOTIFY_BELL_REFRESH_SECONDS = env.int("NOTIFY_BELL_REFRESH_SECONDS", default=30)
