"""A webhook receiver on loopback for the live stage: where a doctor's notification channel
(Apprise ``json://``) posts. It listens on 127.0.0.2, the address the stage allow-lists for
outbound requests, and keeps every JSON body it receives."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HOST = "127.0.0.2"


class WebhookReceiver:
    """``POST /egide`` on 127.0.0.2 (a free port); ``messages`` holds the decoded bodies."""

    path = "/egide"

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if self.path.split("?", 1)[0] != receiver.path:
                    self.send_error(404)
                    return
                try:
                    body = json.loads(raw.decode("utf-8"))
                except ValueError:
                    self.send_error(400)
                    return
                with receiver.lock:
                    receiver.messages.append(body if isinstance(body, dict) else {"body": body})
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer((HOST, 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def apprise_url(self) -> str:
        return f"json://{HOST}:{self.server.server_port}{self.path}"

    def received(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.messages)

    def __enter__(self) -> WebhookReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
