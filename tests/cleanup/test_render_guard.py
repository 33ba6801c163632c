"""The monitoring renderer (« La page nécessite JavaScript ») reaches allowed addresses only:
redirects of the page, of its images and frames, its scripts' requests and WebSockets included."""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cleanup.fetch import FetchError
from cleanup.render import page_render

ALLOWED = [ipaddress.ip_network("127.0.0.2/32")]


class _Server:
    def __init__(self, host: str, routes) -> None:
        self.hits: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                server.hits.append(self.path)
                status, headers, body = routes(self.path)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer((host, 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://{host}:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def servers() -> Iterator[tuple[_Server, _Server]]:
    forbidden = _Server("127.0.0.3", lambda path: (200, {"Content-Type": "text/plain"}, b"secret"))
    target = forbidden.url

    def routes(path: str):
        if path == "/start":
            return 302, {"Location": f"{target}/secret-main"}, b""
        if path.startswith("/redir-"):
            return 302, {"Location": f"{target}/secret-{path.removeprefix('/redir-')}"}, b""
        html = (
            "<!doctype html><html><body><h1>Avis</h1>"
            "<img src='/redir-img'><iframe src='/redir-frame'></iframe>"
            f"<script>fetch('{target}/secret-fetch').catch(() => {{}});"
            f"try {{ new WebSocket('{target.replace('http', 'ws')}/secret-ws'); }} catch (e) {{}}"
            "document.body.insertAdjacentHTML('beforeend', '<p id=rendu>rendu</p>');</script>"
            "</body></html>"
        ).encode()
        return 200, {"Content-Type": "text/html; charset=utf-8"}, html

    allowed = _Server("127.0.0.2", routes)
    yield allowed, forbidden
    allowed.close()
    forbidden.close()


def test_sub_requests_and_their_redirects_never_reach_a_refused_address(servers):
    allowed, forbidden = servers
    # when an allowed page's image, frame, script and WebSocket lead to a refused address
    page = page_render(url=f"{allowed.url}/page", allowed_networks=ALLOWED, settle_ms=800)
    # then the page is rendered, and the refused address received nothing
    assert '<p id="rendu">rendu</p>' in page.html
    assert page.rendered is True
    assert forbidden.hits == []
    assert {"/page", "/redir-frame", "/redir-img"} <= set(allowed.hits)


def test_a_page_that_redirects_to_a_refused_address_is_not_rendered(servers):
    allowed, forbidden = servers
    with pytest.raises(FetchError):
        page_render(url=f"{allowed.url}/start", allowed_networks=ALLOWED)
    assert forbidden.hits == []
    assert allowed.hits == ["/start"]
