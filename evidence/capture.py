"""Browser capture of one URL into the ``data/`` part of an evidence bundle (EVIDENCE.md).

What a constat on the internet must show (NF Z67-147, DOMAIN.md §7), each as a file:
the page as seen (full-page and first-screen images, PDF, DOM, visible text), every exchange on
the wire (a WARC with the server address of each response), where the machine stood (public IP,
DNS answers and resolver, no proxy), when (clock checked against NTP at start and end), with
what (browser and versions, clean profile) and what was done to the page (actions log).

Safety: the first URL, every redirect and every sub-request (including iframes in other
processes) pass the SSRF guard of ``netguard`` *before* they leave the browser — the guard sits
on a browser-level DevTools ``Fetch`` interception, which, unlike Playwright's ``route``, also
sees redirect hops. A main document that is refused raises ``CaptureBlocked`` and leaves
nothing behind; a refused sub-request is aborted and recorded.

Residual risks (documented, not hidden): DNS can answer differently to the guard and to the
browser (rebinding) — every response's server address is re-checked afterwards and the capture
is discarded if one is not allowed; ``<link rel=preconnect>`` can open a TCP connection (no
request is sent) to a host the guard never saw.

Playwright's sync API is used: a capture worker owns its browser and runs one capture at a time
in its browser thread (``evidence.browser``). ``capture_run`` checks the URL and stages the
files; a ``CaptureSession`` runs the steps (page, load, interactions, screenshots, PDF, DOM,
TLS, WARC, result) with the settings of a frozen ``CaptureSettings``. Tall pages are
screenshotted in tiles streamed into one PNG (``screenshot_full_write``).
"""

from __future__ import annotations

import base64
import concurrent.futures
import contextlib
import hashlib
import importlib.metadata
import io
import json
import os
import platform
import shutil
import socket
import sys
import tempfile
import textwrap
import zlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from PIL import Image, ImageDraw, ImageFont
from playwright.sync_api import Browser, BrowserContext, CDPSession, Page, sync_playwright
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Request as PlaywrightRequest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from common.address_guard import (
    ADDRESS_CLASS_FR,
    DEFAULT_PORTS,
    Resolver,
    UrlRefused,
    address_allowed,
    address_classify,
    allow_networks,
    system_resolver,
    url_check,
)
from evidence import behaviors, tls_chain
from evidence.prechecks import (
    PrecheckConfig,
    clock_check,
    iso_utc,
    prechecks_run,
    utc_now,
)
from evidence.warc import HttpExchange, WarcResource, warc_write

CHROMIUM_ARGS: tuple[str, ...] = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # NF Z67-147: no proxy. Chromium would otherwise honour the *_proxy environment variables.
    "--no-proxy-server",
    # Fewer connections the guard cannot see: DNS prefetch and WebRTC to local addresses.
    "--dns-prefetch-disable",
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
    # Memory of a long-lived worker (issue 15.4: ≤ 800 MiB for a worker and its browser): no
    # zygote processes (the sandbox is off anyway), the GPU (software) compositor inside the
    # browser process rather than a process of its own, few renderers at once.
    "--no-zygote",
    "--in-process-gpu",
    "--renderer-process-limit=2",
)

# Full-page screenshots of pages taller than this are taken in tiles of this height and
# stitched into one PNG streamed to disk: a 30,000 px page in one piece costs Chromium a bitmap
# of the whole page (about +500 MiB of the worker's memory); in tiles, about +80 MiB.
SCREENSHOT_TILE_PX = 4000

# A page is "quiet" when none of its requests has been pending for this long (Playwright's
# ``networkidle`` waits a fixed 500 ms instead).
QUIET_MS = 150

DATA_DIR = "data"
WARC_DIR = "warc"
WARC_NAME = "capture.warc.gz"
BODY_LIMIT_BYTES = 50 * 1024 * 1024
BLOCKED_ERROR = "net::ERR_BLOCKED_BY_CLIENT"

BANNER_FONTS: tuple[str, ...] = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationMono-Regular.ttf",
)

# Progress steps (label shown to the user, percent), in order.
PROGRESS: dict[str, tuple[str, int]] = {
    "check": ("Vérification de l'adresse demandée", 2),
    "prechecks": ("Vérifications préalables : horloge, adresse IP publique, DNS, proxy", 8),
    "browser": ("Démarrage du navigateur avec un profil vierge", 15),
    "load": ("Chargement de la page", 25),
    "consent": ("Bandeau de consentement aux cookies", 40),
    "scroll": ("Défilement pour charger tout le contenu", 50),
    "expand": ("Déploiement des textes tronqués (« lire la suite »)", 60),
    "screenshots": ("Captures d'écran", 70),
    "pdf": ("Impression PDF de la page", 78),
    "dom": ("Enregistrement du code HTML et du texte visible", 82),
    "tls": ("Certificats TLS", 86),
    "warc": ("Archive WARC des échanges réseau", 90),
    "clock": ("Contrôle final de l'horloge", 95),
    "done": ("Capture terminée", 100),
}


class CaptureBlocked(Exception):
    """The URL (or its redirect, or a server address) is not allowed: nothing was kept."""

    def __init__(self, message_fr: str, *, url: str, blocked: list[dict] | None = None) -> None:
        super().__init__(message_fr)
        self.message_fr = message_fr
        self.url = url
        self.blocked = blocked or []


