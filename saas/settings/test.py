"""Tests: real PostgreSQL and Redis (embedded or external), mail kept in memory, fast hashing."""

from saas.embedded import services_env_ensure

# ``pytest`` alone works too: start the embedded services when none are configured.
services_env_ensure()

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
CACHES["default"]["KEY_PREFIX"] = "egide-test"  # noqa: F405
DRAMATIQ_NAMESPACE = "egide-test"
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
