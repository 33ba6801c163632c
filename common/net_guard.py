"""One guard for outbound HTTP to hosts that users configure (monitored pages, search APIs).

Why: checking a host's addresses and then letting the HTTP library resolve the name again when
it connects leaves a window for DNS rebinding — a name that answers a public address to the
check and ``127.0.0.1`` (or a cloud metadata address) to the connection. Here the name is
resolved ONCE per request, every address is judged by the evidence capture's rules
(``common.address_guard``: loopback, private, link-local, metadata, CGNAT, IPv4 hidden in IPv6 …
are refused unless inside an allow-listed network, ``EGIDE_FETCH_ALLOWED_NETWORKS``), and the
TCP connection is opened to one of those exact addresses. The URL is not rewritten: the Host
header, TLS SNI and certificate verification all keep the original hostname, because only the
socket layer (an ``httpcore`` network backend) is pinned.

The check sits in the transport, so every request a client sends — including each redirect hop
when redirects are followed, by hand or by httpx — is resolved, checked and pinned on its own.
The backend refuses to open any connection the guard did not pin for the request in progress
(fail closed), and environment proxies are ignored (a proxy would resolve the name itself).

Resolver: production uses the system's ``getaddrinfo`` (``/etc/hosts``, nsswitch, DNS) with a
timeout, like the capture guard; tests inject ``common.address_guard.dns_server_resolver`` pointed
at a local DNS server, which speaks real DNS over UDP.
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import httpcore
import httpx
from django.conf import settings

from common.address_guard import address_allowed, system_resolver

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Sequence[str]]

# Request extension through which a caller gives its own guard for one request (page_fetch
# takes the allow-list and resolver as arguments while reusing a worker's client).
GUARD_EXTENSION = "egide_net_guard"

_DEFAULT_PORTS = {"http": 80, "https": 443}
POOL_LIMITS = httpx.Limits(max_connections=20, max_keepalive_connections=10)


class OutboundRefused(httpx.TransportError):
    """The guard refused a request before any connection was opened.

    ``reason`` is ``"malformed"``, ``"scheme"``, ``"dns"`` or ``"address"``; ``message_fr`` can
    be shown to users as is."""

    def __init__(
        self,
        message_fr: str,
        *,
        reason: str,
        url: str,
        host: str = "",
        addresses: Iterable[str] = (),
    ) -> None:
        super().__init__(message_fr)
        self.message_fr = message_fr
        self.reason = reason
        self.url = url
        self.host = host
        self.addresses = list(addresses)


def settings_allowed_networks() -> tuple[Network, ...]:
    """``EGIDE_FETCH_ALLOWED_NETWORKS`` (empty in production; tests allow loopback)."""
    if not settings.configured:
        return ()
    return tuple(
        ipaddress.ip_network(entry, strict=False)
        for entry in getattr(settings, "EGIDE_FETCH_ALLOWED_NETWORKS", [])
    )


def _system_resolver() -> Resolver:
    return system_resolver()


class OutboundGuard:
    """Resolve a URL's host once and decide. ``allowed_networks=None`` reads the setting at
    each check, so a guard built at import time follows ``override_settings``."""

    def __init__(
        self,
        *,
        allowed_networks: Sequence[Network] | None = None,
        resolver: Resolver | None = None,
    ) -> None:
        self._allowed = tuple(allowed_networks) if allowed_networks is not None else None
        self.resolver: Resolver = resolver or _system_resolver()

    @property
    def allowed_networks(self) -> tuple[Network, ...]:
        return self._allowed if self._allowed is not None else settings_allowed_networks()

    def address_allowed(self, address: str) -> bool:
        return address_allowed(address.split("%", 1)[0], self.allowed_networks)

    def check(self, url: httpx.URL | str) -> list[str]:
        """The addresses ``url``'s host resolves to, all allowed; ``OutboundRefused`` otherwise.

        Every address must pass: a name with one public and one private record could otherwise
        be steered to the private one."""
        shown = str(url)
        try:
            parsed = url if isinstance(url, httpx.URL) else httpx.URL(url)
        except (httpx.InvalidURL, TypeError, ValueError) as exc:
            raise OutboundRefused(f"URL invalide : {exc}", reason="malformed", url=shown) from None
        if parsed.scheme not in _DEFAULT_PORTS:
            raise OutboundRefused(
                "URL invalide : seules les adresses http(s) sont acceptées",
                reason="scheme",
                url=shown,
            )
        host = host_key(parsed)
        if not host:
            raise OutboundRefused("URL invalide : hôte absent", reason="malformed", url=shown)
        port = parsed.port or _DEFAULT_PORTS[parsed.scheme]
        try:
            addresses = [str(ipaddress.ip_address(host))]
        except ValueError:
            try:
                addresses = list(dict.fromkeys(self.resolver(host, port)))
            except (OSError, UnicodeError) as exc:
                raise OutboundRefused(
                    f"Nom de domaine introuvable : {host} ({exc})",
                    reason="dns",
                    url=shown,
                    host=host,
                ) from None
        if not addresses:
            raise OutboundRefused(
                f"Nom de domaine introuvable : {host} (aucune adresse)",
                reason="dns",
                url=shown,
                host=host,
            )
        for address in addresses:
            if not self.address_allowed(address):
                raise OutboundRefused(
                    f"Adresse non publique refusée pour {host} : {address}",
                    reason="address",
                    url=shown,
                    host=host,
                    addresses=addresses,
                )
        return addresses


def host_key(url: httpx.URL) -> str:
    """The host as httpcore hands it to the network backend (ASCII, IDNA-encoded, IPv6
    literals without brackets), lower-cased."""
    return url.raw_host.decode("ascii").lower()


# --------------------------------------------------------------------------- pinned connections

_pins = threading.local()


class _PinnedBackend(httpcore.NetworkBackend):
    """Opens TCP connections only to the addresses the guard checked for the request being
    handled in this thread (httpcore's sync pool connects in the caller's thread)."""

    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        pinned: tuple[str, list[str]] | None = getattr(_pins, "value", None)
        if pinned is None or pinned[0] != host.lower():
            raise httpcore.ConnectError(f"connexion non vérifiée refusée ({host})")
        last: httpcore.ConnectError | None = None
        for address in pinned[1]:
            try:
                return self._inner.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except httpcore.ConnectTimeout:
                raise
            except httpcore.ConnectError as exc:
                last = exc
        assert last is not None
        raise last

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("connexion par socket Unix refusée")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class GuardedTransport(httpx.HTTPTransport):
    """httpx transport whose every request is checked by an ``OutboundGuard`` and whose
    connections go to the checked addresses only. TLS verification (``verify``) is httpx's,
    against the original hostname."""

    def __init__(
        self,
        *,
        guard: OutboundGuard | None = None,
        verify: Any = True,
        limits: httpx.Limits = POOL_LIMITS,
    ) -> None:
        super().__init__(verify=verify, trust_env=False, limits=limits)
        self.guard = guard or OutboundGuard()
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify, trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=True,
            http2=False,
            network_backend=_PinnedBackend(),
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        guard = request.extensions.get(GUARD_EXTENSION) or self.guard
        addresses = guard.check(request.url)
        previous = getattr(_pins, "value", None)
        _pins.value = (host_key(request.url), addresses)
        try:
            return super().handle_request(request)
        finally:
            _pins.value = previous


def guarded_client(
    *,
    guard: OutboundGuard | None = None,
    verify: Any = True,
    **kwargs: Any,
) -> httpx.Client:
    """An ``httpx.Client`` whose requests all pass the guard (environment proxies ignored)."""
    return httpx.Client(
        transport=GuardedTransport(guard=guard, verify=verify), trust_env=False, **kwargs
    )


def peer_address(response: httpx.Response) -> str:
    """The address the response really came from ('' when the transport does not say)."""
    stream = response.extensions.get("network_stream")
    if stream is None:
        return ""
    server = stream.get_extra_info("server_addr")
    return str(server[0]) if server else ""
