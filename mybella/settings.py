"""Settings for MyBella: one module, everything switched by environment variables.

Every variable is documented in the README. Values come from the process
environment, then from an optional `.env` file beside `manage.py`.
"""

from pathlib import Path
from urllib.parse import urlsplit

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# Only good enough for a laptop: production must set its own SECRET_KEY.
DEV_SECRET_KEY = "django-insecure-mybella-development-key-do-not-use-in-production"  # noqa: S105

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default=DEV_SECRET_KEY)
# Serving (WSGI, ASGI, runserver) refuses this key while DEBUG is off: mybella/core/security.py.

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "mybella.core",  # first: its runserver wraps WhiteNoise's
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "django_tasks",
    "django_tasks_db",
    "mybella.users",
    "personas",
    "chat",
    "memory",
    "voices",
]

MIDDLEWARE = [
    "mybella.core.middleware.RequestSizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "mybella.core.middleware.DomainErrorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "mybella.urls"

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

WSGI_APPLICATION = "mybella.wsgi.application"
ASGI_APPLICATION = "mybella.asgi.application"

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
# Connections are kept between requests (in the threads the ASGI server keeps): closing SQLite's
# last connection checkpoints the WAL and deletes it, about 1.7 ms of a send's 10 here, and an
# open costs ~0.8 ms more; kept, every endpoint served faster (the bare view 1,118 against ~530
# req/s, a send 158 against 130, the persona page 861 against 250). A kept connection is checked
# before a request reuses it (a PostgreSQL server restarted meanwhile). PostgreSQL takes its
# connections from a pool below instead.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=600)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env.bool(
    "DATABASE_POOL", default=True
):
    # Each process keeps a pool of open connections (psycopg_pool) instead of opening one per
    # request. A pool needs CONN_MAX_AGE=0: a connection goes back to it when a request ends.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 2,
        "max_size": env.int("DATABASE_POOL_MAX_SIZE", default=10),
        "timeout": 10,
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env.bool(
    "DATABASE_SERVER_SIDE_BINDING", default=True
):
    # Server-side binding sends parameters apart from the SQL, so psycopg can prepare a
    # statement once a connection has run it DATABASE_PREPARE_THRESHOLD times; the pool keeps
    # the connection, and with it the plan, so hot reads stop being planned on every request.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "server_side_binding": True,
            "prepare_threshold": env.int("DATABASE_PREPARE_THRESHOLD", default=5),
        }
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Transactions queue on a file lock rather than poll SQLite's (mybella/core/db/sqlite3).
    DATABASES["default"]["ENGINE"] = "mybella.core.db.sqlite3"
    # WAL: readers don't wait for the task worker's writes, and commits are cheaper.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://mybella")}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    # The same, keeping its Redis clients (mybella/core/cache_backends.py).
    CACHES["default"]["BACKEND"] = "mybella.core.cache_backends.RedisCache"
# Apps (or runs) sharing one cache keep apart by a prefix (django-environ reads a URL's
# `?key_prefix=` in lower case for Django's Redis backend, which ignores it).
CACHES["default"]["KEY_PREFIX"] = env.str("CACHE_KEY_PREFIX", default="")
# A signed-in page reads its session from the cache (written through to the database).
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

AUTH_USER_MODEL = "users.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "chat:page"
LOGOUT_REDIRECT_URL = "home"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# Static files are served by WhiteNoise, in development and production alike.
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Serve straight from the app folders too, so nothing breaks before `collectstatic`.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# Media. Public uploads (avatars) go to MEDIA_ROOT and are served at MEDIA_URL. Private
# files (voice samples, speech) go to STORAGES["private"]: PRIVATE_MEDIA_ROOT, which no URL
# reaches, and only views that check the owner read them. A bucket named: S3-compatible storage.
MEDIA_URL = env.str("MEDIA_URL", default="/media/")
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
PRIVATE_MEDIA_ROOT = Path(env.str("PRIVATE_MEDIA_ROOT", default=str(BASE_DIR / "private")))
# What Django serves from MEDIA_ROOT (SERVE_MEDIA): these folders, nothing else.
PUBLIC_MEDIA_PREFIXES = ["avatars/"]
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
AWS_PRIVATE_STORAGE_BUCKET_NAME = env.str("AWS_PRIVATE_STORAGE_BUCKET_NAME", default="")
_s3_access = {
    "access_key": env.str("AWS_ACCESS_KEY_ID", default=None),
    "secret_key": env.str("AWS_SECRET_ACCESS_KEY", default=None),
    "region_name": env.str("AWS_S3_REGION_NAME", default=None),
    "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default=None),
}
if AWS_STORAGE_BUCKET_NAME:
    _media_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            **_s3_access,
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "custom_domain": env.str("AWS_S3_CUSTOM_DOMAIN", default=None),
            "querystring_auth": env.bool("AWS_QUERYSTRING_AUTH", default=True),
            "file_overwrite": False,
            "default_acl": None,
        },
    }
