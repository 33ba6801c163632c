"""Checks run before (and, for the clock, after) a capture, as NF Z67-147 expects of a constat.

The norm asks the officer to state the machine's IP address, that no proxy is used, that the
clock is synchronised and which network path was taken. An automated capture cannot swear to
these, but it can measure them and record the results — including, when something could not be
measured, *why* (``"unknown: <raison>"``), rather than leaving a blank or inventing a value.

Every outbound call here goes to a configured service (NTP server, IP echo URL), never to a
user-supplied address, and has an explicit timeout. Nothing is configured by default, so
nothing leaves the machine unless the caller says where to ask.
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import struct
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from evidence.netguard import Resolver, system_resolver

UNKNOWN = "unknown: "

# Seconds between the NTP era (1900-01-01) and the Unix epoch (1970-01-01).
_NTP_EPOCH_OFFSET = 2_208_988_800

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
    """Where the pre-checks may ask. ``None`` means "not configured": recorded as unknown."""

    ntp_server: str | None = None
    ntp_port: int = 123
    ip_echo_url: str | None = None
    timeout_s: float = 3.0
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


def _ntp_to_unix(raw: bytes) -> float:
    seconds, fraction = struct.unpack("!II", raw)
    return seconds - _NTP_EPOCH_OFFSET + fraction / 2**32


def _unix_to_ntp(moment: float) -> bytes:
    seconds = int(moment) + _NTP_EPOCH_OFFSET
    fraction = int((moment - int(moment)) * 2**32) & 0xFFFFFFFF
    return struct.pack("!II", seconds & 0xFFFFFFFF, fraction)


def clock_check(*, server: str | None, port: int = 123, timeout_s: float = 3.0) -> dict:
    """Measure the system clock's offset against an NTP server with one SNTP (RFC 4330) query.

    offset = ((T2 - T1) + (T3 - T4)) / 2, where T1/T4 are our send/receive times and T2/T3 the
    server's. The server's reply must echo our transmit timestamp, otherwise it is ignored.
    """
    record: dict = {
        "source": "sntp",
        "server": f"{server}:{port}" if server else None,
        "system_time_utc": iso_utc(utc_now()),
    }
    if not server:
        record["status"] = UNKNOWN + "aucun serveur NTP configuré"
        return record
    packet = bytearray(48)
    packet[0] = (0 << 6) | (4 << 3) | 3  # LI=0, VN=4, mode=3 (client)
    try:
        infos = socket.getaddrinfo(server, port, 0, socket.SOCK_DGRAM)
        family, _type, _proto, _canon, sockaddr = infos[0]
        with socket.socket(family, socket.SOCK_DGRAM) as sock:
            sock.settimeout(timeout_s)
            sock.connect(sockaddr)
            t1 = time.time()
            transmit = _unix_to_ntp(t1)
            packet[40:48] = transmit
            sock.send(bytes(packet))
            reply = sock.recv(512)
            t4 = time.time()
    except TimeoutError:
        record["status"] = UNKNOWN + f"pas de réponse du serveur NTP en {timeout_s:g} s"
        return record
    except OSError as exc:
        record["status"] = UNKNOWN + f"serveur NTP injoignable ({type(exc).__name__})"
        return record
    if len(reply) < 48 or reply[24:32] != transmit:
        record["status"] = UNKNOWN + "réponse NTP invalide (horodatage d'origine différent)"
        return record
    stratum = reply[1]
    if stratum == 0:
        record["status"] = UNKNOWN + "le serveur NTP a refusé la requête (kiss-o'-death)"
        return record
    t2 = _ntp_to_unix(reply[32:40])
    t3 = _ntp_to_unix(reply[40:48])
    offset = ((t2 - t1) + (t3 - t4)) / 2
    delay = (t4 - t1) - (t3 - t2)
    record.update(
        {
            "status": "ok",
            "server_address": sockaddr[0],
            "stratum": stratum,
            "offset_s": round(offset, 3),
            "round_trip_s": round(delay, 3),
            "server_time_utc": iso_utc(datetime.fromtimestamp(t3, tz=UTC)),
        }
    )
    return record


def egress_ip_find(*, echo_url: str | None, timeout_s: float = 3.0) -> dict:
    """The public address this machine appears from, asked of an IP echo service.

    The service may answer with the bare address or with JSON ``{"ip": "..."}``. Proxy
    environment variables are ignored (``trust_env=False``): the answer must describe the
    direct route the browser uses.
    """
    record: dict = {"source": echo_url, "checked_at": iso_utc(utc_now())}
    if not echo_url:
        record["ip"] = UNKNOWN + "aucun service d'écho d'adresse IP configuré"
        return record
    try:
        response = httpx.get(echo_url, timeout=timeout_s, trust_env=False, follow_redirects=False)
        response.raise_for_status()
    except httpx.TimeoutException as exc:
        record["ip"] = UNKNOWN + f"délai dépassé ({type(exc).__name__})"
        return record
    except httpx.HTTPStatusError as exc:
        record["ip"] = UNKNOWN + f"réponse HTTP {exc.response.status_code} du service d'écho"
        return record
    except httpx.HTTPError as exc:
        record["ip"] = UNKNOWN + f"connexion impossible ({type(exc).__name__})"
        return record
    text = response.text.strip()
    if text.startswith("{"):
        try:
            text = str(json.loads(text).get("ip", "")).strip()
        except (ValueError, AttributeError):
            text = ""
    try:
        record["ip"] = str(ipaddress.ip_address(text))
    except ValueError:
        record["ip"] = UNKNOWN + "réponse du service d'écho illisible"
    return record


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
    """All pre-capture checks, as one record for provenance/network.json and clock.json."""
    resolver_config = resolver_config_read(
        resolv_conf=config.resolv_conf, nsswitch_conf=config.nsswitch_conf
    )
    return {
        "proxy": proxy_settings_find(),
        "clock": clock_check(
            server=config.ntp_server, port=config.ntp_port, timeout_s=config.timeout_s
        ),
        "egress": egress_ip_find(echo_url=config.ip_echo_url, timeout_s=config.timeout_s),
        "dns": dns_answers_find(
            host=host,
            port=port,
            resolver=resolver or system_resolver(config.timeout_s),
            resolver_config=resolver_config,
        ),
    }
