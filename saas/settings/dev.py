"""Development: the embedded defaults, demo hosts under *.localhost, e-mails on the console."""

from saas.embedded.review_site import DEFAULT_PORT as DEMO_REVIEWS_DEFAULT_PORT
from saas.embedded.review_site import demo_reviews_host

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="dev-only-insecure-key-not-for-production")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", ".localhost", "127.0.0.1"])
SITE_SCHEME = env("EGIDE_SITE_SCHEME", default="http")
# The port the web process listens on (``./egide run``: EGIDE_PORT) is the one in every link.
SITE_PORT = env("EGIDE_SITE_PORT", default=env("EGIDE_PORT", default="8000"))
EMAIL_BACKEND = env("EGIDE_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Stripe: the local stand-in started by the Procfile (same secret on both sides).
STRIPE_API_BASE = env(
    "STRIPE_API_BASE", default=f"http://127.0.0.1:{env('EGIDE_STRIPE_PORT', default='12111')}"
)
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="whsec_egide_local_dev_secret")
STRIPE_LOCAL_WEBHOOK_URL = env(
    "STRIPE_LOCAL_WEBHOOK_URL", default=f"http://localhost:{SITE_PORT or 8000}/stripe/webhook/"
)

# Evidence: the local TSA started by the Procfile ("tsa" line) keeps its certificates in var/tsa.
EGIDE_TSA_URL = env(
    "EGIDE_TSA_URL", default=f"http://127.0.0.1:{env('EGIDE_TSA_PORT', default='12112')}/"
)
EGIDE_TSA_CERT_FILE = env("EGIDE_TSA_CERT_FILE", default=str(VAR_DIR / "tsa" / "tsa.pem"))  # noqa: F405
EGIDE_TSA_CA_FILE = env("EGIDE_TSA_CA_FILE", default=str(VAR_DIR / "tsa" / "tsa-ca.pem"))  # noqa: F405

# Monitoring demo: the loopback review site of the Procfile's "reviews" line
# (saas.embedded.review_site). Only its address is allow-listed for fetch and capture, and only
# here: production settings never allow a non-public address.
EGIDE_DEMO_REVIEWS_HOST = env("EGIDE_DEMO_REVIEWS_HOST", default="") or demo_reviews_host()
EGIDE_DEMO_REVIEWS_PORT = env.int("EGIDE_DEMO_REVIEWS_PORT", default=DEMO_REVIEWS_DEFAULT_PORT)
EGIDE_DEMO_REVIEWS_URL = f"http://{EGIDE_DEMO_REVIEWS_HOST}:{EGIDE_DEMO_REVIEWS_PORT}"
EGIDE_DEMO_REVIEWS_DIR = str(VAR_DIR / "demo-reviews")  # noqa: F405
_demo_reviews_network = f"{EGIDE_DEMO_REVIEWS_HOST}/32"
EGIDE_CAPTURE_ALLOW = [*EGIDE_CAPTURE_ALLOW, _demo_reviews_network]  # noqa: F405
EGIDE_FETCH_ALLOWED_NETWORKS = [*EGIDE_FETCH_ALLOWED_NETWORKS, _demo_reviews_network]  # noqa: F405