@dataclass
class CaptureResult:
    """What a capture produced; the files under ``data_dir`` are the bundle's payload."""

    url: str
    final_url: str
    http_status: int | None
    error: str | None
    title: str
    started_at: datetime
    finished_at: datetime
    out_dir: Path
    data_dir: Path
    warc_paths: list[Path]
    main_response_date: datetime | None
    redirect_chain: list[dict]
    blocked: list[dict]
    files: dict[str, str]
    warc_sha256: dict[str, str]
    environment: dict
    network: dict
    clock: dict
    actions: list[dict]

    def to_dict(self) -> dict:
        data = asdict(self)
        for key in ("started_at", "finished_at", "main_response_date"):
            if data[key] is not None:
                data[key] = iso_utc(data[key])
        for key in ("out_dir", "data_dir"):
            data[key] = str(data[key])
        data["warc_paths"] = [str(path) for path in self.warc_paths]
        return data


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n", "utf-8")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    host = parts.hostname or ""
    return host, parts.port or DEFAULT_PORTS.get(parts.scheme, 0)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class RequestGuard:
    """Browser-wide SSRF guard and raw-body tap, on one DevTools ``Fetch`` interception.

    Request stage: every request is paused until its host's addresses pass. Attached through a
    browser-level session, it sees redirect hops, out-of-process iframes and workers, which a
    page-level ``route`` would miss. Any error while deciding refuses the request (fail closed).

    Response stage: the body is read as the network delivered it (``Fetch.getResponseBody``)
    before the page gets it. Playwright's ``Response.body()`` returns text documents re-encoded
    in UTF-8 — a windows-1252 page would be archived with bytes the server never sent.
    """

    def __init__(self, *, allow: set[str], resolver: Resolver) -> None:
        self.allow = sorted(allow)
        self.networks = allow_networks(allow)
        self.resolver = resolver
        self.hosts: dict[tuple[str, int], dict] = {}
        self.blocked: list[dict] = []
        self.bodies: dict[str, list[bytes]] = {}
        self.session: CDPSession | None = None

    def body_take(self, url: str) -> bytes | None:
        """The raw body of the oldest unclaimed response for ``url``, if it was read."""
        queue = self.bodies.get(url)
        return queue.pop(0) if queue else None

    def host_verdict(self, host: str, port: int) -> dict:
        """Resolve a host once per capture and decide; the result is kept for network.json."""
        key = (host, port)
        if key not in self.hosts:
            entry: dict = {"host": host, "port": port, "resolved_at": iso_utc(utc_now())}
            try:
                addresses = self.resolver(host, port)
            except OSError as exc:
                entry.update(addresses=[], allowed=False, reason=f"DNS : {exc}")
            else:
                refused = [ip for ip in addresses if not address_allowed(ip, self.networks)]
                entry["addresses"] = addresses
                entry["allowed"] = bool(addresses) and not refused
                if not addresses:
                    entry["reason"] = "DNS : aucune adresse"
                elif refused:
                    entry["reason"] = "adresse non publique : " + ", ".join(
                        f"{ip} ({ADDRESS_CLASS_FR.get(address_classify(ip), '?')})"
                        for ip in refused
                    )
            self.hosts[key] = entry
        return self.hosts[key]

    def url_verdict(self, url: str) -> tuple[bool, str, dict | None]:
        scheme = urlsplit(url).scheme.lower()
        if scheme in ("data", "blob", "about"):
            return True, "", None
        if scheme not in ("http", "https", "ws", "wss"):
            return False, f"schéma « {scheme} » refusé", None
        host, port = _host_port(url)
        if not host:
            return False, "hôte absent", None
        verdict = self.host_verdict(host.strip("[]"), port)
        return verdict["allowed"], verdict.get("reason", ""), verdict

    def _record_block(self, url: str, reason: str, verdict: dict | None, kind: str) -> None:
        self.blocked.append(
            {
                "at": iso_utc(utc_now()),
                "url": url,
                "resource_type": kind,
                "addresses": (verdict or {}).get("addresses", []),
                "reason": reason,
            }
        )

    def _paused(self, event: dict) -> None:
        if "responseStatusCode" in event or "responseErrorReason" in event:
            self._response_paused(event)
            return
        request_id = event.get("requestId")
        url = event.get("request", {}).get("url", "")
        try:
            allowed, reason, verdict = self.url_verdict(url)
        except Exception as exc:  # noqa: BLE001 — any failure refuses the request
            allowed, reason, verdict = False, f"erreur du contrôle : {exc}", None
        assert self.session is not None  # noqa: S101 — set before Fetch.enable
        try:
            if allowed:
                self.session.send("Fetch.continueRequest", {"requestId": request_id})
            else:
                self._record_block(url, reason, verdict, event.get("resourceType", ""))
                self.session.send(
                    "Fetch.failRequest",
                    {"requestId": request_id, "errorReason": "BlockedByClient"},
                )
        except PlaywrightError:
            # The request was cancelled meanwhile (page closed, navigation replaced it).
            pass

    def _response_paused(self, event: dict) -> None:
        assert self.session is not None  # noqa: S101 — set before Fetch.enable
        request_id = event.get("requestId")
        status = event.get("responseStatusCode") or 0
        headers = {h["name"].lower(): h["value"] for h in event.get("responseHeaders") or []}
        declared = headers.get("content-length", "")
        too_big = declared.isdigit() and int(declared) > BODY_LIMIT_BYTES
        is_redirect = 300 <= status < 400 and "location" in headers
        with contextlib.suppress(PlaywrightError):
            if status and not is_redirect and not too_big:
                answer = self.session.send("Fetch.getResponseBody", {"requestId": request_id})
                raw = answer.get("body", "")
                body = base64.b64decode(raw) if answer.get("base64Encoded") else raw.encode()
                self.bodies.setdefault(event["request"]["url"], []).append(body)
        with contextlib.suppress(PlaywrightError):
            self.session.send("Fetch.continueRequest", {"requestId": request_id})

    def attach(self, browser: Browser, *, bodies: bool = True) -> None:
        """Guard every request of ``browser``; with ``bodies``, also keep the raw bodies."""
        patterns = [{"urlPattern": "*", "requestStage": "Request"}]
        if bodies:
            patterns.append({"urlPattern": "*", "requestStage": "Response"})
        self.session = browser.new_browser_cdp_session()
        self.session.on("Fetch.requestPaused", self._paused)
        self.session.send("Fetch.enable", {"patterns": patterns})

    def detach(self) -> None:
        if self.session is None:
            return
        with contextlib.suppress(PlaywrightError):
            self.session.send("Fetch.disable")
            self.session.detach()
        self.session = None


