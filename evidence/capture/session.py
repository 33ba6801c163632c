"""One capture in a fresh browser context: a ``CaptureSession``, one method per step."""

from __future__ import annotations

import concurrent.futures
import contextlib
import platform
import socket
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import Browser, BrowserContext, Page
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Request as PlaywrightRequest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from evidence import behaviors, tls_chain
from evidence.capture.guard import RequestGuard, error_first_line
from evidence.capture.provenance import (
    container_info,
    json_write,
    os_release_name,
    software_versions,
)
from evidence.capture.recording import (
    NetworkRecorder,
    certificates_fetch,
    redirect_chain_read,
    tls_details,
    url_origin,
)
from evidence.capture.result import CaptureBlocked, CaptureResult, file_sha256
from evidence.capture.screenshots import screenshot_banner_add, screenshot_full_write
from evidence.capture.settings import (
    BLOCKED_ERROR,
    DATA_DIR,
    QUIET_MS,
    WARC_DIR,
    WARC_NAME,
    CaptureSettings,
    progress_report,
)
from evidence.prechecks import clock_check, iso_utc, utc_now
from evidence.warc import WarcResource, warc_write


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


def in_background(function: Callable[..., Any], /, **kwargs: Any) -> concurrent.futures.Future:
    """Run ``function(**kwargs)`` in a thread of its own (network checks, not browser work)."""
    pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="capture-checks")
    try:
        return pool.submit(function, **kwargs)
    finally:
        pool.shutdown(wait=False)


def _prechecks_wait(
    pending: concurrent.futures.Future, log: behaviors.ActionLog, page: Page
) -> dict:
    checks: dict = behaviors.future_wait(page, pending)
    log.record(
        "prechecks",
        clock=checks["clock"]["status"],
        clock_measured_at=checks["clock"].get("system_time_utc"),
        egress_ip=checks["egress"]["ip"],
        proxy_found=checks["proxy"]["proxy_found"],
    )
    return checks


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
        self.recorder = NetworkRecorder(networks=guard.networks, guard=guard)
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
        progress_report(self.on_progress, step)

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
        # Another capture may run in this browser: the guard keeps to this context's requests.
        guard.own(page, cdp)

        def on_cdp_response(event: dict) -> None:
            details = tls_details(event.get("response", {}))
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
            self.error = error_first_line(exc)
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
        # The banner is drawn in a thread of its own: the browser thread goes on meanwhile.
        banner = in_background(
            screenshot_banner_add,
            png=viewport_png,
            lines=[
                f"URL : {self.final_url}",
                f"Capturé le {moment.strftime('%Y-%m-%d %H:%M:%S')} UTC "
                f"({iso_utc(moment)}) — Égide",
            ],
            out_path=data / "screenshot-viewport.png",
        )
        behaviors.future_wait(page, banner)
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
        self.prechecks = _prechecks_wait(self.checks, self.log, self.page)
        self.progress("tls")
        recorder, data = self.recorder, self.data
        https_origins = sorted(
            {
                url_origin(exchange.url)
                for exchange in recorder.warc_exchanges()
                if exchange.url.startswith("https://")
            }
        )
        for netloc, details in self.cdp_tls.items():
            recorder.tls_by_host.setdefault(netloc, {}).update(details)
        certificates_fetch(
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
        self.redirect_chain = redirect_chain_read(self.response)
        if self.response is None and self.main_navigations:
            self.redirect_chain = [
                {"url": request.url, "status": None} for request in self.main_navigations
            ]

    def warc(self) -> None:
        """Every exchange, plus the browser's view, text and DOM as resource records."""
        self.progress("warc")
        config = self.settings.prechecks
        self.clock_end_pending = in_background(
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
                "software": "Égide evidence.capture (Playwright "
                f"{software_versions()['playwright']}, Chromium {self.browser.version})",
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
                **software_versions(),
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
                "name": os_release_name(),
                "platform": platform.platform(),
                "kernel": platform.release(),
                "machine": platform.machine(),
                "hostname": socket.gethostname(),
                "python_executable": sys.executable,
                "container": container_info(),
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
        clock_end = behaviors.future_wait(self.page, self.clock_end_pending)
        finished_at = utc_now()
        self.log.record("capture-end", final_url=self.final_url)
        environment, network = self.environment(), self.network()
        clock = {"start": self.prechecks["clock"], "end": clock_end}
        json_write(self.provenance / "environment.json", environment)
        json_write(self.provenance / "network.json", network)
        json_write(self.provenance / "clock.json", clock)
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
