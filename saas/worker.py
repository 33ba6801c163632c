"""Entry point for ``dramatiq saas.worker``: boot Django, then import every app's actors."""

import importlib
import os

import django

from common.memory import malloc_arenas_limit

# Before any thread starts: the worker threads share two malloc arenas (common.memory).
malloc_arenas_limit()

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saas.settings.dev")

from saas.embedded import services_env_ensure  # noqa: E402

services_env_ensure()
django.setup()

# dramatiq_crontab's scheduler sends its own "heartbeat" actor: declare it here too.
importlib.import_module("dramatiq_crontab.tasks")

for _app in (
    "tenants",
    "cover",
    "cover.claims",
    "evidence",
    "cleanup",
    "cleanup.google",
    "cleanup.places",
    "mailing",
):
    try:
        importlib.import_module(f"{_app}.tasks")
    except ModuleNotFoundError as exc:  # an app without actors yet
        if exc.name != f"{_app}.tasks":
            raise