@dataclass
class _Recorder:
    """Collects every exchange from Playwright's network events, with bodies and server IPs."""

    exchanges: dict[int, HttpExchange] = field(default_factory=dict)
    order: list[int] = field(default_factory=list)
    failed: list[dict] = field(default_factory=list)
    requests: list[dict] = field(default_factory=list)
    tls_by_host: dict[str, dict] = field(default_factory=dict)
    violations: list[dict] = field(default_factory=list)
    networks: tuple = ()
    guard: RequestGuard | None = None

    def _exchange(self, request: PlaywrightRequest) -> HttpExchange:
        key = id(request)
        if key not in self.exchanges:
            self.exchanges[key] = HttpExchange(
                url=request.url,
                method=request.method,
                request_headers=[],
                started_at=utc_now(),
                resource_type=request.resource_type,
            )
            self.order.append(key)
        return self.exchanges[key]

    def on_request(self, request: PlaywrightRequest) -> None:
        self._exchange(request)

    def _complete(self, request: PlaywrightRequest, failure: str | None) -> None:
        exchange = self._exchange(request)
        with contextlib.suppress(PlaywrightError):
            start_ms = request.timing.get("startTime", -1)
            if start_ms and start_ms > 0:
                exchange.started_at = datetime.fromtimestamp(start_ms / 1000, tz=UTC)
        try:
            exchange.request_headers = [(h["name"], h["value"]) for h in request.headers_array()]
        except PlaywrightError:
            exchange.request_headers = list(request.headers.items())
        exchange.request_body = request.post_data_buffer
        response = None
        with contextlib.suppress(PlaywrightError):
            response = request.response()
        entry: dict = {
            "url": request.url,
            "method": request.method,
            "resource_type": request.resource_type,
            "started_at": iso_utc(exchange.started_at),
        }
        if failure:
            entry["failure"] = failure
        if response is not None:
            exchange.status = response.status
            exchange.status_text = response.status_text
            with contextlib.suppress(PlaywrightError):
                exchange.response_headers = [
                    (h["name"], h["value"]) for h in response.headers_array()
                ]
            server = None
            with contextlib.suppress(PlaywrightError):
                server = response.server_addr()
            if server:
                exchange.server_ip = server["ipAddress"].strip("[]")
                entry["server_ip"] = exchange.server_ip
                entry["server_port"] = server["port"]
                if not address_allowed(exchange.server_ip, self.networks):
                    self.violations.append(
                        {
                            "url": request.url,
                            "server_ip": exchange.server_ip,
                            "at": iso_utc(utc_now()),
                        }
                    )
            if 300 <= response.status < 400 and response.header_value("location") is not None:
                exchange.body_unavailable = "redirection : le navigateur ne conserve pas le corps"
            else:
                body = self.guard.body_take(request.url) if self.guard else None
                if body is None:
                    # Not read at the network level (too big, cancelled): ask the browser.
                    try:
                        body = response.body()
                    except PlaywrightError as exc:
                        exchange.body_unavailable = _first_line(exc)
                        exchange.truncated = "unspecified"
                    else:
                        entry["body_source"] = "Response.body() (navigateur)"
                if body is not None:
                    if len(body) > BODY_LIMIT_BYTES:
                        body = body[:BODY_LIMIT_BYTES]
                        exchange.truncated = "length"
                    exchange.body = body
            if failure and exchange.body is None:
                exchange.truncated = "disconnect"
            entry["status"] = response.status
            if exchange.body_unavailable:
                entry["body"] = exchange.body_unavailable
            if urlsplit(request.url).scheme == "https":
                details = None
                with contextlib.suppress(PlaywrightError):
                    details = response.security_details()
                if details:
                    entry["tls_protocol"] = details.get("protocol")
                    host = urlsplit(request.url).netloc
                    self.tls_by_host.setdefault(host, {}).update(
                        {k: v for k, v in details.items() if v is not None}
                    )
        self.requests.append(entry)
        if failure and response is None:
            self.failed.append(entry)

    def on_finished(self, request: PlaywrightRequest) -> None:
        self._complete(request, None)

    def on_failed(self, request: PlaywrightRequest) -> None:
        self._complete(request, request.failure or "échec")

    def warc_exchanges(self) -> list[HttpExchange]:
        """Exchanges that reached a server, oldest first (refused or failed ones did not)."""
        done = [self.exchanges[key] for key in self.order if self.exchanges[key].status is not None]
        return sorted(done, key=lambda exchange: exchange.started_at)


def _banner_font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for candidate in BANNER_FONTS:
        if Path(candidate).exists():
            return ImageFont.truetype(candidate, size)
    return ImageFont.load_default(size=size)


def screenshot_banner_add(*, png: bytes, lines: list[str], out_path: Path) -> None:
    """Burn the URL and UTC time into a band *above* the screenshot: no page pixel is covered."""
    with Image.open(io.BytesIO(png)) as shot:
        font = _banner_font(16)
        width = shot.width
        chars = max(20, int(width / 10))
        wrapped: list[str] = []
        for line in lines:
            wrapped.extend(textwrap.wrap(line, chars, break_long_words=True) or [""])
        line_height = 22
        band = 12 + line_height * len(wrapped)
        canvas = Image.new("RGB", (width, shot.height + band), (255, 255, 255))
        canvas.paste(shot.convert("RGB"), (0, band))
        draw = ImageDraw.Draw(canvas)
        draw.rectangle([(0, 0), (width, band - 1)], fill=(20, 33, 61))
        for index, line in enumerate(wrapped):
            draw.text((10, 6 + index * line_height), line, fill=(255, 255, 255), font=font)
        canvas.save(out_path, format="PNG")


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")


