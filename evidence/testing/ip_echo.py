"""A local IP echo service: answers ``GET /`` with the caller's address in plain text.

Public echo services (api.ipify.org, icanhazip.com) answer with the address they see the
request come from; this one does the same on loopback, so a capture made in tests records
``127.0.0.1`` — a measured value, not a constant. ``/json`` answers ``{"ip": "..."}`` as some
services do. ``answer`` forces another body (to test unreadable answers).
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _EchoServer(ThreadingHTTPServer):
    daemon_threads = True
    echo: IpEcho


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _EchoServer

    def do_GET(self) -> None:  # noqa: N802 — http.server's naming
        echo = self.server.echo
        seen = echo.answer if echo.answer is not None else self.client_address[0]
        if self.path == "/":
            body, kind = f"{seen}\n".encode(), "text/plain; charset=utf-8"
        elif self.path == "/json":
            body, kind = json.dumps({"ip": seen}).encode(), "application/json"
        else:
            self.send_error(404)
            return
        echo.requests_served += 1
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return


class IpEcho:
    """The echo service on ``host:port`` (port 0 = any free one), until ``stop()``."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, answer: str | None = None):
        self.host = host
        self.port = port
        self.answer = answer
        self.requests_served = 0
        self._httpd: _EchoServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    def start(self) -> IpEcho:
        if self._httpd is not None:
            raise RuntimeError("IP echo already started")
        httpd = _EchoServer((self.host, self.port), _Handler)
        httpd.echo = self
        self.port = httpd.server_address[1]
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"ip-echo-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> IpEcho:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