else:
    _media_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
if AWS_PRIVATE_STORAGE_BUCKET_NAME or AWS_STORAGE_BUCKET_NAME:
    _private_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            **_s3_access,
            "bucket_name": AWS_PRIVATE_STORAGE_BUCKET_NAME or AWS_STORAGE_BUCKET_NAME,
            # Sharing the media bucket: under a prefix of their own.
            "location": "" if AWS_PRIVATE_STORAGE_BUCKET_NAME else "private",
            "default_acl": "private",
            "querystring_auth": True,  # never an unsigned URL, so no custom (CDN) domain either
            "custom_domain": None,
            "file_overwrite": False,
        },
    }
else:
    _private_storage = {"BACKEND": "mybella.core.storage.PrivateFileSystemStorage"}
    if PRIVATE_MEDIA_ROOT.resolve().is_relative_to(MEDIA_ROOT.resolve()):
        # Whatever serves MEDIA_ROOT (a web server in front) would serve private files too.
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured("PRIVATE_MEDIA_ROOT must not be inside MEDIA_ROOT.")
STORAGES = {
    "default": _media_storage,
    "private": _private_storage,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Django serves local media itself unless a bucket (or a front web server) does.
SERVE_MEDIA = env.bool("SERVE_MEDIA", default=not AWS_STORAGE_BUCKET_NAME)
# `make bench` only: serve /api/v1/bench/bare/, the bare DRF view measured as the ceiling.
BENCH_BARE_VIEW = env.bool("BENCH_BARE_VIEW", default=False)

# Uploads: bodies over MAX_REQUEST_BYTES are refused (413) before they are read;
# each upload kind has its own, smaller limit checked by content.
MAX_REQUEST_BYTES = env.int("MAX_REQUEST_BYTES", default=12 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# --- Security: HTTPS, HSTS and the Content-Security-Policy -------------------------------
# Everything is off by default so that `make run` works over plain HTTP; the README's
# production line turns HTTPS on, and `manage.py check --deploy` is then clean.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
# A site that only answers HTTPS only sends its cookies over HTTPS.
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=SECURE_SSL_REDIRECT)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=SECURE_SSL_REDIRECT)
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_HTTPS_PROXY", default=False) else None
)

# Signing in. The client address is the n-th X-Forwarded-For entry from the right behind
# TRUSTED_PROXIES proxies, and REMOTE_ADDR with none (the header is then never read).
TRUSTED_PROXIES = env.int("TRUSTED_PROXIES", default=0)
# Per client address: every sign-in and sign-up attempt, pages and API together.
THROTTLE_AUTH = env.str("THROTTLE_AUTH", default="20/min")
# Per account (username, case-insensitive): failed sign-ins from one client address (a stranger's
# guesses close the account to their address, not to its owner's), and from all addresses.
THROTTLE_AUTH_ACCOUNT = env.str("THROTTLE_AUTH_ACCOUNT", default="10/hour")
THROTTLE_AUTH_ACCOUNT_ALL = env.str("THROTTLE_AUTH_ACCOUNT_ALL", default="100/hour")
# Per client address: sign-up attempts.
THROTTLE_SIGNUP = env.str("THROTTLE_SIGNUP", default="10/hour")
# Password reset by email: per client address, and per email address asked for (counted
# whether or not an account has it, so the limit tells nothing about which addresses exist).
THROTTLE_PASSWORD_RESET = env.str("THROTTLE_PASSWORD_RESET", default="10/hour")
THROTTLE_PASSWORD_RESET_EMAIL = env.str("THROTTLE_PASSWORD_RESET_EMAIL", default="3/hour")
# API tokens: hashed, one per device, each expiring this many days after it was made.
API_TOKEN_TTL_DAYS = env.int("API_TOKEN_TTL_DAYS", default=30)
API_TOKENS_MAX_PER_USER = env.int("API_TOKENS_MAX_PER_USER", default=20)


# Email (password reset links): printed on the console unless EMAIL_URL names a server,
# e.g. smtp+tls://user:password@smtp.example.com:587 (django-environ's email URLs).
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="MyBella <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL


def _origin(url: str) -> str | None:
    """Return the scheme://host[:port] of an absolute URL, or None for a path."""
    parts = urlsplit(url if "//" in url else "")
    return f"{parts.scheme or 'https'}://{parts.netloc}" if parts.netloc else None