def _png_tile_write(*, png: bytes, size: tuple[int, int], out: Any, z: Any) -> None:
    """Append one tile's rows (filter byte 0, RGB) to the PNG being streamed to ``out``."""
    with Image.open(io.BytesIO(png)) as tile:
        rgb = tile.convert("RGB")
    if rgb.size != size:
        raise RuntimeError(f"tuile de capture d'écran inattendue : {rgb.size} au lieu de {size}")
    raw, row = rgb.tobytes(), size[0] * 3
    del rgb
    rows = b"".join(b"\x00" + raw[i : i + row] for i in range(0, len(raw), row))
    del raw
    out.write(_png_chunk(b"IDAT", z.compress(rows)))


def screenshot_full_write(*, page: Page, out_path: Path, tile_px: int = SCREENSHOT_TILE_PX) -> dict:
    """Write a full-page screenshot of ``page`` to ``out_path``; its size and tiling.

    A page up to ``tile_px`` high is taken in one piece (Playwright's ``full_page``). A taller
    one is taken in tiles of ``tile_px`` (the same full-page rendering, clipped), whose rows are
    streamed into one PNG (8-bit RGB, no filter): the same pixels, without a whole-page bitmap
    in Chromium or in Python.
    """
    width, height = page.evaluate(
        "() => { const d = document.documentElement, b = document.body || d;"
        " return [Math.max(d.scrollWidth, b.scrollWidth, d.clientWidth),"
        " Math.max(d.scrollHeight, b.scrollHeight, d.clientHeight)]; }"
    )
    if height <= tile_px:
        out_path.write_bytes(page.screenshot(full_page=True, timeout=60_000))
        with Image.open(out_path) as image:
            return {"width": image.width, "height": image.height, "tiles": 1}
    # Chromium renders tile n + 1 while another thread decodes and compresses tile n (Pillow
    # and zlib release the GIL); one encoder thread keeps the rows in order.
    compressor = zlib.compressobj(1)
    tiles = 0
    encoder = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="screenshot-png")
    with out_path.open("wb") as out, contextlib.ExitStack() as stack:
        stack.callback(encoder.shutdown)
        out.write(b"\x89PNG\r\n\x1a\n")
        out.write(_png_chunk(b"IHDR", width.to_bytes(4, "big") + height.to_bytes(4, "big")
                             + bytes([8, 2, 0, 0, 0])))  # fmt: skip
        pending: concurrent.futures.Future | None = None
        for top in range(0, height, tile_px):
            tile_height = min(tile_px, height - top)
            png = page.screenshot(
                full_page=True,
                clip={"x": 0, "y": top, "width": width, "height": tile_height},
                timeout=60_000,
            )
            if pending is not None:
                pending.result()
            pending = encoder.submit(
                _png_tile_write, png=png, size=(width, tile_height), out=out, z=compressor
            )
            tiles += 1
        if pending is not None:
            pending.result()
        out.write(_png_chunk(b"IDAT", compressor.flush()))
        out.write(_png_chunk(b"IEND", b""))
    return {"width": width, "height": height, "tiles": tiles}


def _versions() -> dict[str, str]:
    names = ("playwright", "warcio", "pillow", "weasyprint", "httpx")
    found = {"python": platform.python_version()}
    for name in names:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = "absent"
    return found


def _os_release() -> str:
    try:
        for line in Path("/etc/os-release").read_text(encoding="utf-8").splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return platform.platform()


def _container() -> dict:
    return {
        "in_container": Path("/.dockerenv").exists() or Path("/run/.containerenv").exists(),
        "image": os.environ.get("EGIDE_CONTAINER_IMAGE") or None,
    }


def _progress(on_progress: Callable[[str, int], None] | None, step: str) -> None:
    if on_progress is not None:
        label, percent = PROGRESS[step]
        on_progress(label, percent)


def _page_text(page: Page) -> str:
    """Visible text of the page, then of each frame that has some, each under a heading; the
    text of open shadow roots (review widgets), which ``innerText`` skips, under its own."""
    parts = [page.main_frame.inner_text("body", timeout=5000).strip()]
    for host, text in behaviors.shadow_root_texts(page.main_frame):
        parts.append(f"--- Racine fantôme : {host} ---\n{text}")
    for frame in page.frames[1:]:
        if frame.url in ("", "about:blank") or frame.is_detached():
            continue
        try:
            text = frame.inner_text("body", timeout=5000).strip()
        except PlaywrightError:
            continue
        if text:
            parts.append(f"--- Cadre : {frame.url} ---\n{text}")
        for host, text in behaviors.shadow_root_texts(frame):
            parts.append(f"--- Racine fantôme : {host} ({frame.url}) ---\n{text}")
    return "\n\n".join(parts) + "\n"


def _certificates_fetch(
    *, cdp: CDPSession, origins: list[str], tls_dir: Path, tls_by_host: dict[str, dict]
) -> dict[str, str]:
    """Certificate chains as served in this session (Network.getCertificate), PEM per host."""
    written: dict[str, str] = {}
    for origin in origins:
        netloc = urlsplit(origin).netloc
        try:
            chain = cdp.send("Network.getCertificate", {"origin": origin}).get("tableNames", [])
        except PlaywrightError as exc:
            tls_by_host.setdefault(netloc, {})["chain"] = "unknown: " + _first_line(exc)
            continue
        if not chain:
            tls_by_host.setdefault(netloc, {})["chain"] = "unknown: aucun certificat renvoyé"
            continue
        pem = "".join(
            "-----BEGIN CERTIFICATE-----\n"
            + "\n".join(textwrap.wrap(der_b64, 64))
            + "\n-----END CERTIFICATE-----\n"
            for der_b64 in chain
        )
        name = netloc.replace(":", "_").replace("[", "").replace("]", "") + ".pem"
        tls_dir.mkdir(parents=True, exist_ok=True)
        (tls_dir / name).write_text(pem, encoding="ascii")
        tls_by_host.setdefault(netloc, {})["chain_file"] = f"provenance/tls/{name}"
        tls_by_host[netloc]["chain_length"] = len(chain)
        written[netloc] = name
    return written


