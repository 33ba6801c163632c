"""Production: every secret and host comes from the environment; nothing defaults to insecure.

Starting refuses (ImproperlyConfigured, in French and English) without a real Stripe key and
webhook secret and without a timestamp authority: a production that takes payments with the
development key, or seals evidence without a TSA, must not start at all.
"""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import STRIPE_DEV_SECRET_KEY, env

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
# HTTPS only: plain-HTTP requests are redirected (the health endpoints answer before this, so
# probes on http://127.0.0.1 still work). Off only behind a proxy that already redirects.
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
# One year, every insurer's subdomain included, eligible for the browsers' preload lists.
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
# One connection per worker kept between requests (a new one per request cost ~4 ms and a
# search_path on each); checked before reuse, so a database restart costs one failed check.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("EGIDE_DB_CONN_MAX_AGE", default=60)  # noqa: F405
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True  # noqa: F405


def _refuse(setting: str, fr: str, en: str) -> None:
    raise ImproperlyConfigured(f"{setting} : {fr} / {en}")


if STRIPE_SECRET_KEY in ("", STRIPE_DEV_SECRET_KEY):  # noqa: F405
    _refuse(
        "STRIPE_SECRET_KEY",
        "clé Stripe de développement ou absente, la production exige la clé réelle du compte "
        "plateforme",
        "development or missing Stripe key, production needs the platform account's real key",
    )
if not STRIPE_WEBHOOK_SECRET:  # noqa: F405
    _refuse(
        "STRIPE_WEBHOOK_SECRET",
        "secret de signature des webhooks Stripe absent",
        "missing Stripe webhook signing secret",
    )
EGIDE_MASTER_KEY_CREATE = False
if not (EGIDE_MASTER_KEY_FILE or EGIDE_MASTER_KEY):  # noqa: F405
    _refuse(
        "EGIDE_MASTER_KEY_FILE",
        "clé maîtresse absente (EGIDE_MASTER_KEY_FILE ou EGIDE_MASTER_KEY), les clés de cachet "
        "ne peuvent pas être chiffrées",
        "no master key (EGIDE_MASTER_KEY_FILE or EGIDE_MASTER_KEY), seal keys cannot be "
        "encrypted at rest",
    )
for _setting in ("EGIDE_TSA_URL", "EGIDE_TSA_CERT_FILE", "EGIDE_TSA_CA_FILE"):
    if not globals()[_setting]:
        _refuse(
            _setting,
            "autorité d'horodatage (TSA) non configurée, les preuves ne peuvent pas être scellées",
            "no timestamp authority (TSA) configured, evidence cannot be sealed",
        )
if EGIDE_CAPTURE_EXTRA_CA_FILE:  # noqa: F405
    _refuse(
        "EGIDE_CAPTURE_EXTRA_CA_FILE",
        "autorité de certification de test : en production, les pages capturées sont validées "
        "contre les seules racines publiques",
        "test certificate authority: in production, captured pages are validated against the "
        "public roots only",
    )
