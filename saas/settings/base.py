"""Settings shared by every environment.

Everything that varies between machines is read from the environment (django-environ). The
embedded-services bootstrap (``saas.embedded``) sets ``DATABASE_URL`` and ``REDIS_URL`` before
Django starts when the operator gave none, so these settings never guess.
"""

from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote

import environ
from csp.constants import NONCE
from django.utils.translation import gettext_lazy as _

from saas.site_name import site_name_lazy

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
# Local state (embedded servers' data, media, evidence, local Stripe and TSA): ``var/`` unless
# EGIDE_VAR_DIR says otherwise (the live stage runs from an empty one).
VAR_DIR = Path(env("EGIDE_VAR_DIR", default=str(BASE_DIR / "var")))

# ---------------------------------------------------------------------------------------------
# Core
# ---------------------------------------------------------------------------------------------
SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])
# The platform operator's host (public schema). Tenants get their own domains at onboarding.
PLATFORM_DOMAIN = env("EGIDE_PLATFORM_DOMAIN", default="localhost")
# Scheme and port used to build absolute links (e-mails, invitations) per tenant domain.
SITE_SCHEME = env("EGIDE_SITE_SCHEME", default="https")
SITE_PORT = env("EGIDE_SITE_PORT", default="")

# ---------------------------------------------------------------------------------------------
# Applications: the public schema holds the platform, every insurer schema holds its own
# Wagtail site, users and business data. Isolation comes from the schema, not from filters.
# ---------------------------------------------------------------------------------------------
SHARED_APPS = [
    "saas.apps.SaasConfig",
    "django_tenants",
    "tenants.apps.TenantsConfig",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.admin",
    "django.contrib.staticfiles",
    "dramatiq_crontab",
    # Two-factor login and login throttling: shared AND tenant apps, so that the platform's
    # operator and each insurer's staff have theirs in their own schema (no cross-insurer lock).
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "outbox.apps.OutboxConfig",
    "common.apps.CommonConfig",  # template filters only (egide_format)
]

TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.sitemaps",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.embeds",
    "wagtail.sites",
    "tenants.apps.StaffUsersConfig",  # wagtail.users, see tenants/staff_users.py
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_tasks",
    "cover.apps.CoverConfig",
    "cover.claims.apps.ClaimsConfig",
    "evidence.apps.EvidenceConfig",
    "cleanup.apps.CleanupConfig",
    "cleanup.google.apps.GoogleReviewsConfig",
    "cleanup.places.apps.PlacesReviewsConfig",
    "mailing.apps.MailingConfig",
]

INSTALLED_APPS = list(SHARED_APPS) + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.Insurer"
TENANT_DOMAIN_MODEL = "tenants.Domain"
PUBLIC_SCHEMA_NAME = "public"
# New insurers are cloned from this schema (migrated, never a tenant itself) instead of
# replaying every Wagtail migration: ~10x faster onboarding, see bench/bench_onboarding.py.
TENANT_BASE_SCHEMA = "tenant_template"
TENANT_CREATION_FAKES_MIGRATIONS = True
SHOW_PUBLIC_IF_NO_TENANT_FOUND = False

MIDDLEWARE = [
    # /healthz answers on any host before tenant resolution (and before the database is used).
    "saas.health.HealthCheckMiddleware",
    # Database unreachable: a French 503 with Retry-After instead of a 500 page.
    "saas.unavailable.DatabaseUnavailableMiddleware",
    "django_tenants.middleware.main.TenantMainMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "saas.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Anonymous visitors' public pages from the cache (inside CSP for the nonce, outside auth).
    "saas.page_cache.AnonymousPageCacheMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "tenants.two_factor_middleware.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "saas.middleware.TenantSafeRedirectMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a locked login into the lock page
]

ROOT_URLCONF = "saas.urls_tenant"
PUBLIC_SCHEMA_URLCONF = "saas.urls_public"
WSGI_APPLICATION = "saas.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wagtail.contrib.settings.context_processors.settings",
            ],
        },
    },
]