@dataclass(frozen=True)
class CaptureSettings:
    """What one capture is asked to do: its URL, limits and browser profile (see capture_run)."""

    url: str
    chromium_path: str
    allow: set[str]
    timeout_s: float
    user_agent: str | None = None
    locale: str = "fr-FR"
    timezone_id: str = "Europe/Paris"
    viewport: tuple[int, int] = (1366, 900)
    prechecks: PrecheckConfig = field(default_factory=PrecheckConfig)
    idle_timeout_s: float = 10.0
    behaviors_timeout_s: float = 30.0
    tls_extra_ca_file: str | Path | None = None


def capture_run(
    *,
    url: str,
    out_dir: Path,
    chromium_path: str,
    allow: set[str],
    timeout_s: float,
    user_agent: str | None = None,
    locale: str = "fr-FR",
    timezone_id: str = "Europe/Paris",
    viewport: tuple[int, int] = (1366, 900),
    on_progress: Callable[[str, int], None] | None = None,
    prechecks: PrecheckConfig | None = None,
    resolver: Resolver | None = None,
    browser: Browser | None = None,
    browser_args: Sequence[str] | None = None,
    idle_timeout_s: float = 10.0,
    behaviors_timeout_s: float = 30.0,
    tls_extra_ca_file: str | Path | None = None,
) -> CaptureResult:
    """Capture ``url`` into ``out_dir/data`` (artefacts, provenance) and ``out_dir/warc``.

    ``timeout_s`` bounds the page load; ``idle_timeout_s`` the wait for network idle;
    ``behaviors_timeout_s`` the scrolling. ``browser`` lets a worker reuse its browser: each
    capture still gets a fresh context (no cache, no cookies). Errors of the page (404, 500,
    TLS, timeout) are captured as what they are; a refused address raises ``CaptureBlocked``
    and leaves ``out_dir`` as it was. ``tls_extra_ca_file`` (tests) adds a trusted CA: see
    ``evidence.tls_chain``; a given ``browser`` must have been launched with its arguments.
    """
    out_dir = Path(out_dir)
    if (out_dir / DATA_DIR).exists() or (out_dir / WARC_DIR).exists():
        raise FileExistsError(f"la capture existe déjà dans {out_dir} (fichiers non réécrits)")
    settings = CaptureSettings(
        url=url,
        chromium_path=chromium_path,
        allow=allow,
        timeout_s=timeout_s,
        user_agent=user_agent,
        locale=locale,
        timezone_id=timezone_id,
        viewport=viewport,
        prechecks=prechecks or PrecheckConfig(),
        idle_timeout_s=idle_timeout_s,
        behaviors_timeout_s=behaviors_timeout_s,
        tls_extra_ca_file=tls_extra_ca_file,
    )
    resolve = resolver or system_resolver()

    _progress(on_progress, "check")
    try:
        target = url_check(url, allow=allow, resolver=resolve)
    except UrlRefused as exc:
        raise CaptureBlocked(exc.message_fr, url=url) from exc

    created_out_dir = not out_dir.exists()
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".capture-", dir=out_dir))
    try:
        result = _capture(
            settings=settings,
            target=(target.host, target.port),
            staging=staging,
            out_dir=out_dir,
            on_progress=on_progress,
            resolver=resolve,
            browser=browser,
            browser_args=browser_args,
        )
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if created_out_dir:
            with contextlib.suppress(OSError):
                out_dir.rmdir()
        raise
    (staging / DATA_DIR).rename(out_dir / DATA_DIR)
    (staging / WARC_DIR).rename(out_dir / WARC_DIR)
    staging.rmdir()
    _progress(on_progress, "done")
    return result


def _capture(
    *,
    settings: CaptureSettings,
    target: tuple[str, int],
    staging: Path,
    out_dir: Path,
    on_progress: Callable[[str, int], None] | None,
    resolver: Resolver,
    browser: Browser | None,
    browser_args: Sequence[str] | None,
) -> CaptureResult:
    data = staging / DATA_DIR
    (data / "provenance").mkdir(parents=True)
    log = behaviors.ActionLog(data / "provenance" / "actions.jsonl")
    started_at = utc_now()
    log.record("capture-start", url=settings.url)

    _progress(on_progress, "prechecks")
    # Clock, egress IP and DNS are asked of outside servers while the browser gets ready and
    # loads the page; the result is awaited before anything is written (``_prechecks_wait``).
    checks = _in_background(
        prechecks_run,
        config=settings.prechecks,
        host=target[0],
        port=target[1],
        resolver=resolver,
    )

    _progress(on_progress, "browser")
    with contextlib.ExitStack() as stack:
        if browser is None:
            playwright = stack.enter_context(sync_playwright())
            launch_args: list[str] | str = [
                *CHROMIUM_ARGS,
                *tls_chain.chromium_trust_args(settings.tls_extra_ca_file),
            ]
            browser = playwright.chromium.launch(
                executable_path=settings.chromium_path, args=launch_args, timeout=30_000
            )
            stack.callback(browser.close)
        elif browser_args is not None:
            launch_args = list(browser_args)
        else:
            launch_args = "navigateur fourni par le processus de capture (arguments non relus)"
        guard = RequestGuard(allow=settings.allow, resolver=resolver)
        guard.attach(browser)
        stack.callback(guard.detach)
        width, height = settings.viewport
        context = browser.new_context(
            viewport={"width": width, "height": height},
            screen={"width": width, "height": height},
            user_agent=settings.user_agent,
            locale=settings.locale,
            timezone_id=settings.timezone_id,
            service_workers="block",
            accept_downloads=False,
            ignore_https_errors=False,
        )
        stack.callback(context.close)
        session = CaptureSession(
            settings=settings,
            browser=browser,
            context=context,
            guard=guard,
            log=log,
            checks=checks,
            staging=staging,
            out_dir=out_dir,
            started_at=started_at,
            launch_args=launch_args,
            on_progress=on_progress,
        )
        return session.run()


