"""Checks run before (and, for the clock, after) a capture, as NF Z67-147 expects of a constat.

The norm asks the officer to state the machine's IP address, that no proxy is used, that the
clock is synchronised and which network path was taken. An automated capture cannot swear to
these, but it can measure them and record the results — including, when something could not be
measured, *why* (``"unknown: <raison>"``), rather than leaving a blank or inventing a value.

Clock and egress address are measured by default: the settings name public NTP pool servers
(``EGIDE_CAPTURE_NTP_SERVERS``) and public IP echo services (``EGIDE_CAPTURE_IP_ECHO_URLS``);
each is asked in turn with a short timeout, and the first answer wins. Tests point both at local
servers speaking the real protocols (``evidence.testing``).

Outbound rules (those of ``common.address_guard`` / ``common.net_guard``, adapted): these services
are chosen by the operator, never by a user, so they are not held to the public-address rule of
the capture guard (an internal NTP server is legitimate). But every name is resolved once, with
a timeout (``getaddrinfo`` alone can hang), and the connection goes to that exact address; proxy
variables are ignored, redirects are not followed, every call has a timeout.
"""

from __future__ import annotations

import concurrent.futures
import importlib.metadata
import ipaddress
import json
import os
import socket
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import ntplib

from common.address_guard import Resolver, address_classify, system_resolver

UNKNOWN = "unknown: "
NTP_VERSION = 4
NTP_DEFAULT_PORT = 123
# Leap indicator 3, or stratum 16: the server says its own clock is not synchronised.
_LEAP_ALARM = 3
_STRATUM_UNSYNCHRONISED = 16

PROXY_ENV_VARS: tuple[str, ...] = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "FTP_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "ftp_proxy",
    "no_proxy",
)


@dataclass(frozen=True)
class PrecheckConfig:
    """Where the pre-checks may ask. Empty lists mean "not configured": recorded as unknown.

    ``ntp_servers`` entries are ``host``, ``host:port`` or ``[v6]:port``; ``timeout_s`` bounds
    each server (DNS, then the exchange), so a list of three that all fail costs at most
    2 × 3 × ``timeout_s``.
    """

    ntp_servers: tuple[str, ...] = ()
    ip_echo_urls: tuple[str, ...] = ()
    timeout_s: float = 1.0
    resolv_conf: Path = Path("/etc/resolv.conf")
    nsswitch_conf: Path = Path("/etc/nsswitch.conf")


def utc_now() -> datetime:
    return datetime.now(tz=UTC)


