"""``capture_run``: check the URL, stage the files, open a fresh browser context and run a
``CaptureSession`` in it; the staged files are moved into place only when the capture succeeds."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from playwright.sync_api import Browser, sync_playwright

from common.address_guard import Resolver, UrlRefused, system_resolver, url_check
from evidence import behaviors, tls_chain
from evidence.capture import CHROMIUM_ARGS
from evidence.capture.guard import RequestGuard
from evidence.capture.result import CaptureBlocked, CaptureResult
from evidence.capture.session import CaptureSession, in_background
from evidence.capture.settings import DATA_DIR, WARC_DIR, CaptureSettings, progress_report
from evidence.prechecks import PrecheckConfig, prechecks_run, utc_now


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

    progress_report(on_progress, "check")
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
    progress_report(on_progress, "done")
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

    progress_report(on_progress, "prechecks")
    # Clock, egress IP and DNS are asked of outside servers while the browser gets ready and
    # loads the page; the result is awaited before anything is written (``_prechecks_wait``).
    checks = in_background(
        prechecks_run,
        config=settings.prechecks,
        host=target[0],
        port=target[1],
        resolver=resolver,
    )

    progress_report(on_progress, "browser")
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