def _in_background(function: Callable[..., Any], /, **kwargs: Any) -> concurrent.futures.Future:
    """Run ``function(**kwargs)`` in a thread of its own (network checks, not browser work)."""
    pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="capture-checks")
    try:
        return pool.submit(function, **kwargs)
    finally:
        pool.shutdown(wait=False)


def _prechecks_wait(pending: concurrent.futures.Future, log: behaviors.ActionLog) -> dict:
    checks: dict = pending.result()
    log.record(
        "prechecks",
        clock=checks["clock"]["status"],
        clock_measured_at=checks["clock"].get("system_time_utc"),
        egress_ip=checks["egress"]["ip"],
        proxy_found=checks["proxy"]["proxy_found"],
    )
    return checks


def _tls_details(response: dict) -> dict | None:
    """The TLS details of a CDP ``Network.responseReceived`` response, if it has some."""
    details = response.get("securityDetails")
    if not details:
        return None
    return {
        "protocol": details.get("protocol"),
        "key_exchange": details.get("keyExchange") or details.get("keyExchangeGroup"),
        "cipher": details.get("cipher"),
        "subject": details.get("subjectName"),
        "issuer": details.get("issuer"),
        "san": details.get("sanList"),
        "valid_from": details.get("validFrom"),
        "valid_to": details.get("validTo"),
        "certificate_transparency": details.get("certificateTransparencyCompliance"),
    }