def iso_utc(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and a trailing Z, as used in every provenance file."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def proxy_settings_find(*, environ: Mapping[str, str] | None = None) -> dict:
    """Proxy settings visible to this process, and the browser's own proxy policy.

    The browser is launched with ``--no-proxy-server`` so that environment variables cannot
    route it through a proxy; the variables are still recorded because a constat must say
    whether a proxy was configured on the machine.
    """
    env = os.environ if environ is None else environ
    found = {name: env[name] for name in PROXY_ENV_VARS if env.get(name)}
    return {
        "environment": found,
        "browser": "aucun proxy : Chromium lancé avec --no-proxy-server",
        "proxy_found": bool(found),
    }


def ntp_server_parse(entry: str) -> tuple[str, int]:
    """``host``, ``host:port``, ``[v6]`` or ``[v6]:port`` (a bare IPv6 address is a host)."""
    text = entry.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest.removeprefix(":")
        return host, int(port) if port else NTP_DEFAULT_PORT
    if text.count(":") == 1:
        host, port = text.split(":")
        return host, int(port)
    return text, NTP_DEFAULT_PORT


def _server_label(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


_GAI_ERRORS_FR: dict[int, str] = {
    socket.EAI_NONAME: "nom inconnu ou aucun serveur DNS joignable",
    socket.EAI_AGAIN: "échec temporaire du serveur DNS",
    socket.EAI_FAIL: "échec du serveur DNS",
}


def _dns_error_text(exc: OSError) -> str:
    if isinstance(exc, socket.gaierror) and exc.errno in _GAI_ERRORS_FR:
        return f"{_GAI_ERRORS_FR[exc.errno]} : {exc.strerror}"
    return exc.strerror or str(exc) or type(exc).__name__


def _resolve(host: str, port: int, *, resolver: Resolver) -> list[str]:
    """The host's addresses (an IP literal as is); ``OSError`` with a French reason."""
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    try:
        addresses = list(resolver(host, port))
    except TimeoutError as exc:
        raise OSError(f"résolution DNS sans réponse ({exc})") from exc
    except OSError as exc:
        raise OSError(f"résolution DNS impossible ({_dns_error_text(exc)})") from exc
    if not addresses:
        raise OSError("résolution DNS impossible (aucune adresse)")
    return addresses


def _ref_id_text(ref_id: int, stratum: int) -> str:
    """Reference id: a four-letter code at strata 0-1 (``GPS``, ``RATE``), else an IPv4 form."""
    raw = ref_id.to_bytes(4, "big")
    if stratum <= 1:
        return raw.rstrip(b"\0").decode("ascii", errors="replace")
    return ".".join(str(byte) for byte in raw)


def _ntp_ask(address: str, port: int, *, timeout_s: float) -> dict:
    """One NTPv4 client exchange (ntplib) with an address; ``OSError`` with a French reason.

    ntplib does not check that the reply answers *this* request: its originate timestamp must
    fall between our send and receive times, otherwise it is refused.
    """
    before = time.time()
    try:
        stats = ntplib.NTPClient().request(
            address, version=NTP_VERSION, port=port, timeout=timeout_s
        )
    except ntplib.NTPException as exc:
        if "No response" in str(exc):
            raise OSError(f"pas de réponse en {timeout_s:g} s") from exc
        raise OSError(f"réponse NTP invalide ({exc})") from exc
    except OSError as exc:
        raise OSError(f"erreur réseau ({type(exc).__name__})") from exc
    after = time.time()
    if not before - 0.001 <= stats.orig_time <= after + 0.001:
        raise OSError("réponse NTP invalide (horodatage d'origine différent de la requête)")
    if stats.stratum == 0:
        code = _ref_id_text(stats.ref_id, 0)
        raise OSError(f"requête refusée par le serveur (kiss-o'-death {code})")
    if stats.leap == _LEAP_ALARM or stats.stratum >= _STRATUM_UNSYNCHRONISED:
        raise OSError("le serveur signale que sa propre horloge n'est pas synchronisée")
    return {
        "server_address": address,
        "stratum": stats.stratum,
        "reference_id": _ref_id_text(stats.ref_id, stats.stratum),
        "offset_s": round(stats.offset, 3),
        "delay_s": round(stats.delay, 3),
        "reference_time_utc": iso_utc(datetime.fromtimestamp(stats.ref_time, tz=UTC)),
        "server_time_utc": iso_utc(datetime.fromtimestamp(stats.tx_time, tz=UTC)),
        "leap": ntplib.leap_to_text(stats.leap),
        "ntp_version": stats.version,
    }


def clock_check(
    *,
    servers: Sequence[str],
    timeout_s: float = 1.0,
    resolver: Resolver | None = None,
) -> dict:
    """Measure the system clock's offset against the first NTP server that answers.

    offset = ((T2 - T1) + (T3 - T4)) / 2 and delay = (T4 - T1) - (T3 - T2), T1/T4 our send and
    receive times, T2/T3 the server's. Servers are asked in order, each within ``timeout_s``
    (DNS, then the exchange); every failure is recorded with its reason.
    """
    resolve = resolver or system_resolver(timeout_s)
    record: dict = {
        "source": f"ntp (ntplib {_version('ntplib')}, NTPv{NTP_VERSION})",
        "servers": list(servers),
        "server": None,
        "system_time_utc": iso_utc(utc_now()),
        "attempts": [],
    }
    if not servers:
        record["status"] = UNKNOWN + "aucun serveur NTP configuré"
        return record
    for entry in servers:
        label = entry
        try:
            host, port = ntp_server_parse(entry)
            label = _server_label(host, port)
            addresses = _resolve(host, port, resolver=resolve)
            answer = _ntp_ask(addresses[0], port, timeout_s=timeout_s)
        except ValueError:
            record["attempts"].append({"server": label, "result": "adresse de serveur invalide"})
            continue
        except OSError as exc:
            record["attempts"].append({"server": label, "result": str(exc)})
            continue
        record["attempts"].append({"server": label, "result": "ok"})
        record.update(answer, status="ok", server=label)
        record["address_class"] = address_classify(answer["server_address"])
        return record
    reasons = " ; ".join(f"{a['server']} : {a['result']}" for a in record["attempts"])
    record["status"] = UNKNOWN + f"aucun serveur NTP n'a répondu ({reasons})"
    return record


def _pinned_get(url: str, address: str, *, timeout_s: float) -> httpx.Response:
    """GET ``url`` from exactly ``address``: Host header and TLS SNI/verification keep the name."""
    parsed = httpx.URL(url)
    host = parsed.host
    headers = {"Host": parsed.netloc.decode("ascii")}
    extensions = {"sni_hostname": host} if parsed.scheme == "https" else {}
    with httpx.Client(timeout=timeout_s, trust_env=False, follow_redirects=False) as client:
        request = client.build_request(
            "GET", parsed.copy_with(host=address), headers=headers, extensions=extensions
        )
        return client.send(request)


def _echo_ask(url: str, *, timeout_s: float, resolver: Resolver) -> tuple[str, str]:
    """(address the service saw, address of the service); ``OSError`` with a French reason."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise OSError(f"adresse du service invalide ({exc})") from exc
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise OSError("adresse du service invalide (http ou https attendu)")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    addresses = _resolve(parsed.host, port, resolver=resolver)
    try:
        response = _pinned_get(url, addresses[0], timeout_s=timeout_s)
    except httpx.TimeoutException as exc:
        raise OSError(f"délai dépassé ({type(exc).__name__})") from exc
    except httpx.HTTPError as exc:
        raise OSError(f"connexion impossible ({type(exc).__name__})") from exc
    if response.status_code != 200:
        raise OSError(f"réponse HTTP {response.status_code} du service d'écho")
    text = response.text.strip()
    if text.startswith("{"):
        try:
            text = str(json.loads(text).get("ip", "")).strip()
        except (ValueError, AttributeError):
            text = ""
    try:
        return str(ipaddress.ip_address(text)), addresses[0]
    except ValueError as exc:
        raise OSError("réponse du service d'écho illisible") from exc


def egress_ip_find(
    *,
    echo_urls: Sequence[str],
    timeout_s: float = 1.0,
    resolver: Resolver | None = None,
) -> dict:
    """The public address this machine appears from, asked of IP echo services in turn.

    A service may answer with the bare address or with JSON ``{"ip": "..."}``. Proxy variables
    are ignored: the answer must describe the direct route the browser uses.
    """
    resolve = resolver or system_resolver(timeout_s)
    record: dict = {
        "source": None,
        "sources": list(echo_urls),
        "checked_at": iso_utc(utc_now()),
        "attempts": [],
    }
    if not echo_urls:
        record["ip"] = UNKNOWN + "aucun service d'écho d'adresse IP configuré"
        return record
    for url in echo_urls:
        try:
            ip, server = _echo_ask(url, timeout_s=timeout_s, resolver=resolve)
        except OSError as exc:
            record["attempts"].append({"url": url, "result": str(exc)})
            continue
        record["attempts"].append({"url": url, "result": "ok"})
        record.update(source=url, ip=ip, server_address=server)
        return record
    reasons = " ; ".join(f"{a['url']} : {a['result']}" for a in record["attempts"])
    record["ip"] = UNKNOWN + f"aucun service d'écho n'a répondu ({reasons})"
    return record


def _version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "absente"


def resolver_config_read(*, resolv_conf: Path, nsswitch_conf: Path) -> dict:
    """Which resolver the system uses: nameservers and search list, and the lookup order."""
    config: dict = {"source": str(resolv_conf), "nameservers": [], "search": [], "options": []}
    try:
        lines = resolv_conf.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        config["error"] = UNKNOWN + f"{resolv_conf} illisible ({type(exc).__name__})"
        lines = []
    for line in lines:
        words = line.split("#", 1)[0].split()
        if len(words) < 2:
            continue
        key, values = words[0], words[1:]
        if key == "nameserver":
            config["nameservers"].append(values[0])
        elif key in ("search", "domain"):
            config["search"].extend(values)
        elif key == "options":
            config["options"].extend(values)
    try:
        for line in nsswitch_conf.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.strip().startswith("hosts:"):
                config["nsswitch_hosts"] = line.split(":", 1)[1].split("#", 1)[0].strip()
    except OSError:
        config["nsswitch_hosts"] = UNKNOWN + f"{nsswitch_conf} absent"
    return config


def dns_answers_find(*, host: str, port: int, resolver: Resolver, resolver_config: dict) -> dict:
    """The addresses the target host resolved to, with when and through which resolver."""
    record: dict = {
        "host": host,
        "queried_at": iso_utc(utc_now()),
        "resolver": resolver_config,
    }
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        record["answers"] = [host]
        record["note"] = "adresse IP littérale : aucune requête DNS"
        return record
    try:
        record["answers"] = resolver(host, port)
    except OSError as exc:
        record["answers"] = []
        record["error"] = UNKNOWN + f"résolution impossible ({exc})"
    return record


def prechecks_run(
    *, config: PrecheckConfig, host: str, port: int, resolver: Resolver | None = None
) -> dict:
    """All pre-capture checks, as one record for provenance/network.json and clock.json.

    Clock, egress address and DNS answers are measured at the same time (each waits on a
    different server), so a capture pays for the slowest one, not their sum.
    """
    resolver_config = resolver_config_read(
        resolv_conf=config.resolv_conf, nsswitch_conf=config.nsswitch_conf
    )
    with concurrent.futures.ThreadPoolExecutor(3, thread_name_prefix="prechecks") as pool:
        clock = pool.submit(clock_check, servers=config.ntp_servers, timeout_s=config.timeout_s)
        egress = pool.submit(
            egress_ip_find, echo_urls=config.ip_echo_urls, timeout_s=config.timeout_s
        )
        dns = pool.submit(
            dns_answers_find,
            host=host,
            port=port,
            resolver=resolver or system_resolver(),
            resolver_config=resolver_config,
        )
        return {
            "proxy": proxy_settings_find(),
            "clock": clock.result(),
            "egress": egress.result(),
            "dns": dns.result(),
        }
