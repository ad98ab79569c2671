"""One settings module, driven by the environment.

With no environment at all the app runs after a clone (DJANGO_ENV=development): SQLite
and a filesystem Celery broker in ./data, DEBUG on. Production sets DJANGO_ENV=production
(which refuses to start with DEBUG on, the development key or ALLOWED_HOSTS=*), SECRET_KEY,
ALLOWED_HOSTS, DATABASE_URL (PostgreSQL) and CELERY_BROKER_URL (Redis).
docs/configuration.md lists every variable.
"""

from datetime import timedelta
from pathlib import Path
import os

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [part.strip() for part in os.environ.get(name, default).split(",") if part.strip()]


BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("DATA_DIR", BASE_DIR / "data"))
# pytest-xdist runs the suite in parallel processes (make test): each gets its own data folder, so
# its SQLite test database, broker folder and files, and (below) its own Redis key prefix, so the
# Celery worker one process starts never takes another's jobs.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if XDIST_WORKER:
    DATA_DIR = DATA_DIR / XDIST_WORKER

# "development" (make run, the tests) or "production": production turns DEBUG off by default and
# refuses to start with the settings that are right only on a laptop. DJANGO_DEBUG=0 alone means
# production too.
DJANGO_ENV = (os.environ.get("DJANGO_ENV") or ("development" if env_bool("DJANGO_DEBUG", True) else "production")).strip().lower()
if DJANGO_ENV not in ("development", "production"):
    raise ImproperlyConfigured(f"DJANGO_ENV must be development or production, got {DJANGO_ENV!r}.")
DEBUG = env_bool("DJANGO_DEBUG", DJANGO_ENV == "development")

DEV_SECRET_KEY = "insecure-dev-key-only-for-local-debug-runs-0123456789abcdef"
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DJANGO_DEBUG=0.")
    # Only ever used for a local, DEBUG run.
    SECRET_KEY = DEV_SECRET_KEY

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if not DEBUG else "*")

if DJANGO_ENV == "production":
    _refusals = [
        *(["DJANGO_DEBUG must be off"] if DEBUG else []),
        *(["SECRET_KEY must be your own (50+ characters, not the development key)"]
          if SECRET_KEY == DEV_SECRET_KEY or len(SECRET_KEY) < 50 else []),
        *(["ALLOWED_HOSTS must name your hosts, not *"] if "*" in ALLOWED_HOSTS else []),
    ]
    if _refusals:
        raise ImproperlyConfigured("DJANGO_ENV=production refuses to start: " + "; ".join(_refusals) + ".")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_celery_results",
    "axes",
    "reviewapp.core",
    "reviewapp.accounts",
    "reviewapp.designs",
    "reviewapp.checklists",
    "reviewapp.reviews",
    "reviewapp.benchmarks",
    "reviewapp.reports",
    "reviewapp.starters",
    "reviewapp.actions",
    "reviewapp.portfolio",
    "reviewapp.api",
    # Listed so that the API docs page uses the swagger-ui files shipped in the package (no CDN).
    "ninja",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

if not DEBUG:
    # Production serves its static files from the app (gunicorn + WhiteNoise);
    # a DEBUG run lets runserver and the test live server serve them from the finders.
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "reviewapp.urls"
WSGI_APPLICATION = "reviewapp.wsgi.application"

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
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------
DEFAULT_SQLITE_URL = f"sqlite:///{DATA_DIR / 'db.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", DEFAULT_SQLITE_URL), conn_max_age=60, conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Prepared statements: PostgreSQL plans each query once per connection instead of on every
    # request (the design page's joined read spent 0.45 ms planning and 0.17 ms executing;
    # benchmarks/page_profile.py). Django leaves them off because PgBouncer in transaction mode
    # before 1.21 cannot route them; DATABASE_PREPARED_STATEMENTS=0 turns them off for such a pooler.
    if env_bool("DATABASE_PREPARED_STATEMENTS", True):
        DATABASES["default"].setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=2)
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the worker write to the same file: WAL lets readers run
    # beside a writer, IMMEDIATE avoids "database is locked" on upgrade to write.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL;",
    }
    # A file, not :memory:, so that a real worker process can read the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-db.sqlite3")}
    DATA_DIR.mkdir(parents=True, exist_ok=True)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "designs:list"
LOGOUT_REDIRECT_URL = "login"

# --- Login throttling (django-axes) -------------------------------------------------
# After AXES_FAILURE_LIMIT wrong passwords for one username from one address, that pair is locked
# out for AXES_COOLOFF_MINUTES (the login page says so). A success resets the count.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", 5))
AXES_COOLOFF_TIME = timedelta(minutes=float(os.environ.get("AXES_COOLOFF_MINUTES", 15)))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "reviewapp.accounts.throttling.lockout_response"
# The client address is the socket's, unless TRUSTED_PROXY_COUNT proxies in front of the app each
# append to X-Forwarded-For (a header a client could otherwise forge to escape the lockout).
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", 0))
AXES_CLIENT_IP_CALLABLE = "reviewapp.accounts.throttling.client_ip"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    # plotly.js from the plotly package itself (vendor/plotly.min.js): no CDN, no copy in git.
    "reviewapp.benchmarks.staticfiles.PlotlyJsFinder",
]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Cache ---------------------------------------------------------------------
# The design page caches fragments keyed by their content (docs/performance.md): per process by
# default; CACHE_URL=redis://... shares them between processes.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "OPTIONS": {"MAX_ENTRIES": 1000}}
    if not os.environ.get("CACHE_URL")
    else {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": os.environ["CACHE_URL"]}
}

