"""Real processes for the resilience suite: web server, evidence workers, a Redis of our own.

- ``pages``: review-like pages on 127.0.0.1 (a quick one, and one whose image takes
  ``SLOW_SECONDS`` so that a capture is surely running when its worker is killed).
- ``RedisProcess``: a ``redis-server`` on a free loopback port that the test stops and starts
  again (never the machine's Redis).
- ``web_process`` / ``worker_process``: ``manage.py runserver`` and ``dramatiq saas.worker`` on
  this run's test database, with the evidence settings of ``tests.evidence.conftest_django``.
- ``signed_in``: a session cookie for a doctor, stored in the tenant's schema (database
  sessions), so a plain HTTP client acts as that doctor on the web process.

Everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django_tenants.utils import tenant_context

from tests.evidence.conftest_django import REPO, VENV, captures_delete
from tests.tenants.factories import DoctorUserFactory

REDIS_SERVER = "/usr/bin/redis-server"
SLOW_SECONDS = 8


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(predicate: Callable[[], bool], *, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"délai dépassé : {what}")
        time.sleep(0.3)


# --- Pages -------------------------------------------------------------------------------------


class _Pages(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):  # noqa: N802
        if self.path.startswith("/avis"):
            body = b"<title>Avis</title><p>Un avis sur le docteur Martin.</p>"
            kind = "text/html; charset=utf-8"
        elif self.path == "/lente":
            body = b"<title>Lente</title><p>Avis en cours de chargement.</p><img src='/img.png'>"
            kind = "text/html; charset=utf-8"
        else:
            time.sleep(SLOW_SECONDS)
            body, kind = b"", "image/png"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@dataclass
class Pages:
    port: int

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture(scope="module")
def pages() -> Iterator[Pages]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Pages)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield Pages(port=server.server_address[1])
    server.shutdown()
    server.server_close()


# --- Processes ---------------------------------------------------------------------------------


def process_stop(process: subprocess.Popen | None, sig: int = signal.SIGTERM) -> None:
    """Signal a process started in its own session (its whole group), then reap it."""
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


class RedisProcess:
    """A redis-server of this test alone, on a fixed free port, that can be stopped and restarted."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        wait_until(self.answers, timeout_s=10, what="redis-server démarré")

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        process_stop(self.process, signal.SIGKILL)
        self.process = None


@pytest.fixture
def own_redis(tmp_path) -> Iterator[RedisProcess]:
    assert shutil.which(REDIS_SERVER) or Path(REDIS_SERVER).exists()
    redis = RedisProcess(tmp_path)
    redis.start()
    yield redis
    redis.stop()


def worker_process(env: dict, log_path: Path, queues: tuple[str, ...] = ("evidence",)):
    """``dramatiq saas.worker`` on the evidence queue, as the Procfile's "evidence" line."""
    return subprocess.Popen(  # noqa: S603
        [str(VENV / "bin" / "dramatiq"), "saas.worker", "--processes", "1", "--threads", "2",
         "--queues", *queues],
        cwd=REPO,
        env=env,
        stdout=log_path.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip


@dataclass
class Web:
    process: subprocess.Popen
    port: int
    host: str
    log: Path

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def web_env(env: dict) -> dict:
    """The worker environment plus what the web process needs to accept our session cookie."""
    from django.conf import settings

    return {**env, "DJANGO_SECRET_KEY": settings.SECRET_KEY, "DJANGO_DEBUG": "false"}


@contextlib.contextmanager
def web_process(env: dict, *, host: str, log_path: Path) -> Iterator[Web]:
    port = free_port()
    process = subprocess.Popen(  # noqa: S603
        [str(VENV / "bin" / "python"), "-W", "ignore", "manage.py", "runserver",
         f"127.0.0.1:{port}", "--noreload", "--skip-checks"],
        cwd=REPO,
        env=web_env(env),
        stdout=log_path.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    web = Web(process=process, port=port, host=host, log=log_path)
    try:

        def up() -> bool:
            assert process.poll() is None, log_path.read_text(errors="replace")[-3000:]
            try:
                with urllib.request.urlopen(web.url("/healthz/live"), timeout=2):  # noqa: S310
                    return True
            except urllib.error.HTTPError:
                return True
            except OSError:
                return False

        wait_until(up, timeout_s=60, what="serveur web démarré")
        yield web
    finally:
        process_stop(process)


# --- HTTP as a signed-in doctor ----------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


@dataclass
class Browser:
    """A minimal HTTP client for the web process: the tenant's Host header, cookies, CSRF."""

    web: Web
    cookies: dict

    def request(self, method: str, path: str, data: dict | None = None) -> tuple[int, str, dict]:
        from urllib.parse import urlencode

        body = urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.web.url(path), data=body, method=method)  # noqa: S310
        request.add_header("Host", self.web.host)
        request.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        if body is not None:
            request.add_header("Content-Type", "application/x-www-form-urlencoded")
            request.add_header("Referer", self.web.url(path))
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            with opener.open(request, timeout=30) as response:
                status, text, headers = response.status, response.read().decode(), response.headers
        except urllib.error.HTTPError as exc:
            status, text, headers = exc.code, exc.read().decode(errors="replace"), exc.headers
        for cookie in headers.get_all("Set-Cookie") or []:
            name, _sep, rest = cookie.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return status, text, dict(headers)

    def get(self, path: str) -> tuple[int, str, dict]:
        return self.request("GET", path)

    def capture_post(self, url: str) -> tuple[int, str, dict]:
        """Ask for a capture through the portal form, as a doctor does."""
        status, page, _headers = self.get("/preuves/")
        assert status == 200, page[:500]
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert token, page[:2000]
        return self.request(
            "POST",
            "/preuves/",
            {"csrfmiddlewaretoken": token.group(1), "url": url, "reason": "Avis diffamatoire"},
        )


def signed_in(web: Web, insurer, user) -> Browser:
    from django.test import Client

    with tenant_context(insurer):
        client = Client()
        client.force_login(user)
        session = client.cookies["sessionid"].value
    return Browser(web=web, cookies={"sessionid": session})


# --- Data --------------------------------------------------------------------------------------


@pytest.fixture
def doctor_factory(committed_db, unique):
    """Doctors in a given insurer (committed), removed with their captures afterwards."""
    made: list[tuple[object, object]] = []

    def make(insurer):
        with tenant_context(insurer):
            user = DoctorUserFactory(email=f"medecin-resil-{unique}-{len(made)}@exemple.fr")
        made.append((insurer, user))
        return user

    yield make
    from evidence.models import Capture
    from outbox.models import OutboxMessage

    for insurer, user in made:
        with tenant_context(insurer):
            ids = list(Capture.objects.filter(requested_by=user).values_list("pk", flat=True))
        captures_delete(insurer, ids)
        OutboxMessage.objects.filter(
            schema_name=insurer.schema_name, key__in=[f"evidence.capture:{i}" for i in ids]
        ).delete()
        with tenant_context(insurer):
            user.delete()
