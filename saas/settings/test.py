"""Tests: real PostgreSQL and Redis (embedded or external), mail kept in memory, fast hashing."""

import os

from saas.embedded import database_url_unstarted

# Reading these settings starts nothing: pytest starts the embedded servers before it reads
# them (plugin ``saas.pytest_services``), and tools that only read settings (mypy's Django
# plugin) get an address that nothing connects to.
os.environ.setdefault("DATABASE_URL", database_url_unstarted())

from .base import *  # noqa: E402, F403
from .base import env  # noqa: E402

DEBUG = False
SECRET_KEY = "test-only-key"  # noqa: S105
ALLOWED_HOSTS = ["localhost", ".localhost", "127.0.0.1", "testserver"]
SITE_SCHEME = "http"
SITE_PORT = ""
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = env.path("EGIDE_MEDIA_ROOT", default=str(VAR_DIR / "test-media"))  # noqa: F405
# One test database, cache prefix and queue namespace per pytest process, so that runs in
# parallel (CI passes, several developers on one machine) never drop or consume each other's.
_RUN = os.getpid()
DATABASES["default"]["TEST"] = {"NAME": f"test_egide_{_RUN}"}  # noqa: F405
CACHES["default"]["KEY_PREFIX"] = f"egide-test-{_RUN}"  # noqa: F405
DRAMATIQ_NAMESPACE = f"egide-test-{_RUN}"
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# The fake review platforms and search APIs of the tests are served on loopback.
EGIDE_FETCH_ALLOWED_NETWORKS = ["127.0.0.0/8"]
# Captures measure clock and egress IP through the default code path, against the SNTP responder
# and IP echo that the pytest plugin (saas.pytest_services) starts on loopback and names in the
# environment. Without the plugin (tools that only read settings), loopback ports where nothing
# answers: never the public defaults.
EGIDE_CAPTURE_NTP_SERVERS = env.list("EGIDE_CAPTURE_NTP_SERVERS", default=["127.0.0.1:9"])
EGIDE_CAPTURE_IP_ECHO_URLS = env.list("EGIDE_CAPTURE_IP_ECHO_URLS", default=["http://127.0.0.1:9/"])

# Stripe: never the real one. Nothing listens on the discard port until a test asks for the
# ``stripe_server`` fixture, which points these at its own local server for the session.
STRIPE_SECRET_KEY = "sk_test_egide_tests"  # noqa: S105
STRIPE_API_BASE = "http://127.0.0.1:9"
STRIPE_WEBHOOK_SECRET = "whsec_egide_tests"  # noqa: S105
STRIPE_MAX_NETWORK_RETRIES = 0
STRIPE_CONNECT_TIMEOUT = 2.0
STRIPE_READ_TIMEOUT = 10.0
# In-process test workers do not run the relay loop (subprocess workers do, as in production).
EGIDE_WORKER_LOOP_ENABLED = False
# The live server imports saas.wsgi: no background model load in every test process.
EGIDE_NLP_PRELOAD = env.bool("EGIDE_NLP_PRELOAD", default=False)