# ---------------------------------------------------------------------------------------------
# Database
# ---------------------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", engine="django_tenants.postgresql_backend")}
DATABASES["default"]["ENGINE"] = "django_tenants.postgresql_backend"
# A unix-socket directory arrives percent-encoded in the URL host (the embedded server's form).
DATABASES["default"]["HOST"] = unquote(DATABASES["default"].get("HOST", ""))
DATABASES["default"].setdefault("CONN_MAX_AGE", 0)
DATABASE_ROUTERS = ("django_tenants.routers.TenantSyncRouter",)
# ``SET search_path`` once per connection and tenant, not before every query (34 of the claim
# page's 73 queries). Safe with rollbacks: the backend forgets the path when a ROLLBACK (or
# ROLLBACK TO SAVEPOINT) discards the SET (tests/saas/test_search_path_limit.py).
TENANT_LIMIT_SET_CALLS = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# ---------------------------------------------------------------------------------------------
# Cache: keys are prefixed with the schema so one insurer never reads another's cached pages.
# ---------------------------------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")
# A cache that is down or slow degrades to no cache (errors logged, pages still served):
# django-redis ignores its exceptions, with short timeouts. /healthz reports the outage.
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env("EGIDE_CACHE_PREFIX", default="egide"),
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
        "OPTIONS": {
            "IGNORE_EXCEPTIONS": True,
            "SOCKET_CONNECT_TIMEOUT": env.float("EGIDE_CACHE_CONNECT_TIMEOUT_S", default=0.5),
            "SOCKET_TIMEOUT": env.float("EGIDE_CACHE_TIMEOUT_S", default=0.5),
        },
    }
}
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
DJANGO_REDIS_LOGGER = "saas.cache"
# Sessions live in PostgreSQL (Django's default engine), never in the cache.
SESSION_ENGINE = "django.contrib.sessions.backends.db"

# ---------------------------------------------------------------------------------------------
# Background work (Dramatiq). RabbitMQ when RABBITMQ_URL is set, Redis otherwise.
# ---------------------------------------------------------------------------------------------
RABBITMQ_URL = env("RABBITMQ_URL", default="")
DRAMATIQ_NAMESPACE = env("EGIDE_DRAMATIQ_NAMESPACE", default="egide")
DRAMATIQ_CRONTAB = {"REDIS_URL": REDIS_URL}
# Wagtail 8 indexes search through django-tasks: keep it immediate so the work runs in the
# request's schema (a deferred backend would run it in no schema at all).
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

