"""Development: the embedded defaults, demo hosts under *.localhost, e-mails on the console."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="dev-only-insecure-key-not-for-production")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", ".localhost", "127.0.0.1"])
SITE_SCHEME = env("EGIDE_SITE_SCHEME", default="http")
SITE_PORT = env("EGIDE_SITE_PORT", default="8000")
EMAIL_BACKEND = env("EGIDE_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
