"""The search API key only travels to an address checked at call time, and connected to.

The fake Google Custom Search API listens on 127.0.0.1 (allowed); 127.0.0.2 stands for an
internal service (outside the allow-list 127.0.0.1/32) and a raw TCP trap there records any
connection. The API's name is answered by a real DNS server on loopback
(``tests.cleanup.dns.FakeDns``), injected as the guard's resolver.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer

import pytest
from django.test import override_settings

from cleanup.search_providers import Brave, GoogleCse, SearchAddressRefusedError
from common.net_guard import OutboundGuard
from tests.cleanup.conftest import BRAVE_TOKEN, GOOGLE_CX, GOOGLE_KEY, FakeSearchApi, _api_handler

ALLOWED = (ipaddress.ip_network("127.0.0.1/32"),)
API_HOST = "api.recherche.test"


class Trap:
    """Accepts TCP connections on 127.0.0.2 and keeps whatever bytes arrive."""

    def __init__(self, port: int) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.2", port))
        self.sock.listen()
        self.sock.settimeout(0.2)
        self.received: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _peer = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            with conn:
                conn.settimeout(0.5)
                try:
                    self.received.append(conn.recv(65536))
                except OSError:
                    self.received.append(b"")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()


@pytest.fixture
def api_and_trap() -> Iterator[tuple[FakeSearchApi, Trap, int]]:
    for _attempt in range(20):
        api = FakeSearchApi()
        server = ThreadingHTTPServer(("127.0.0.1", 0), _api_handler(api))
        server.daemon_threads = True
        port = server.server_address[1]
        try:
            trap = Trap(port)
        except OSError:
            server.server_close()
            continue
        threading.Thread(target=server.serve_forever, daemon=True).start()
        yield api, trap, port
        trap.close()
        server.shutdown()
        server.server_close()
        return
    raise RuntimeError("no port free on both 127.0.0.1 and 127.0.0.2")


def test_a_base_url_re_pointed_after_saving_is_refused_at_call_time(fake_dns, api_and_trap):
    # given: the API's name answers the fake API first, then the internal address
    api, trap, port = api_and_trap
    api.results['"Jeanne Martin"'] = [("https://avis.example/jm", "Dr Jeanne Martin", "avis")]
    fake_dns.answers[API_HOST] = [["127.0.0.1"], ["127.0.0.2"]]
    guard = OutboundGuard(allowed_networks=ALLOWED, resolver=fake_dns.resolver())
    provider = GoogleCse(
        api_key=GOOGLE_KEY, cx=GOOGLE_CX, base_url=f"http://{API_HOST}:{port}", guard=guard
    )
    assert [r.url for r in provider.search('"Jeanne Martin"', num=10)] == [
        "https://avis.example/jm"
    ]
    # when: the next call resolves the name again
    with pytest.raises(SearchAddressRefusedError) as refused:
        provider.search('"Jeanne Martin"', num=10)
    # then: refused before connecting, the key went nowhere and is not in the message
    assert refused.value.retryable is False
    assert "127.0.0.2" in str(refused.value)
    assert GOOGLE_KEY not in str(refused.value)
    assert len(api.requests) == 1
    assert api.requests[0]["headers"]["Host"] == f"{API_HOST}:{port}"
    assert trap.received == []


@override_settings(EGIDE_FETCH_ALLOWED_NETWORKS=[])
@pytest.mark.parametrize(
    "base_url",
    ["http://127.0.0.1:{port}", "http://[::1]:{port}", "http://169.254.169.254"],
)
def test_the_default_guard_refuses_internal_addresses_with_production_rules(api_and_trap, base_url):
    # given: the provider built as the worker builds it (no guard given: settings' rules)
    api, trap, port = api_and_trap
    provider = Brave(api_key=BRAVE_TOKEN, base_url=base_url.format(port=port))
    # when / then
    with pytest.raises(SearchAddressRefusedError):
        provider.search("docteur Martin", num=20)
    assert api.requests == []
    assert trap.received == []


def test_the_default_guard_follows_the_allow_list_setting(api_and_trap):
    # given: test settings allow loopback (EGIDE_FETCH_ALLOWED_NETWORKS = 127.0.0.0/8)
    api, _trap, port = api_and_trap
    api.results["docteur Martin"] = [("https://avis.example/m", "Dr Martin", "fiche")]
    provider = Brave(api_key=BRAVE_TOKEN, base_url=f"http://127.0.0.1:{port}")
    # when
    results = provider.search("docteur Martin", num=20)
    # then
    assert [r.url for r in results] == ["https://avis.example/m"]
    assert len(api.requests) == 1