# --- Security (production) ----------------------------------------------------
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # Health checks come from inside the cluster over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^healthz/detail$"]
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
# Trusted only when set (e.g. X-Forwarded-Proto): only a proxy that sets it on every request, and
# strips it from clients, makes it true; otherwise any client could claim HTTPS.
if _proxy_ssl_header := os.environ.get("SECURE_PROXY_SSL_HEADER", "").strip():
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_ssl_header.upper().replace("-", "_"), "https")

# Content-Security-Policy (django-csp): scripts only from this origin (htmx, plotly.js and the app's
# own files; no inline scripts, no eval: htmx's allowEval is off in _base.html). Inline styles stay
# allowed: templates set a few style attributes and Plotly styles its SVG inline; a style runs no code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- Health (docs/configuration.md) ---------------------------------------------------
# /healthz is public and says only ok or unavailable; /healthz/detail (each check, and a task
# round trip with ?worker=1) answers staff, or a request with `Authorization: Bearer <token>`.
# Empty: staff only.
HEALTHZ_TOKEN = os.environ.get("HEALTHZ_TOKEN", "")

# --- Celery -------------------------------------------------------------------
BROKER_DIR = DATA_DIR / "broker"
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    # kombu's filesystem transport: a broker that is a folder, so a fresh clone
    # needs no broker server. Producer and consumer share the one folder.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
        # kombu polls the folder once a second by default: half a second's wait for every job.
        "polling_interval": 0.1,
    }
    for _folder in ("queue", "control"):
        (BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
elif XDIST_WORKER and CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CELERY_BROKER_TRANSPORT_OPTIONS = {"global_keyprefix": f"{XDIST_WORKER}:"}
CELERY_RESULT_BACKEND = "django-db"
CELERY_RESULT_EXTENDED = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES = (Queue("default"), Queue("gpu"))
CELERY_TASK_ROUTES = {"reviewapp.benchmarks.tasks.*": {"queue": "gpu"}}
CELERY_TASK_TIME_LIMIT = int(os.environ.get("CELERY_TASK_TIME_LIMIT", 30 * 60))
CELERY_TASK_SOFT_TIME_LIMIT = int(os.environ.get("CELERY_TASK_SOFT_TIME_LIMIT", 25 * 60))
# A task whose worker dies is redelivered rather than lost.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)

# --- Benchmark jobs (docs/benchmarks.md, "Benchmark jobs from the app") ----------
BENCHMARK_QUEUE = os.environ.get("BENCHMARK_QUEUE", "gpu")
BENCHMARK_MAX_ACTIVE_RUNS_PER_TEAM = int(os.environ.get("BENCHMARK_MAX_ACTIVE_RUNS_PER_TEAM", 2))
# A running job writes a heartbeat every second; one silent this long lost its worker.
BENCHMARK_HEARTBEAT_TIMEOUT_S = float(os.environ.get("BENCHMARK_HEARTBEAT_TIMEOUT_S", 60))
# The job stops itself at the soft limit (any pool); the reaper ends a run past the hard one.
BENCHMARK_SOFT_TIME_LIMIT_S = float(os.environ.get("BENCHMARK_SOFT_TIME_LIMIT_S", CELERY_TASK_SOFT_TIME_LIMIT))
BENCHMARK_TIME_LIMIT_S = float(os.environ.get("BENCHMARK_TIME_LIMIT_S", CELERY_TASK_TIME_LIMIT))
BENCHMARK_QUEUED_TIMEOUT_S = float(os.environ.get("BENCHMARK_QUEUED_TIMEOUT_S", 6 * 3600))
BENCHMARK_PUBLISH_TIMEOUT_S = float(os.environ.get("BENCHMARK_PUBLISH_TIMEOUT_S", 3))

# --- Review reports (docs/reports.md) --------------------------------------------------
# kaleido draws the report's charts as SVG in this Chromium, one process kept per worker.
REPORT_BROWSER_PATH = os.environ.get("REPORT_BROWSER_PATH") or os.environ.get("BROWSER_PATH") or "/usr/bin/chromium"
REPORT_CHART_TIMEOUT_S = float(os.environ.get("REPORT_CHART_TIMEOUT_S", 30))
REPORT_SOFT_TIME_LIMIT_S = float(os.environ.get("REPORT_SOFT_TIME_LIMIT_S", 120))
REPORT_TIME_LIMIT_S = float(os.environ.get("REPORT_TIME_LIMIT_S", 180))
# A report still queued this long had no worker; the page says so and a new request starts afresh.
REPORT_QUEUED_TIMEOUT_S = float(os.environ.get("REPORT_QUEUED_TIMEOUT_S", 3600))
REPORT_PUBLISH_TIMEOUT_S = float(os.environ.get("REPORT_PUBLISH_TIMEOUT_S", 3))

# --- Email (review requests and decisions; docs/configuration.md) --------------------
# Printed to the server's output unless EMAIL_HOST names an SMTP server (or EMAIL_BACKEND says otherwise).
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND") or (
    "django.core.mail.backends.smtp.EmailBackend" if os.environ.get("EMAIL_HOST")
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", 25))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", 10))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "AI design review <review@localhost>")
# Links in emails point here.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # The PDF renderer and the chart browser narrate every step at INFO.
    "loggers": {name: {"level": "WARNING"} for name in ("weasyprint", "fontTools", "kaleido", "choreographer")},
}