def _media_origins() -> list[str]:
    """Where uploaded files (avatars) are served from when it is not this site."""
    origins = [_origin(MEDIA_URL)]
    custom_domain = env.str("AWS_S3_CUSTOM_DOMAIN", default="")
    if custom_domain:
        origins.append(_origin(f"//{custom_domain}"))
    elif AWS_STORAGE_BUCKET_NAME:
        endpoint = env.str("AWS_S3_ENDPOINT_URL", default="")
        origins.append(_origin(endpoint) if endpoint else "https://*.amazonaws.com")
    return [origin for origin in dict.fromkeys(origins) if origin]


# No inline script or style anywhere: templates use classes and static files, and only the
# API documentation pages loosen this (mybella/api.py). Browsers report violations to
# /csp-report/, which logs them.
CSP_MEDIA_ORIGINS = env.list("CSP_MEDIA_ORIGINS", default=_media_origins())
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:", *CSP_MEDIA_ORIGINS],
        "media-src": ["'self'", "blob:", *CSP_MEDIA_ORIGINS],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "report-uri": ["/csp-report/"],
    }
}
CSP_REPORT_MAX_BYTES = 16 * 1024
# --- end of Security ---------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "mybella.users.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # `?format=` belongs to our endpoints (card export), not to renderer selection.
    "URL_FORMAT_OVERRIDE": None,
    "DEFAULT_PARSER_CLASSES": [
        # Refuses NaN, NUL, lone surrogates and deep nesting: mybella/core/parsers.py.
        "mybella.core.parsers.StrictJSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "mybella.core.pagination.PageNumberPagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "mybella.core.schema.AutoSchema",
    "EXCEPTION_HANDLER": "mybella.core.exceptions.api_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["mybella.core.throttles.WindowScopedRateThrottle"],
    # Anonymous clients are told apart by client_ip()'s rule (mybella/core/throttles.py).
    "NUM_PROXIES": TRUSTED_PROXIES,
    "DEFAULT_THROTTLE_RATES": {
        "uploads": env.str("THROTTLE_UPLOADS", default="60/hour"),
        "chat": env.str("THROTTLE_CHAT", default="30/min"),
        "speech": env.str("THROTTLE_SPEECH", default="60/min"),
        # Starting a conversation writes the persona's greeting; memories added or changed by hand.
        "conversations": env.str("THROTTLE_CONVERSATIONS", default="60/hour"),
        "memory": env.str("THROTTLE_MEMORY", default="120/hour"),
        # Speaking a streamed reply sentence by sentence: many short requests, each at most
        # 240 characters, so 250 of them weigh what 60 speeches of 1,000 characters do.
        "speech_sentence": env.str("THROTTLE_SPEECH_SENTENCES", default="250/min"),
        "csp_report": env.str("THROTTLE_CSP_REPORT", default="60/min"),
        # Searches (memories, conversations): each reads the full-text index; a person types.
        "search": env.str("THROTTLE_SEARCH", default="120/min"),
    },
}

