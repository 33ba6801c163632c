"""Test harness: one test database per run, two insurers created once, real services.

- The test database is created by pytest-django; ``django_db_setup`` then migrates the tenant
  template and onboards insurers A and B with the real onboarding service. They are committed
  and shared by the whole run (schemas are created once per run, not per test).
- ``db`` tests run in a transaction rolled back at the end, as usual.
- ``committed_db`` tests write for real (needed when another thread or process reads: the live
  server, the browser, Dramatiq workers). They use unique names and clean up what they create.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PASSWORD = "mot-de-passe-de-test-42"  # noqa: S105

# Shared fixtures, one definition each for the whole run: evidence settings, capture browser and
# a complete capture (tests.evidence.conftest_django); the local test sites (tests.evidence.pages).
pytest_plugins = ["tests.evidence.conftest_django", "tests.evidence.pages"]


@dataclass(frozen=True)
class TenantInfo:
    insurer: object
    domain: str
    admin_email: str


@pytest.fixture(scope="session")
def django_db_setup(django_test_environment, django_db_blocker):
    """Create the test database for every test (browser and worker tests included).

    pytest-django would only create it when some collected test carries ``django_db``; our
    committed-data tests do not, so the database is set up here unconditionally.
    """
    from django.db import connection, connections
    from django.test.utils import setup_databases, teardown_databases

    from saas.onboarding import insurer_onboard
    from tenants.services import Branding, platform_ensure, template_schema_ensure

    with django_db_blocker.unblock():
        _stale_test_databases_drop()
        db_cfg = setup_databases(
            verbosity=0, interactive=False, aliases={"default"}, serialized_aliases=set()
        )
        assert connection.settings_dict["NAME"].startswith("test_")
        template_schema_ensure()
        platform_ensure(domain="localhost")
        for key, colour in (("a", "#0b4f6c"), ("b", "#5b2a86")):
            insurer_onboard(
                name=f"Assureur test {key.upper()}",
                domain=f"tenant-{key}.localhost",
                admin_email=f"admin@tenant-{key}.localhost",
                admin_password=PASSWORD,
                schema_name=f"test_{key}",
                branding=Branding(
                    display_name=f"Assureur test {key.upper()}", primary_colour=colour
                ),
            )
        # Their go-live checklist completed and their site opened (tests/golive.py).
        from tenants.models import Insurer
        from tests.golive import insurer_go_live

        for insurer in Insurer.objects.filter(schema_name__in=["test_a", "test_b"]):
            insurer_go_live(insurer=insurer)
        connection.set_schema_to_public()
    yield
    with django_db_blocker.unblock():
        name = connection.settings_dict["NAME"]
        with connection.cursor() as cursor:
            # Threads of the live server or of Dramatiq workers may still hold connections.
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                [name],
            )
        connections.close_all()
        teardown_databases(db_cfg, verbosity=0)


def staff_login(client, user):
    """Log ``user`` in on ``client`` as after password AND second factor; returns the device.

    Staff pages refuse a password-only session (tenants.two_factor_middleware). This gives the
    user a confirmed authenticator (random key, ``device.bin_key`` computes codes) and marks the
    session verified exactly as ``django_otp.login`` does after a good code. Call it in the
    user's schema, like ``force_login``.
    """
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.util import random_hex

    from tenants.two_factor import totp_device_set

    device = totp_device_set(user=user, key_hex=random_hex(20))
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device


_BROWSER_SECRETS: dict[tuple[str, str], str] = {}


def browser_second_factor(page, email: str) -> None:
    """In Chromium, right after a staff account's password: the second factor, as a person does.

    The first time, the account enrols: the secret is read on the page (and remembered for the
    run), the code computed from it, the recovery codes acknowledged. Later, the code is typed;
    a code is good once, so a second login in the same 30 s step waits for the next code.
    """
    import re
    import time
    from urllib.parse import urlsplit

    from saas.totp_code import totp_code

    page.wait_for_url(re.compile(r".*/compte/double-authentification/"))
    key = (urlsplit(page.url).hostname or "", email)
    if "/activer/" in page.url:
        secret = page.locator("#totp-secret").inner_text()
        _BROWSER_SECRETS[key] = secret
        page.fill("#id_code", totp_code(secret=secret))
        page.click("#two-factor-enrol button[type=submit]")
        page.wait_for_url(re.compile(r".*/codes-de-secours/"))
        page.click("#two-factor-continue")
        page.wait_for_load_state()
        return
    for attempt in range(2):
        page.fill("#id_code", totp_code(secret=_BROWSER_SECRETS[key]))
        page.click("#two-factor-verify button[type=submit]")
        page.wait_for_load_state()
        if "/compte/double-authentification/" not in page.url or attempt:
            return
        time.sleep(30 - time.time() % 30 + 1)


def _stale_test_databases_drop() -> None:
    """Drop test databases left by runs that were killed (their pid is gone).

    Test databases are named per process (saas.settings.test); only servers on this machine are
    cleaned, where a missing pid really means a dead run.
    """
    from django.db import connection

    host = connection.settings_dict.get("HOST") or ""
    if host not in ("", "localhost", "127.0.0.1", "::1") and not host.startswith("/"):
        return
    with connection._nodb_cursor() as cursor:
        cursor.execute("SELECT datname FROM pg_database WHERE datname LIKE 'test_egide_%%'")
        names = [row[0] for row in cursor.fetchall()]
        for name in names:
            pid = name.rsplit("_", 1)[1]
            if not pid.isdigit() or Path(f"/proc/{pid}").exists():
                continue
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _tenant(schema: str) -> TenantInfo:
    from tenants.models import Insurer

    insurer = Insurer.objects.get(schema_name=schema)
    return TenantInfo(
        insurer=insurer,
        domain=insurer.get_primary_domain().domain,
        admin_email=insurer.contact_email,
    )


@pytest.fixture
def tenant_a(django_db_setup, django_db_blocker) -> TenantInfo:
    with django_db_blocker.unblock():
        return _tenant("test_a")


@pytest.fixture
def tenant_b(django_db_setup, django_db_blocker) -> TenantInfo:
    with django_db_blocker.unblock():
        return _tenant("test_b")


@pytest.fixture(autouse=True)
def _public_schema_after_test() -> Iterator[None]:
    yield
    from django.db import connection

    connection.set_schema_to_public()


@pytest.fixture
def committed_db(django_db_setup, django_db_blocker) -> Iterator[None]:
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def unique() -> str:
    return uuid.uuid4().hex[:8]


@pytest.fixture(scope="session")
def live_server_url(django_db_setup, django_db_blocker) -> Iterator[str]:
    """A threaded WSGI server on 127.0.0.1 serving the real app (tenants by Host header).

    pytest-django's ``live_server`` forces ``transactional_db``, whose flush cannot work across
    schemas; this one serves committed data instead.
    """
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
    from django.core.wsgi import get_wsgi_application

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, *args):
            pass

    server = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler, allow_reuse_address=False)
    server.set_app(StaticFilesHandler(get_wsgi_application()))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    with django_db_blocker.unblock():
        thread.start()
        yield f"http://127.0.0.1:{server.server_port}"
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def browser_thread_shared() -> Iterator[object]:
    """One browser thread (one Chromium) for the run, as a worker owns one.

    Tests keep the database in their own thread; browser work runs in this one
    (``evidence.browser``), exactly as in the evidence worker and the command line.
    """
    from evidence.browser import BrowserThread

    thread = BrowserThread(name="test-browser")
    yield thread
    thread.close()


@pytest.fixture(scope="module")
def browser(browser_thread_shared):
    """The run's Chromium, driven from its own thread (see ``tests.browser``)."""
    from tests.browser import remote_browser

    return remote_browser(browser_thread_shared)


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="session")
def stripe_server(live_server_url, django_db_setup, django_db_blocker, tmp_path_factory):
    """The local Stripe stand-in for the session, opt-in: only tests that ask for it start it.

    It listens on 127.0.0.1 (port 0), delivers signed webhooks to the live server's platform
    host (``http://localhost:<port>/stripe/webhook/``), and the settings point the application
    at it (``STRIPE_API_BASE``, same secret key and webhook secret) until the session ends.
    Insurers A and B get their connected accounts on it.
    """
    from django.conf import settings
    from django.test.utils import override_settings

    from devtools.stripe_standin import StripeServer
    from tenants.billing import insurer_stripe_account_ensure
    from tenants.models import Insurer, StripeAccountStatus

    port = live_server_url.rsplit(":", 1)[1]
    server = StripeServer(
        data_dir=tmp_path_factory.mktemp("stripe"),
        api_key=settings.STRIPE_SECRET_KEY,
        webhook_url=f"http://localhost:{port}/stripe/webhook/",
        webhook_secret=settings.STRIPE_WEBHOOK_SECRET,
        retry_delays=(0.2, 0.5, 1.0),
        delivery_timeout=10.0,
    ).start()
    override = override_settings(STRIPE_API_BASE=server.url)
    override.enable()
    try:
        with django_db_blocker.unblock():
            for insurer in Insurer.objects.filter(schema_name__in=["test_a", "test_b"]):
                insurer_stripe_account_ensure(insurer=insurer)
        yield server
    finally:
        server.stop()
        override.disable()
        with django_db_blocker.unblock():
            Insurer.objects.filter(schema_name__in=["test_a", "test_b"]).update(
                stripe_account_id="",
                stripe_account_status=StripeAccountStatus.MISSING,
                stripe_account_error="",
            )