class CaptureSession:
    """One capture in a fresh browser context, one method per step, in the order of ``run``.

    Each step reads what earlier steps left on the session (page, response, files written)
    and leaves its own results there; ``result`` assembles the ``CaptureResult``.
    """

    def __init__(
        self,
        *,
        settings: CaptureSettings,
        browser: Browser,
        context: BrowserContext,
        guard: RequestGuard,
        log: behaviors.ActionLog,
        checks: concurrent.futures.Future,
        staging: Path,
        out_dir: Path,
        started_at: datetime,
        launch_args: list[str] | str,
        on_progress: Callable[[str, int], None] | None,
    ) -> None:
        self.settings = settings
        self.browser = browser
        self.context = context
        self.guard = guard
        self.log = log
        self.checks = checks
        self.staging = staging
        self.out_dir = out_dir
        self.data = staging / DATA_DIR
        self.provenance = self.data / "provenance"
        self.started_at = started_at
        self.launch_args = launch_args
        self.on_progress = on_progress
        self.recorder = _Recorder(networks=guard.networks, guard=guard)
        self.cdp_tls: dict[str, dict] = {}
        self.main_navigations: list[PlaywrightRequest] = []
        self.response: Any = None
        self.error: str | None = None
        self.prechecks: dict = {}
        self.redirect_chain: list[dict] = []
        self.warc_path = staging / WARC_DIR / WARC_NAME
        self.main_exchange_date: datetime | None = None
        self.title = self.html = self.text = self.user_agent_seen = self.final_url = ""

    def run(self) -> CaptureResult:
        self.page_open()
        self.load()
        self.interact()
        self.screenshots()
        self.pdf()
        self.dom()
        self.tls()
        self.warc()
        return self.result()

    def progress(self, step: str) -> None:
        _progress(self.on_progress, step)

    def _blocked_check(self, message: str) -> None:
        """Raise ``CaptureBlocked`` if a main-frame navigation went to a refused address."""
        blocked = [
            request
            for request in self.main_navigations
            if (request.failure or "").startswith(BLOCKED_ERROR)
        ]
        if blocked:
            raise CaptureBlocked(
                message.format(urls=", ".join(request.url for request in blocked)),
                url=self.settings.url,
                blocked=self.guard.blocked,
            )

    # --- steps ---------------------------------------------------------------------------

    def page_open(self) -> None:
        """A page in the fresh context, its requests recorded and guarded, cache off."""
        context, recorder, guard = self.context, self.recorder, self.guard
        context.on("request", recorder.on_request)
        context.on("requestfinished", recorder.on_finished)
        context.on("requestfailed", recorder.on_failed)

        def websocket_guard(ws_route: Any) -> None:
            allowed, reason, verdict = guard.url_verdict(ws_route.url)
            if allowed:
                ws_route.connect_to_server()
            else:
                guard._record_block(ws_route.url, reason, verdict, "WebSocket")
                ws_route.close(code=1008, reason="blocked")

        context.route_web_socket("**/*", websocket_guard)
        self.page = page = context.new_page()
        self.cdp = cdp = context.new_cdp_session(page)

        def on_cdp_response(event: dict) -> None:
            details = _tls_details(event.get("response", {}))
            if details:
                self.cdp_tls[urlsplit(event["response"]["url"]).netloc] = details

        cdp.on("Network.responseReceived", on_cdp_response)
        cdp.send("Network.enable")
        cdp.send("Network.clearBrowserCache")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        self.cookies_at_start = len(context.cookies())
        self.log.record(
            "profile-clean",
            fresh_context=True,
            cookies_at_start=self.cookies_at_start,
            cache="vidé et désactivé (Network.clearBrowserCache, Network.setCacheDisabled)",
            service_workers="bloqués",
        )

    def load(self) -> None:
        """Navigate, wait for ``load`` then for the network to be quiet; errors are kept."""
        self.progress("load")
        page, log, settings = self.page, self.log, self.settings
        url, timeout_s = settings.url, settings.timeout_s

        def on_main_request(request: PlaywrightRequest) -> None:
            with contextlib.suppress(PlaywrightError):
                if request.is_navigation_request() and request.frame == page.main_frame:
                    self.main_navigations.append(request)

        page.on("request", on_main_request)
        self.net = behaviors.NetworkWatch(page)
        log.record("navigate", url=url, wait_until="load", timeout_s=timeout_s)
        try:
            self.response = page.goto(url, wait_until="load", timeout=timeout_s * 1000)
        except PlaywrightTimeoutError:
            self.error = f"délai de chargement dépassé ({timeout_s:g} s)"
            log.record("navigate-timeout", url=url, timeout_s=timeout_s)
        except PlaywrightError as exc:
            self.error = _first_line(exc)
            log.record("navigate-error", url=url, error=self.error)
        self._blocked_check(
            "Capture refusée : la page redirige vers une adresse non autorisée ({urls})."
        )
        if self.response is None and self.main_navigations:
            with contextlib.suppress(PlaywrightError):
                self.response = self.main_navigations[-1].response()
        if self.response is not None:
            log.record("navigate-done", url=page.url, status=self.response.status)
        elif self.error and "net::ERR_" in self.error:
            # Let the browser's own error page commit, so that the screenshots show it.
            with contextlib.suppress(PlaywrightError):
                page.wait_for_url("chrome-error://**", timeout=3000)
        if self.response is not None and self.error is None:
            idle_s = settings.idle_timeout_s
            log.record("wait", until="network-quiet", quiet_ms=QUIET_MS, timeout_s=idle_s)
            if not behaviors.network_quiet(
                page=page, net=self.net, quiet_ms=QUIET_MS, timeout_s=idle_s
            ):
                log.record("wait-timeout", until="network-quiet", timeout_s=idle_s)

    def interact(self) -> None:
        """Consent, scrolling, « lire la suite »: only on a page the server answered."""
        page, log, settings = self.page, self.log, self.settings
        if self.response is not None:
            self.progress("consent")
            behaviors.consent_click(page=page, log=log)
            self.progress("scroll")
            behaviors.autoscroll_run(page=page, log=log, timeout_s=settings.behaviors_timeout_s)
            self.progress("expand")
            behaviors.content_expand(page=page, log=log)
            behaviors.network_quiet(
                page=page,
                net=self.net,
                quiet_ms=QUIET_MS,
                timeout_s=min(settings.idle_timeout_s, 5.0),
            )
            behaviors.scroll_to_top(page=page, log=log)
        else:
            log.record("interactions-skipped", reason="aucune réponse du serveur", url=page.url)
        self._blocked_check("Capture refusée : la page a navigué vers une adresse non autorisée.")
        self.net.close()

    def screenshots(self) -> None:
        """The full page (in tiles when tall) and the first screen with URL and UTC time."""
        self.progress("screenshots")
        page, data, log = self.page, self.data, self.log
        self.capture_moment = moment = utc_now()
        self.final_url = page.url
        full = screenshot_full_write(page=page, out_path=data / "screenshot-full.png")
        log.record("screenshot", file="screenshot-full.png", full_page=True, **full)
        viewport_png = page.screenshot(full_page=False, timeout=30_000)
        screenshot_banner_add(
            png=viewport_png,
            lines=[
                f"URL : {self.final_url}",
                f"Capturé le {moment.strftime('%Y-%m-%d %H:%M:%S')} UTC "
                f"({iso_utc(moment)}) — Égide",
            ],
            out_path=data / "screenshot-viewport.png",
        )
        log.record(
            "screenshot",
            file="screenshot-viewport.png",
            full_page=False,
            banner_time_utc=iso_utc(moment),
        )

    def pdf(self) -> None:
        self.progress("pdf")
        self.page.pdf(path=str(self.data / "page.pdf"), print_background=True, format="A4")
        self.log.record("pdf", file="page.pdf")

    def dom(self) -> None:
        """The DOM after interactions (UTF-8 with BOM) and the visible text."""
        self.progress("dom")
        page, data = self.page, self.data
        with contextlib.suppress(PlaywrightError):
            self.title = page.title()
        self.html = page.content()
        (data / "page.html").write_bytes(b"\xef\xbb\xbf" + self.html.encode("utf-8"))
        with contextlib.suppress(PlaywrightError):
            self.text = _page_text(page)
        (data / "page.txt").write_text(self.text, encoding="utf-8")
        self.log.record("dom-saved", files=["page.html", "page.txt"], encoding="utf-8")
        self.user_agent_seen = page.evaluate("navigator.userAgent")

    def tls(self) -> None:
        """Certificate chains of the HTTPS origins, from this session, and their verification."""
        self.prechecks = _prechecks_wait(self.checks, self.log)
        self.progress("tls")
        recorder, data = self.recorder, self.data
        https_origins = sorted(
            {
                _origin(exchange.url)
                for exchange in recorder.warc_exchanges()
                if exchange.url.startswith("https://")
            }
        )
        for netloc, details in self.cdp_tls.items():
            recorder.tls_by_host.setdefault(netloc, {}).update(details)
        _certificates_fetch(
            cdp=self.cdp,
            origins=https_origins,
            tls_dir=self.provenance / "tls",
            tls_by_host=recorder.tls_by_host,
        )
        for netloc, details in recorder.tls_by_host.items():
            if details.get("chain_file"):
                details["chain_verification"] = tls_chain.tls_chain_verify(
                    chain_pem=(data / details["chain_file"]).read_bytes(),
                    host=urlsplit(f"https://{netloc}").hostname or netloc,
                    at=utc_now(),
                    extra_ca_file=self.settings.tls_extra_ca_file,
                )
        if recorder.violations:
            raise CaptureBlocked(
                "Capture annulée : un serveur a répondu depuis une adresse non autorisée "
                "(résolution DNS différente de celle vérifiée).",
                url=self.settings.url,
                blocked=recorder.violations,
            )
        self.redirect_chain = _redirect_chain(self.response)
        if self.response is None and self.main_navigations:
            self.redirect_chain = [
                {"url": request.url, "status": None} for request in self.main_navigations
            ]

    def warc(self) -> None:
        """Every exchange, plus the browser's view, text and DOM as resource records."""
        self.progress("warc")
        config = self.settings.prechecks
        self.clock_end_pending = _in_background(
            clock_check, servers=config.ntp_servers, timeout_s=config.timeout_s
        )
        final_url, moment = self.final_url, self.capture_moment
        exchanges = self.recorder.warc_exchanges()
        for exchange in exchanges:
            if exchange.url == final_url and exchange.resource_type == "document":
                self.main_exchange_date = exchange.started_at
        resources = [
            WarcResource(
                uri=f"urn:view:{final_url}",
                content_type="image/png",
                data=(self.data / "screenshot-viewport.png").read_bytes(),
                created_at=moment,
            ),
            WarcResource(
                uri=f"urn:text:{final_url}",
                content_type="text/plain; charset=utf-8",
                data=self.text.encode("utf-8"),
                created_at=moment,
            ),
            WarcResource(
                uri=f"urn:dom:{final_url}",
                content_type="text/html; charset=utf-8",
                data=self.html.encode("utf-8"),
                created_at=moment,
            ),
        ]
        record_counts = warc_write(
            path=self.warc_path,
            exchanges=exchanges,
            resources=resources,
            info={
                "software": f"Égide evidence.capture (Playwright {_versions()['playwright']}, "
                f"Chromium {self.browser.version})",
                "format": "WARC File Format 1.1",
                "isPartOf": self.settings.url,
                "http-header-user-agent": self.user_agent_seen,
            },
        )
        self.log.record("warc-written", file=f"{WARC_DIR}/{WARC_NAME}", records=record_counts)

    def environment(self) -> dict:
        settings, (width, height) = self.settings, self.settings.viewport
        return {
            "software": {
                **_versions(),
                "behaviors": {
                    "name": behaviors.BEHAVIORS_NAME,
                    "version": behaviors.BEHAVIORS_VERSION,
                    "sha256": behaviors.behaviors_js_sha256(),
                    "licence": "AGPL-3.0-or-later",
                },
            },
            "browser": {
                "name": "Chromium",
                "version": self.browser.version,
                "executable": settings.chromium_path,
                "headless": True,
                "launch_args": self.launch_args,
                "user_agent": self.user_agent_seen,
                "extensions": "aucune",
            },
            "context": {
                "viewport": {"width": width, "height": height},
                "locale": settings.locale,
                "timezone_id": settings.timezone_id,
                "fresh_context": True,
                "cookies_at_start": self.cookies_at_start,
                "cache": "vidé et désactivé",
                "service_workers": "bloqués",
            },
            "os": {
                "name": _os_release(),
                "platform": platform.platform(),
                "kernel": platform.release(),
                "machine": platform.machine(),
                "hostname": socket.gethostname(),
                "python_executable": sys.executable,
                "container": _container(),
            },
            "proxy": self.prechecks["proxy"],
        }

    def network(self) -> dict:
        guard, recorder, response = self.guard, self.recorder, self.response
        return {
            "egress": self.prechecks["egress"],
            "dns": self.prechecks["dns"],
            "dns_by_host": list(guard.hosts.values()),
            "redirect_chain": self.redirect_chain,
            "final_url": self.final_url,
            "http_status": response.status if response is not None else None,
            "error": self.error,
            "requests": recorder.requests,
            "failed": recorder.failed,
            "blocked": guard.blocked,
            "tls_by_host": recorder.tls_by_host,
            "guard": {
                "allow_list": guard.allow,
                "rule": "adresses publiques uniquement, plus la liste d'autorisation",
                "server_address_recheck": "aucune adresse de serveur hors liste",
            },
        }

    def result(self) -> CaptureResult:
        """Final clock check, provenance files, hashes: the ``CaptureResult``."""
        self.progress("clock")
        clock_end = self.clock_end_pending.result()
        finished_at = utc_now()
        self.log.record("capture-end", final_url=self.final_url)
        environment, network = self.environment(), self.network()
        clock = {"start": self.prechecks["clock"], "end": clock_end}
        _write_json(self.provenance / "environment.json", environment)
        _write_json(self.provenance / "network.json", network)
        _write_json(self.provenance / "clock.json", clock)
        data = self.data
        files = {
            path.relative_to(data).as_posix(): file_sha256(path)
            for path in sorted(data.rglob("*"))
            if path.is_file()
        }
        response = self.response
        return CaptureResult(
            url=self.settings.url,
            final_url=self.final_url,
            http_status=response.status if response is not None else None,
            error=self.error,
            title=self.title,
            started_at=self.started_at,
            finished_at=finished_at,
            out_dir=self.out_dir,
            data_dir=self.out_dir / DATA_DIR,
            warc_paths=[self.out_dir / WARC_DIR / WARC_NAME],
            main_response_date=self.main_exchange_date,
            redirect_chain=self.redirect_chain,
            blocked=self.guard.blocked,
            files=files,
            warc_sha256={f"{WARC_DIR}/{WARC_NAME}": file_sha256(self.warc_path)},
            environment=environment,
            network=network,
            clock=clock,
            actions=self.log.entries,
        )


def _redirect_chain(response: Any) -> list[dict]:
    """Each hop of the main document: URL, status, Location, server address."""
    if response is None:
        return []
    hops: list[PlaywrightRequest] = []
    request = response.request
    while request is not None:
        hops.insert(0, request)
        request = request.redirected_from
    chain: list[dict] = []
    for hop in hops:
        hop_response = None
        with contextlib.suppress(PlaywrightError):
            hop_response = hop.response()
        entry: dict = {"url": hop.url, "status": hop_response.status if hop_response else None}
        if hop_response is not None:
            location = hop_response.header_value("location")
            if location:
                entry["location"] = location
            with contextlib.suppress(PlaywrightError):
                server = hop_response.server_addr()
                if server:
                    entry["server_ip"] = server["ipAddress"]
        chain.append(entry)
    return chain
