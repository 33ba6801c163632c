"""pytest plugin: the embedded PostgreSQL and Redis when no DATABASE_URL / REDIS_URL is set.

Loaded with ``-p saas.pytest_services`` (pyproject), so it runs before pytest-django reads the
settings. The servers it starts are stopped when the run ends; servers already running (a
``./egide run`` next door, or ``./egide test``'s own) are used and left running.
"""

from __future__ import annotations

import pytest

from saas.embedded import services_env_ensure, services_stop

_started: set[str] = services_env_ensure()


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    services_stop(_started)