# ---------------------------------------------------------------------------------------------
# Auth
# ---------------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "portal:login"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "/"
# Login throttling (django-axes, see tenants/login_throttle.py): failures counted per account
# and per client address, in the schema of the host (each insurer has its own counters).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("EGIDE_LOGIN_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("EGIDE_LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# Reverse proxies in front of gunicorn that append to X-Forwarded-For (0: none, the header is
# ignored). Failures are then counted against the client's address, not the proxy's.
EGIDE_TRUSTED_PROXY_COUNT = env.int("EGIDE_TRUSTED_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "tenants.login_throttle.client_ip"
# The web process loads the French language model when it starts, in the background.
EGIDE_NLP_PRELOAD = env.bool("EGIDE_NLP_PRELOAD", default=True)
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "tenants.login_throttle.username_normalise"
AXES_LOCKOUT_CALLABLE = "tenants.login_throttle.lockout_response"
AXES_VERBOSE = False
# Two-factor login of staff (django-otp, see tenants/two_factor.py).


def _totp_issuer(device) -> str:
    # The insurer's name on its host (tenants.two_factor.totp_issuer).
    from tenants.two_factor import totp_issuer  # lazy: settings load before the apps

    return totp_issuer(device=device)


OTP_TOTP_ISSUER = _totp_issuer

# ---------------------------------------------------------------------------------------------
# Internationalisation: French first, English available.
# ---------------------------------------------------------------------------------------------
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("Français")), ("en", _("Anglais"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True
WAGTAIL_I18N_ENABLED = False
WAGTAILADMIN_PERMITTED_LANGUAGES = LANGUAGES
WAGTAIL_CONTENT_LANGUAGES = [("fr", "Français")]

# ---------------------------------------------------------------------------------------------
# Static and media. Media are stored per tenant (one folder per schema) so that two insurers'
# image renditions can never share a path.
# ---------------------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = env.path("EGIDE_STATIC_ROOT", default=str(VAR_DIR / "static"))
STATICFILES_DIRS = [BASE_DIR / "saas" / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("EGIDE_MEDIA_ROOT", default=str(VAR_DIR / "media"))
MULTITENANT_RELATIVE_MEDIA_ROOT = "%s"
STORAGES = {
    "default": {"BACKEND": "django_tenants.files.storage.TenantFileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# ---------------------------------------------------------------------------------------------
# Wagtail
# ---------------------------------------------------------------------------------------------
# The current insurer's name on its admin, « Égide » on the platform's (saas/site_name.py).
WAGTAIL_SITE_NAME = site_name_lazy()
# Global by design in Wagtail; links in e-mails are built per tenant (tenants.selectors).
WAGTAILADMIN_BASE_URL = env("WAGTAILADMIN_BASE_URL", default="http://localhost")
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILDOCS_EXTENSIONS = ["pdf", "odt", "docx", "txt", "csv"]
# No call from the admin to third parties (health-related data; CSP allows 'self' only).
WAGTAIL_GRAVATAR_PROVIDER_URL = None
WAGTAIL_ENABLE_UPDATE_CHECK = False

# ---------------------------------------------------------------------------------------------
# Content Security Policy (django-csp, saas.middleware.ContentSecurityPolicyMiddleware): our
# origin only; inline scripts need the request's nonce (``nonce="{{ request.csp_nonce }}"``);
# inline styles stay allowed (style attributes in templates and in Wagtail's admin). The
# middleware adds Stripe Checkout to form-action and relaxes script-src in the admins.
# ---------------------------------------------------------------------------------------------
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", NONCE],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-src": ["'self'"],
        "frame-ancestors": ["'self'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# ---------------------------------------------------------------------------------------------
# E-mail
# ---------------------------------------------------------------------------------------------
EMAIL_BACKEND = env("EGIDE_EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
DEFAULT_FROM_EMAIL = env("EGIDE_DEFAULT_FROM_EMAIL", default="Égide <no-reply@egide.localhost>")
# With EGIDE_EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend (the live stage).
EMAIL_FILE_PATH = env("EGIDE_EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))

# ---------------------------------------------------------------------------------------------
# Browser (evidence capture, monitoring of JavaScript pages)
# ---------------------------------------------------------------------------------------------
# Chromium's headless build (Debian's chromium-headless-shell, the browser Playwright runs for
# headless work): the same Blink and V8 as Chromium, without the desktop browser's parts, it
# starts a page in a fifth of the time and needs about half the memory (bench/bench_capture.py).
# The live stage drives the full /usr/bin/chromium, as a person's browser.
CHROMIUM_PATH = env("EGIDE_CHROMIUM_PATH", default="/usr/bin/chromium-headless-shell")

# ---------------------------------------------------------------------------------------------
# Monitoring (cleanup): networks a scan may fetch from although they are not public (the fetcher
# refuses loopback and private addresses otherwise). Empty in production; tests set loopback.
# ---------------------------------------------------------------------------------------------
EGIDE_FETCH_ALLOWED_NETWORKS = env.list("EGIDE_FETCH_ALLOWED_NETWORKS", default=[])
# Google Places API (New) root, for a loopback stand-in (the live stage); empty: Google's own.
# The insurer's key only ever goes there through the outbound guard (public addresses, or the
# networks above).
EGIDE_PLACES_ENDPOINT = env("EGIDE_PLACES_ENDPOINT", default="")

# ---------------------------------------------------------------------------------------------
# Stripe (platform account; insurers are connected accounts). STRIPE_API_BASE empty = real
# Stripe; development, the demo and the tests point it at the local stand-in
# (devtools.stripe_standin). Every call has explicit timeouts and a bounded retry count.
# ---------------------------------------------------------------------------------------------
# The development default; production refuses to start with it (saas.settings.production).
STRIPE_DEV_SECRET_KEY = "sk_test_egide_local_dev_key"  # noqa: S105
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default=STRIPE_DEV_SECRET_KEY)
STRIPE_API_BASE = env("STRIPE_API_BASE", default="")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_MAX_NETWORK_RETRIES = env.int("STRIPE_MAX_NETWORK_RETRIES", default=2)
STRIPE_CONNECT_TIMEOUT = env.float("STRIPE_CONNECT_TIMEOUT", default=5.0)
STRIPE_READ_TIMEOUT = env.float("STRIPE_READ_TIMEOUT", default=20.0)
# Where the local stand-in keeps its state and sends webhooks when the demo seed starts it.
STRIPE_LOCAL_DATA_DIR = env("STRIPE_LOCAL_DATA_DIR", default=str(VAR_DIR / "stripe"))
STRIPE_LOCAL_WEBHOOK_URL = env("STRIPE_LOCAL_WEBHOOK_URL", default="")
# Who applies a verified event: connected-account events run in the insurer's schema,
# platform-account events in the public schema (dotted paths, called with ``event=dict``).
STRIPE_EVENT_HANDLERS = {
    "tenant": "cover.services.policies.policy_stripe_event_apply",
    "platform": "tenants.billing.platform_stripe_event_apply",
}

# ---------------------------------------------------------------------------------------------
# Logging
# ---------------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("EGIDE_LOG_LEVEL", default="INFO")},
    "loggers": {
        "django_tasks": {"level": "WARNING"},
        "pgserver": {"level": "WARNING"},
        "apscheduler": {"level": "WARNING"},
        "stripe": {"level": "WARNING"},
        "axes": {"level": "WARNING"},  # failures and lockouts, not every attempt
    },
}

# ---------------------------------------------------------------------------------------------
# Evidence (issue 4): court-ready captures. The TSA is a qualified eIDAS one in production; in
# development the Procfile runs a local one (evidence.tsa_server), tests start their own. Its
# certificate (and CA) are files shipped in every bundle. Captures reach public addresses only,
# plus EGIDE_CAPTURE_ALLOW (loopback in tests). Bundles go to write-once storage, one folder per
# schema. Clock and egress IP are measured by default (NF Z67-147): public NTP pool servers and
# IP echo services, asked in order with a short timeout each (first answer wins); unreachable ones
# are recorded with their reason, never invented. An empty list turns a check off (recorded as
# unknown). EGIDE_CAPTURE_EXTRA_CA_FILE: a PEM CA trusted for captured HTTPS pages on top of the
# system's (Chromium trusts it by its key, --ignore-certificate-errors-spki-list); tests only.
# ---------------------------------------------------------------------------------------------
EGIDE_TSA_URL = env("EGIDE_TSA_URL", default="")
EGIDE_TSA_CERT_FILE = env("EGIDE_TSA_CERT_FILE", default="")
EGIDE_TSA_CA_FILE = env("EGIDE_TSA_CA_FILE", default="")
EGIDE_TSA_TIMEOUT_S = env.float("EGIDE_TSA_TIMEOUT_S", default=20.0)
# Timestamp renewal (evidence.renewal, weekly job and manage.py evidence_renew): a bundle's last
# token is renewed when its TSA certificate expires within this many days, or when one of its
# algorithms is listed as weakening: imprint hash ("sha256"), signature ("ecdsa", "rsa",
# "sha256-ecdsa") or signature with key size ("rsa-2048", "ecdsa-256").
EGIDE_EVIDENCE_RENEW_BEFORE_DAYS = env.int("EGIDE_EVIDENCE_RENEW_BEFORE_DAYS", default=180)
EGIDE_EVIDENCE_WEAK_ALGORITHMS = env.list("EGIDE_EVIDENCE_WEAK_ALGORITHMS", default=[])
EGIDE_CAPTURE_ALLOW = env.list("EGIDE_CAPTURE_ALLOW", default=[])
# Seal keys are encrypted at rest (common.keys): a master key outside the database wraps each
# seal's data key. A file (base64 of 32 bytes) or the base64 itself; former keys stay readable
# during a rotation (manage.py evidence_keys_rotate). Nothing configured: VAR_DIR/keys/master.key
# is created on first use (development, embedded stack, tests); production refuses to start.
EGIDE_MASTER_KEY_FILE = env("EGIDE_MASTER_KEY_FILE", default="")
EGIDE_MASTER_KEY = env("EGIDE_MASTER_KEY", default="")
EGIDE_MASTER_KEY_PREVIOUS_FILES = env.list("EGIDE_MASTER_KEY_PREVIOUS_FILES", default=[])
EGIDE_MASTER_KEY_PREVIOUS = env.list("EGIDE_MASTER_KEY_PREVIOUS", default=[])
EGIDE_MASTER_KEY_CREATE = True
EGIDE_EVIDENCE_ROOT = env.path("EGIDE_EVIDENCE_ROOT", default=str(VAR_DIR / "evidence"))
# Where sealed bundles are kept (issue 12.2): "filesystem" (under EGIDE_EVIDENCE_ROOT/<schema>,
# read-only files) or "s3" (keys under <schema>/, every object under Object Lock COMPLIANCE until
# now + the insurer's retention, server-side encrypted; the bucket needs Object Lock and
# versioning: `manage.py evidence_storage_check`). Credentials: these two or the usual AWS_*
# variables / instance role. Capture work folders stay under EGIDE_EVIDENCE_ROOT either way.
EGIDE_EVIDENCE_STORAGE = env("EGIDE_EVIDENCE_STORAGE", default="filesystem")
EGIDE_EVIDENCE_S3_BUCKET = env("EGIDE_EVIDENCE_S3_BUCKET", default="")
EGIDE_EVIDENCE_S3_ENDPOINT_URL = env("EGIDE_EVIDENCE_S3_ENDPOINT_URL", default="") or None
EGIDE_EVIDENCE_S3_REGION = env("EGIDE_EVIDENCE_S3_REGION", default="") or None
EGIDE_EVIDENCE_S3_ACCESS_KEY = env("EGIDE_EVIDENCE_S3_ACCESS_KEY", default="") or None
EGIDE_EVIDENCE_S3_SECRET_KEY = env("EGIDE_EVIDENCE_S3_SECRET_KEY", default="") or None
EGIDE_EVIDENCE_S3_SSE = env("EGIDE_EVIDENCE_S3_SSE", default="AES256")  # or "aws:kms"
EGIDE_EVIDENCE_S3_KMS_KEY_ID = env("EGIDE_EVIDENCE_S3_KMS_KEY_ID", default="") or None
EGIDE_CAPTURE_NTP_SERVERS = env.list(
    "EGIDE_CAPTURE_NTP_SERVERS",
    default=["0.fr.pool.ntp.org", "1.fr.pool.ntp.org", "2.europe.pool.ntp.org"],
)
EGIDE_CAPTURE_IP_ECHO_URLS = env.list(
    "EGIDE_CAPTURE_IP_ECHO_URLS", default=["https://api.ipify.org", "https://icanhazip.com"]
)
EGIDE_CAPTURE_PRECHECK_TIMEOUT_S = env.float("EGIDE_CAPTURE_PRECHECK_TIMEOUT_S", default=1.0)
EGIDE_CAPTURE_EXTRA_CA_FILE = env("EGIDE_CAPTURE_EXTRA_CA_FILE", default="")
EGIDE_CAPTURE_TIMEOUT_S = env.float("EGIDE_CAPTURE_TIMEOUT_S", default=45.0)
EGIDE_CAPTURE_IDLE_TIMEOUT_S = env.float("EGIDE_CAPTURE_IDLE_TIMEOUT_S", default=10.0)
EGIDE_CAPTURE_BEHAVIORS_TIMEOUT_S = env.float("EGIDE_CAPTURE_BEHAVIORS_TIMEOUT_S", default=30.0)
# Revealing hidden reviews (evidence.behaviors.content_expand): at most this many clicks on
# « Voir plus d'avis », review tabs and « lire la suite », and this many seconds for those
# clicks plus scrolling every frame until the page stops growing.
EGIDE_CAPTURE_EXPAND_MAX_CLICKS = env.int("EGIDE_CAPTURE_EXPAND_MAX_CLICKS", default=60)
EGIDE_CAPTURE_INTERACT_BUDGET_S = env.float("EGIDE_CAPTURE_INTERACT_BUDGET_S", default=45.0)
# Captures one evidence worker runs at once in its one Chromium (evidence.browser): while one
# waits on its page, the other's goes on. The Procfile's evidence line has as many threads.
EGIDE_CAPTURE_CONCURRENCY = env.int("EGIDE_CAPTURE_CONCURRENCY", default=2)
# Deliveries of one capture (first run + retries + re-deliveries after a worker died).
EGIDE_CAPTURE_MAX_ATTEMPTS = env.int("EGIDE_CAPTURE_MAX_ATTEMPTS", default=4)
EGIDE_CAPTURE_MIN_BACKOFF_MS = env.int("EGIDE_CAPTURE_MIN_BACKOFF_MS", default=15_000)
EGIDE_CAPTURE_MAX_BACKOFF_MS = env.int("EGIDE_CAPTURE_MAX_BACKOFF_MS", default=300_000)
# Redis broker: a worker silent for this long is dead and its unacked messages are re-queued
# (dramatiq's queue maintenance, run on DRAMATIQ_MAINTENANCE_CHANCE commands in a million).
# Every worker process also refreshes its heartbeat and forces that maintenance every
# EGIDE_WORKER_LOOP_S (saas.worker_loop): a killed worker's capture is re-delivered in ~25 s.
DRAMATIQ_HEARTBEAT_TIMEOUT_MS = env.int("EGIDE_DRAMATIQ_HEARTBEAT_TIMEOUT_MS", default=20_000)
DRAMATIQ_MAINTENANCE_CHANCE = env.int("EGIDE_DRAMATIQ_MAINTENANCE_CHANCE", default=1_000)
# The broker's Redis (defaults to REDIS_URL, the cache's).
DRAMATIQ_REDIS_URL = env("EGIDE_BROKER_REDIS_URL", default=REDIS_URL)
# Transactional outbox (outbox.services): per-insurer cap of messages in flight per queue, the
# worker-side relay period, leases (heartbeat, stale after), re-send of rows the broker lost.
EGIDE_OUTBOX_INFLIGHT_MAX = {"evidence": env.int("EGIDE_EVIDENCE_INFLIGHT_PER_INSURER", default=2)}
EGIDE_WORKER_LOOP_S = env.float("EGIDE_WORKER_LOOP_S", default=5.0)
EGIDE_WORKER_LOOP_ENABLED = env.bool("EGIDE_WORKER_LOOP_ENABLED", default=True)
EGIDE_OUTBOX_HEARTBEAT_S = env.float("EGIDE_OUTBOX_HEARTBEAT_S", default=3.0)
EGIDE_OUTBOX_LEASE_STALE_S = env.float("EGIDE_OUTBOX_LEASE_STALE_S", default=15.0)
EGIDE_OUTBOX_RESEND_S = env.float("EGIDE_OUTBOX_RESEND_S", default=30.0)
EGIDE_OUTBOX_RESEND_BLIND_S = env.float("EGIDE_OUTBOX_RESEND_BLIND_S", default=900.0)
# Fair and bounded work: captures per hour per insurer and per claim (0 = no limit).
EGIDE_CAPTURES_PER_HOUR_INSURER = env.int("EGIDE_CAPTURES_PER_HOUR_INSURER", default=200)
EGIDE_CAPTURES_PER_HOUR_CLAIM = env.int("EGIDE_CAPTURES_PER_HOUR_CLAIM", default=30)
