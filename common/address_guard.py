"""SSRF defence for the capture path.

Égide captures URLs that users type in. Without a guard, a URL (or a redirect, or an image on
the page) pointing at 169.254.169.254 or at an internal service would make the capture worker
fetch it and hand the answer back inside an evidence bundle. Every address the browser is about
to contact is therefore classified *after* DNS resolution, and anything that is not a public
unicast address is refused unless a test allow-lists it.

The classification is data (``_RANGES``), checked in order: the first network that contains
the address gives its class. More specific ranges (cloud metadata) come before the wider ones
that contain them (link-local, unique-local).
"""

from __future__ import annotations

import concurrent.futures
import ipaddress
import secrets
import socket
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], list[str]]

PUBLIC = "public"

# (network, class) — first match wins, so specific ranges precede the ranges containing them.
_RANGES: tuple[tuple[str, str], ...] = (
    # cloud instance metadata services (AWS/GCP/Azure/OpenStack, AWS IPv6, Alibaba)
    ("169.254.169.254/32", "cloud-metadata"),
    ("fd00:ec2::254/128", "cloud-metadata"),
    ("100.100.100.200/32", "cloud-metadata"),
    # IPv4
    ("0.0.0.0/32", "unspecified"),
    ("0.0.0.0/8", "this-network"),
    ("10.0.0.0/8", "private"),
    ("100.64.0.0/10", "cgnat"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local"),
    ("172.16.0.0/12", "private"),
    ("192.0.0.0/24", "ietf-protocol"),
    ("192.0.2.0/24", "documentation"),
    ("192.88.99.0/24", "6to4-relay"),
    ("192.168.0.0/16", "private"),
    ("198.18.0.0/15", "benchmarking"),
    ("198.51.100.0/24", "documentation"),
    ("203.0.113.0/24", "documentation"),
    ("224.0.0.0/4", "multicast"),
    ("255.255.255.255/32", "broadcast"),
    ("240.0.0.0/4", "reserved"),
    # IPv6
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("::/96", "ipv4-compatible"),
    ("100::/64", "discard-only"),
    ("64:ff9b:1::/48", "nat64-local"),
    ("2001::/32", "teredo"),
    ("2001:2::/48", "benchmarking"),
    ("2001:10::/28", "orchid"),
    ("2001:20::/28", "orchid"),
    ("2001::/23", "ietf-protocol"),
    ("2001:db8::/32", "documentation"),
    ("3fff::/20", "documentation"),
    ("5f00::/16", "srv6-sid"),
    ("fc00::/7", "private"),
    ("fe80::/10", "link-local"),
    ("fec0::/10", "site-local"),
    ("ff00::/8", "multicast"),
)

_NETWORKS: tuple[tuple[IPNetwork, str], ...] = tuple(
    (ipaddress.ip_network(net), label) for net, label in _RANGES
)

# IPv6 prefixes that carry an IPv4 address: the real destination is the embedded address.
_IPV4_MAPPED = ipaddress.ip_network("::ffff:0:0/96")
_NAT64_WELL_KNOWN = ipaddress.ip_network("64:ff9b::/96")
_SIX_TO_FOUR = ipaddress.ip_network("2002::/16")
_GLOBAL_UNICAST_V6 = ipaddress.ip_network("2000::/3")

ADDRESS_CLASS_FR: dict[str, str] = {
    "public": "adresse publique",
    "cloud-metadata": "service de métadonnées d'un hébergeur cloud",
    "unspecified": "adresse non spécifiée",
    "this-network": "réseau local « this network »",
    "private": "réseau privé",
    "cgnat": "espace partagé CGNAT (100.64.0.0/10)",
    "loopback": "boucle locale (loopback)",
    "link-local": "adresse lien-local",
    "ietf-protocol": "plage réservée aux protocoles IETF",
    "documentation": "plage réservée à la documentation",
    "6to4-relay": "anycast de relais 6to4 (obsolète)",
    "benchmarking": "plage réservée aux tests de performance",
    "multicast": "multidiffusion (multicast)",
    "broadcast": "diffusion (broadcast)",
    "reserved": "plage réservée",
    "ipv4-compatible": "adresse IPv6 compatible IPv4 (obsolète)",
    "discard-only": "plage de rejet (discard-only)",
    "nat64-local": "préfixe NAT64 local",
    "teredo": "tunnel Teredo",
    "orchid": "identifiant ORCHID",
    "srv6-sid": "identifiant de segment SRv6",
    "site-local": "adresse site-local (obsolète)",
    "invalid": "adresse IP invalide",
}


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address really leads to (mapped, NAT64, 6to4), if any."""
    if ip in _IPV4_MAPPED or ip in _NAT64_WELL_KNOWN:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip in _SIX_TO_FOUR:
        return ipaddress.IPv4Address((int(ip) >> 80) & 0xFFFFFFFF)
    return None


def address_classify(ip: str | IPAddress) -> str:
    """Class of an IP address: ``"public"`` or the reason it must not be contacted.

    IPv4-mapped, NAT64 and 6to4 IPv6 addresses are judged by the IPv4 address they embed, since
    that is where the packets end up (``::ffff:127.0.0.1`` is loopback).
    """
    try:
        addr = ipaddress.ip_address(ip.strip() if isinstance(ip, str) else ip)
    except ValueError:
        return "invalid"
    if isinstance(addr, ipaddress.IPv6Address):
        if addr.scope_id:
            return "link-local"
        embedded = _embedded_ipv4(addr)
        if embedded is not None:
            return address_classify(embedded)
    for network, label in _NETWORKS:
        if addr.version == network.version and addr in network:
            return label
    if isinstance(addr, ipaddress.IPv6Address) and addr not in _GLOBAL_UNICAST_V6:
        return "reserved"
    if not addr.is_global:
        return "reserved"
    return PUBLIC


def address_is_public(ip: str | IPAddress) -> bool:
    """True when the address is a public unicast address the capture may contact."""
    return address_classify(ip) == PUBLIC


class UrlRefused(ValueError):
    """A URL the capture must not fetch; ``message_fr`` is shown to the user as is."""

    def __init__(
        self,
        *,
        reason: str,
        message_fr: str,
        url: str,
        host: str = "",
        addresses: Iterable[str] = (),
    ) -> None:
        super().__init__(message_fr)
        self.reason = reason
        self.message_fr = message_fr
        self.url = url
        self.host = host
        self.addresses = list(addresses)


@dataclass(frozen=True)
class ResolvedTarget:
    """A URL that passed the guard, with the addresses its host resolved to at check time."""

    url: str
    scheme: str
    host: str
    port: int
    addresses: list[str]
    allow_listed: list[str] = field(default_factory=list)


def allow_networks(allow: Iterable[str]) -> tuple[IPNetwork, ...]:
    """Parse allow-list entries (``"127.0.0.1"``, ``"127.0.0.0/8"``, ``"::1"``) into networks."""
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in allow)


def address_allowed(ip: str, networks: tuple[IPNetwork, ...]) -> bool:
    """True when the address is public or inside one of the allow-listed networks."""
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return False
    # An IPv4 address written as IPv4-mapped IPv6 is the same host for the allow-list.
    candidates: list[IPAddress] = [addr]
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        candidates.append(addr.ipv4_mapped)
    if any(c.version == net.version and c in net for c in candidates for net in networks):
        return True
    return address_is_public(addr)


_DNS_POOL = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="netguard-dns")


def system_resolver(timeout_s: float = 5.0) -> Resolver:
    """A resolver using the system's getaddrinfo (nsswitch, /etc/hosts, DNS), with a timeout.

    getaddrinfo has no timeout of its own, so it runs in a small thread pool and the caller
    stops waiting after ``timeout_s``.
    """

    def resolve(host: str, port: int) -> list[str]:
        future = _DNS_POOL.submit(socket.getaddrinfo, host, port, 0, socket.SOCK_STREAM)
        try:
            infos = future.result(timeout=timeout_s)
        except concurrent.futures.TimeoutError as exc:
            raise TimeoutError(f"pas de réponse DNS en {timeout_s:g} s") from exc
        addresses: list[str] = []
        for _family, _type, _proto, _canon, sockaddr in infos:
            ip = str(sockaddr[0]).split("%", 1)[0]
            if ip not in addresses:
                addresses.append(ip)
        return addresses

    return resolve


def _dns_query(name: str, qtype: int, query_id: int) -> bytes:
    header = struct.pack("!HHHHHH", query_id, 0x0100, 1, 0, 0, 0)  # recursion desired
    qname = b"".join(
        bytes([len(label)]) + label for label in name.encode("idna").split(b".") if label
    )
    return header + qname + b"\x00" + struct.pack("!HH", qtype, 1)


def _dns_skip_name(message: bytes, offset: int) -> int:
    while True:
        length = message[offset]
        if length & 0xC0 == 0xC0:
            return offset + 2
        if length == 0:
            return offset + 1
        offset += 1 + length


def _dns_answers(message: bytes, query_id: int) -> list[str]:
    if len(message) < 12:
        raise OSError("réponse DNS tronquée")
    answer_id, flags, qdcount, ancount, _ns, _ar = struct.unpack("!HHHHHH", message[:12])
    if answer_id != query_id:
        raise OSError("réponse DNS d'identifiant inattendu")
    rcode = flags & 0x000F
    if rcode == 3:
        return []
    if rcode:
        raise OSError(f"erreur DNS (code {rcode})")
    offset = 12
    for _ in range(qdcount):
        offset = _dns_skip_name(message, offset) + 4
    found: list[str] = []
    for _ in range(ancount):
        offset = _dns_skip_name(message, offset)
        rtype, _rclass, _ttl, rdlength = struct.unpack("!HHIH", message[offset : offset + 10])
        offset += 10
        rdata = message[offset : offset + rdlength]
        offset += rdlength
        if rtype == 1 and rdlength == 4:
            found.append(str(ipaddress.IPv4Address(rdata)))
        elif rtype == 28 and rdlength == 16:
            found.append(str(ipaddress.IPv6Address(rdata)))
    return found


def dns_server_resolver(server: str, port: int = 53, timeout_s: float = 3.0) -> Resolver:
    """A resolver that asks one DNS server directly (A then AAAA, over UDP).

    For deployments that must pin resolution to a trusted resolver instead of the system's,
    and so that the record can name the exact server that answered. IP literals are returned
    as they are, without a query.
    """

    def resolve(host: str, _port: int) -> list[str]:
        if _is_ip_literal(host):
            return [host]
        addresses: list[str] = []
        with socket.socket(
            socket.AF_INET6 if ":" in server else socket.AF_INET, socket.SOCK_DGRAM
        ) as sock:
            sock.settimeout(timeout_s)
            sock.connect((server, port))
            for qtype in (1, 28):
                query_id = secrets.randbelow(0x10000)
                sock.send(_dns_query(host, qtype, query_id))
                for ip in _dns_answers(sock.recv(4096), query_id):
                    if ip not in addresses:
                        addresses.append(ip)
        return addresses

    return resolve


DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def url_parts(url: str, *, schemes: Iterable[str] = ("http", "https")) -> tuple[str, str, int]:
    """Validate a URL's shape and return (scheme, host, port); raise UrlRefused in French."""
    if not isinstance(url, str) or not url.strip():
        raise UrlRefused(reason="malformed", message_fr="URL vide.", url=str(url))
    if any(ch.isspace() or ord(ch) < 0x20 for ch in url.strip()):
        raise UrlRefused(
            reason="malformed",
            message_fr="URL mal formée : elle contient des espaces ou des caractères de contrôle.",
            url=url,
        )
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise UrlRefused(
            reason="malformed", message_fr=f"URL mal formée : {exc}.", url=url
        ) from exc
    scheme = parts.scheme.lower()
    if scheme not in schemes:
        shown = scheme or "(aucun)"
        raise UrlRefused(
            reason="scheme",
            message_fr=(
                f"Schéma « {shown} » refusé : seules les adresses http:// et https:// "
                "peuvent être capturées."
            ),
            url=url,
        )
    if parts.username is not None or parts.password is not None:
        raise UrlRefused(
            reason="credentials",
            message_fr="URL refusée : elle contient un identifiant ou un mot de passe.",
            url=url,
        )
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UrlRefused(reason="malformed", message_fr="URL mal formée : hôte absent.", url=url)
    try:
        host = host.encode("idna").decode("ascii") if not _is_ip_literal(host) else host
    except UnicodeError as exc:
        raise UrlRefused(
            reason="malformed",
            message_fr=f"URL mal formée : nom d'hôte « {host} » invalide.",
            url=url,
        ) from exc
    return scheme, host, port or DEFAULT_PORTS[scheme]


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def url_check(
    url: str,
    *,
    allow: set[str] | frozenset[str] = frozenset(),
    resolver: Resolver | None = None,
    schemes: Iterable[str] = ("http", "https"),
) -> ResolvedTarget:
    """Check that a URL may be fetched: http(s), resolvable, and every address public.

    Refuses when ANY resolved address is non-public and not allow-listed: a host that answers
    with one public and one private address could be steered to the private one.
    """
    scheme, host, port = url_parts(url, schemes=schemes)
    resolve = resolver or system_resolver()
    try:
        addresses = resolve(host, port)
    except (OSError, UnicodeError) as exc:
        raise UrlRefused(
            reason="dns",
            message_fr=f"Résolution DNS impossible pour « {host} » : {exc}.",
            url=url,
            host=host,
        ) from exc
    if not addresses:
        raise UrlRefused(
            reason="dns",
            message_fr=f"Résolution DNS impossible pour « {host} » : aucune adresse.",
            url=url,
            host=host,
        )
    networks = allow_networks(allow)
    refused = [ip for ip in addresses if not address_allowed(ip, networks)]
    if refused:
        details = ", ".join(
            f"{ip} ({ADDRESS_CLASS_FR.get(address_classify(ip), address_classify(ip))})"
            for ip in refused
        )
        raise UrlRefused(
            reason="address",
            message_fr=(
                f"Adresse non publique refusée pour « {host} » : {details}. "
                "La capture ne contacte que des adresses publiques."
            ),
            url=url,
            host=host,
            addresses=addresses,
        )
    allow_listed = [ip for ip in addresses if not address_is_public(ip)]
    return ResolvedTarget(
        url=url,
        scheme=scheme,
        host=host,
        port=port,
        addresses=addresses,
        allow_listed=allow_listed,
    )
