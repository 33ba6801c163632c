"""pytest plugin: the embedded PostgreSQL and Redis when no DATABASE_URL / REDIS_URL is set,
and the local NTP and IP echo services that every capture of the run asks.

Loaded with ``-p saas.pytest_services`` (pyproject), so it runs before pytest-django reads the
settings. The servers it starts are stopped when the run ends; servers already running (a
``./egide run`` next door, or ``./egide test``'s own) are used and left running.

The SNTP responder (clock ``NTP_TEST_OFFSET_S`` ahead) and the IP echo listen on 127.0.0.1 and
are named in ``EGIDE_CAPTURE_NTP_SERVERS`` / ``EGIDE_CAPTURE_IP_ECHO_URLS`` unless the caller
set those: test captures, and workers started in subprocesses, measure a real clock offset and
egress address through the default code path, without leaving the machine.
"""

from __future__ import annotations

import os

import pytest

from evidence.testing.ip_echo import IpEcho
from evidence.testing.sntp import SntpResponder
from saas.embedded import services_env_ensure, services_stop

NTP_TEST_OFFSET_S = 0.75

_started: set[str] = services_env_ensure()
SNTP = SntpResponder(offset_s=NTP_TEST_OFFSET_S).start()
IP_ECHO = IpEcho().start()
os.environ.setdefault("EGIDE_CAPTURE_NTP_SERVERS", SNTP.server)
os.environ.setdefault("EGIDE_CAPTURE_IP_ECHO_URLS", IP_ECHO.url)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    SNTP.stop()
    IP_ECHO.stop()
    services_stop(_started)