SPECTACULAR_SETTINGS = {
    "TITLE": "MyBella API",
    "DESCRIPTION": (
        "Talk to AI companion personas. Authenticate with `Authorization: Token <key>` or "
        "`Authorization: Bearer <key>` (get a key from `POST /api/v1/auth/token/`) or with "
        "the web session."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # A memory is of any kind; people give it any kind but a summary.
    "ENUM_NAME_OVERRIDES": {
        "MemoryKindEnum": "memory.models.ConversationMemory.Kind",
        "MemoryInputKindEnum": "memory.models.PEOPLE_KINDS",
    },
}

# Personas.
DEFAULT_PERSONA_SLUG = env.str("DEFAULT_PERSONA_SLUG", default="isabella")
PERSONAS_MAX_PER_USER = env.int("PERSONAS_MAX_PER_USER", default=50)
AVATAR_MAX_BYTES = env.int("AVATAR_MAX_BYTES", default=5 * 1024 * 1024)
AVATAR_MAX_PIXELS = env.int("AVATAR_MAX_PIXELS", default=40_000_000)
AVATAR_SIZE = 512
CARD_MAX_BYTES = env.int("CARD_MAX_BYTES", default=8 * 1024 * 1024)

# Chat and memory.
LLM_CONTEXT_TOKENS = env.int("LLM_CONTEXT_TOKENS", default=3000)
CHAT_MESSAGE_MAX_CHARS = env.int("CHAT_MESSAGE_MAX_CHARS", default=4000)
# PostgreSQL: a finished reply's commit waits for the disk only when true. Off, a database
# crash may lose the last ~0.6 s of finished replies (they are pending again, to retry),
# never a user's message, whose commit always waits.
CHAT_REPLY_SYNCHRONOUS_COMMIT = env.bool("CHAT_REPLY_SYNCHRONOUS_COMMIT", default=False)
HISTORY_IMPORT_MAX_MESSAGES = env.int("HISTORY_IMPORT_MAX_MESSAGES", default=5000)

# Background tasks (memory extraction): the database backend and `manage.py db_worker`.
TASKS = {
    "default": {
        "BACKEND": env.str("TASKS_BACKEND", default="django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}
# Tasks are safe to run twice. One RUNNING this long has lost its worker (killed, out of
# memory) and runs again; after TASKS_MAX_ATTEMPTS such tries it is marked failed.
TASKS_STALE_SECONDS = env.int("TASKS_STALE_SECONDS", default=600)
TASKS_MAX_ATTEMPTS = env.int("TASKS_MAX_ATTEMPTS", default=5)
# A history import's memories are extracted this many user messages per task, one chunk
# after the other, so other users' tasks run in between.
TASKS_CHUNK_SIZE = env.int("TASKS_CHUNK_SIZE", default=50)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
CSRF_FAILURE_VIEW = "mybella.core.views.csrf_failure"

# --- LLM reply engines (mybella/providers/llm) ------------------------------------------
# LLM_PROVIDER: "offline" (built-in, no network), "openai" (any OpenAI-compatible server),
# or "" to use "openai" when LLM_BASE_URL or LLM_API_KEY is set and "offline" otherwise.
LLM_PROVIDER = env.str("LLM_PROVIDER", default="")
LLM_BASE_URL = env.str("LLM_BASE_URL", default="")  # e.g. http://127.0.0.1:11434/v1
LLM_API_KEY = env.str("LLM_API_KEY", default="")
if LLM_BASE_URL and not LLM_API_KEY:
    # Local servers (Ollama, llama.cpp, vLLM) ignore the key, but the SDK insists on one.
    LLM_API_KEY = "not-needed"
LLM_MODEL = env.str("LLM_MODEL", default="gpt-4o-mini")
LLM_EMBEDDING_MODEL = env.str("LLM_EMBEDDING_MODEL", default="")  # empty: no embeddings
LLM_TIMEOUT = env.float("LLM_TIMEOUT", default=30.0)  # seconds
# Every model call has a max_tokens: a local model without a stop token writes until its
# context is full. Replies follow the pair's reply_length preference up to this ceiling;
# memory extraction has its own.
LLM_MAX_TOKENS = env.int("LLM_MAX_TOKENS", default=512)
LLM_EXTRACTION_MAX_TOKENS = env.int("LLM_EXTRACTION_MAX_TOKENS", default=400)
LLM_TEMPERATURE = env.float("LLM_TEMPERATURE", default=0.8)
# Long conversations: stretches older than what a prompt holds are folded into summaries,
# by the model (at most this many tokens each) or, offline, extractively.
LLM_SUMMARY_MAX_TOKENS = env.int("LLM_SUMMARY_MAX_TOKENS", default=300)
# The offline engine remarks on a gap of at least this many days since the user last
# wrote (0: never).
OFFLINE_GAP_DAYS = env.int("OFFLINE_GAP_DAYS", default=7)
# --- end of LLM reply engines ------------------------------------------------------------

# Voices
# Speech: SPEECH_ENGINE "elevenlabs", "espeak", "none", or "" for ElevenLabs when a key is
# set, else espeak-ng when its binary exists, else none (the page uses the browser's voice).
ELEVENLABS_API_KEY = env.str("ELEVENLABS_API_KEY", default="")
ELEVENLABS_BASE_URL = env.str("ELEVENLABS_BASE_URL", default="https://api.elevenlabs.io")
ELEVENLABS_TIMEOUT = env.float("ELEVENLABS_TIMEOUT", default=20.0)  # seconds
SPEECH_ENGINE = env.str("SPEECH_ENGINE", default="")
ESPEAK_BINARY = env.str("ESPEAK_BINARY", default="espeak-ng")
DEFAULT_VOICE_ID = env.str("DEFAULT_VOICE_ID", default="21m00Tcm4TlvDq8ikWAM")  # Rachel
SPEECH_MAX_CHARS = env.int("SPEECH_MAX_CHARS", default=1000)
SPEECH_CACHE_MAX_BYTES = env.int("SPEECH_CACHE_MAX_BYTES", default=500 * 1024 * 1024)
VOICE_SAMPLE_MAX_BYTES = env.int("VOICE_SAMPLE_MAX_BYTES", default=10 * 1024 * 1024)
VOICE_SAMPLE_MIN_SECONDS = env.float("VOICE_SAMPLE_MIN_SECONDS", default=10)
VOICE_SAMPLE_MAX_SECONDS = env.float("VOICE_SAMPLE_MAX_SECONDS", default=300)
CUSTOM_VOICES_MAX_PER_USER = env.int("CUSTOM_VOICES_MAX_PER_USER", default=5)
# --- end of Voices -----------------------------------------------------------------------
