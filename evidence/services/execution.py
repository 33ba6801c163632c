"""One attempt of a capture, from the browser to the sealed bundle in write-once storage.

The capture pipeline (``capture_execute``) is the pure core wired to the database:
``capture_run`` → ``wacz_pack`` → ``report_render`` → ``bundle_build`` (seal, then RFC 3161
timestamp; it raises rather than write an unsigned bundle) → write-once storage. It fails
closed: a capture becomes "complete" only in the same transaction that records the bundle's
hashes, after ``bundle_build`` has checked its own timestamp and signature. Any other failure
is either retried (transient: TSA down, browser crash — the exception propagates to Dramatiq)
or recorded as "failed" with its reason (refused address, attempts exhausted).
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from common.address_guard import UrlRefused
from common.keys import MasterKeyError, SealKeyDecryptError
from common.memory import malloc_trim
from evidence.bag import BundleError, bundle_build
from evidence.browser import BrowserThread, browser_thread
from evidence.capture.result import CaptureBlocked
from evidence.custody_chain import custody_payload
from evidence.models import Capture, CustodyEvent
from evidence.prechecks import PrecheckConfig
from evidence.seal import CmsProfileError, SealError
from evidence.seals import seal_current, seal_material
from evidence.services.custody import custody_record
from evidence.services.provisioning import evidence_provision
from evidence.storage import evidence_root
from evidence.timestamp import TimestampError, TimestampRefused, TimestampUnavailable
from evidence.wacz_pack import WaczPackError, wacz_pack
from tenants.db import connection

logger = logging.getLogger(__name__)

# Steps after the browser's, with the percentage reached (the browser's own steps, labelled
# in evidence.capture.settings.PROGRESS, are scaled into 0–80 %).
BROWSER_SHARE = 0.8
STEP_WACZ = ("Archive WACZ des échanges réseau", 84)
STEP_REPORT = ("Rapport de capture (PDF)", 88)
STEP_BUNDLE = ("Horodatage RFC 3161 et cachet électronique du lot", 94)
STEP_DONE = ("Capture terminée : lot de preuve horodaté et scellé", 100)


class CaptureAttemptFailed(Exception):
    """A capture attempt failed for a reason worth retrying; the reason is French."""


def attempt_failure_reason(exc: BaseException) -> str:
    """What doctors and handlers are told of a failed attempt: short, French, no internals.

    The exception itself (type, message, traceback, paths) goes to the worker's log only.
    """
    # Web processes import this module (through evidence.tasks); only the worker needs Playwright.
    from playwright.sync_api import Error as PlaywrightError  # lazy: Playwright, worker only
    from playwright.sync_api import TimeoutError as PlaywrightTimeout  # lazy: Playwright

    if isinstance(exc, CaptureAttemptFailed):
        return str(exc)
    if isinstance(exc, TimestampUnavailable):
        return str(_("L'autorité d'horodatage ne répond pas."))
    if isinstance(exc, TimestampRefused):
        return str(_("L'autorité d'horodatage a refusé la demande d'horodatage."))
    if isinstance(exc, TimestampError):
        return str(_("La réponse de l'autorité d'horodatage est invalide."))
    if isinstance(exc, SealError | CmsProfileError | SealKeyDecryptError | MasterKeyError):
        return str(_("Le cachet électronique de l'assureur est inutilisable (clé ou certificat)."))
    if isinstance(exc, BundleError):
        return str(_("Le lot de preuve n'a pas pu être constitué."))
    if isinstance(exc, PlaywrightTimeout | TimeoutError):
        return str(_("La page n'a pas répondu dans le temps imparti."))
    if isinstance(exc, PlaywrightError):
        text = str(exc).lower()
        if "closed" in text or "crash" in text or "disconnected" in text:
            return str(_("Le navigateur de capture s'est arrêté pendant la capture."))
        return str(_("Le navigateur de capture a rencontré une erreur."))
    if isinstance(exc, OSError):
        return str(_("Les fichiers de la capture n'ont pas pu être écrits."))
    return str(_("Erreur interne pendant la capture."))


@contextlib.contextmanager
def _browser_used(browser: BrowserThread | None) -> Iterator[BrowserThread]:
    """The worker's browser thread, or one started for this capture alone (command line)."""
    if browser is not None:
        yield browser
        return
    with browser_thread() as own:
        yield own


def _capture_in_browser(thread: BrowserThread, **kwargs: Any):
    """Runs in the browser thread: the pure capture, with that thread's Chromium."""
    from evidence.capture.run import capture_run  # lazy: Playwright, capture worker only

    return capture_run(browser=thread.browser(), browser_args=thread.args, **kwargs)


def _progress_set(capture_id: int, label: str, percent: int) -> None:
    Capture.objects.filter(pk=capture_id).update(progress=percent, step=label[:200])


def _attempt_claim(*, capture_id: int) -> Capture | None:
    """Mark the capture running for a new attempt; None when there is nothing to do."""
    with transaction.atomic():
        capture = Capture.objects.select_for_update().get(pk=capture_id)
        if capture.is_finished:
            return None  # a duplicate or late delivery: never redo finished evidence
        capture.attempts += 1
        if capture.attempts > settings.EGIDE_CAPTURE_MAX_ATTEMPTS:
            capture.save(update_fields=["attempts"])
            capture_fail(
                capture_id=capture_id,
                reason=attempts_exhausted_reason(
                    attempts=settings.EGIDE_CAPTURE_MAX_ATTEMPTS,
                    last_error=capture.error or _("tentative interrompue (processus arrêté)"),
                ),
            )
            return None
        if capture.status == Capture.Status.RUNNING and not capture.error:
            # The previous attempt never reported back: its worker died mid-capture.
            capture.error = str(_("Tentative %(n)d interrompue (processus arrêté).")) % {
                "n": capture.attempts - 1
            }
        capture.status = Capture.Status.RUNNING
        capture.started_at = capture.started_at or timezone.now()
        capture.progress = 0
        capture.step = str(_("Tentative %(n)d : démarrage")) % {"n": capture.attempts}
        capture.save(
            update_fields=["attempts", "status", "started_at", "progress", "step", "error"]
        )
        custody_record(
            capture=capture,
            kind=CustodyEvent.Kind.STARTED,
            detail={"attempt": capture.attempts, "schema": connection.schema_name},
        )
    return capture


def attempts_exhausted_reason(*, attempts: int, last_error: str) -> str:
    return ngettext(
        "Capture abandonnée après %(n)d tentative. Dernière erreur : %(error)s",
        "Capture abandonnée après %(n)d tentatives. Dernière erreur : %(error)s",
        attempts,
    ) % {"n": attempts, "error": last_error}


def _tsa_material() -> tuple[str, bytes, bytes]:
    url = settings.EGIDE_TSA_URL
    if not url or not settings.EGIDE_TSA_CERT_FILE or not settings.EGIDE_TSA_CA_FILE:
        raise CaptureAttemptFailed(
            _("Autorité d'horodatage non configurée (EGIDE_TSA_URL, certificats).")
        )
    try:
        chain = Path(settings.EGIDE_TSA_CERT_FILE).read_bytes()
        anchor = Path(settings.EGIDE_TSA_CA_FILE).read_bytes()
    except OSError as exc:
        logger.error("TSA certificates unreadable: %s", exc)
        raise CaptureAttemptFailed(
            _("Certificats de l'autorité d'horodatage illisibles (configuration à vérifier).")
        ) from exc
    return url, chain, anchor


def _custody_file_write(*, capture_id: int, path: Path) -> None:
    """The custody events so far, one JSON line each, as the bundle's custody.jsonl."""
    events = CustodyEvent.objects.filter(capture_id=capture_id).order_by("seq")
    lines = [
        json.dumps({**custody_payload(e), "hash": e.hash}, ensure_ascii=False, sort_keys=True)
        for e in events
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _wacz_write(*, result, data_dir: Path) -> None:
    out = data_dir / "capture.wacz"
    try:
        wacz_pack(
            warc_paths=result.warc_paths,
            out_path=out,
            url=result.final_url,
            title=result.title or result.url,
            ts=result.main_response_date,
        )
    except WaczPackError:
        # An error page (TLS failure, timeout) has no HTTP response for its URL: the WARC then
        # holds the browser's view of it as a resource record, which becomes the main page.
        out.unlink(missing_ok=True)
        wacz_pack(
            warc_paths=result.warc_paths,
            out_path=out,
            url=f"urn:view:{result.final_url}",
            title=result.title or result.url,
            ts=None,
        )


def _pipeline(*, capture: Capture, work: Path, browser: BrowserThread) -> tuple[Any, Any, str]:
    from evidence.report import data_file_hashes, report_render  # lazy: WeasyPrint, worker only

    def on_progress(label: str, percent: int) -> None:
        _progress_set(capture.pk, label, int(percent * BROWSER_SHARE))

    tsa_url, tsa_chain, tsa_anchor = _tsa_material()
    seal_row = seal_current()
    if seal_row is None:
        # An insurer onboarded before evidence existed (development databases): give it its
        # seal now, as onboarding would have.
        name = getattr(connection.tenant, "name", "") or connection.schema_name
        seal_row = evidence_provision(organisation=name)
    seal = seal_material(seal=seal_row)
    result = browser.call(
        _capture_in_browser,
        browser,
        url=capture.url,
        out_dir=work / "capture",
        chromium_path=settings.CHROMIUM_PATH,
        allow=set(settings.EGIDE_CAPTURE_ALLOW),
        timeout_s=settings.EGIDE_CAPTURE_TIMEOUT_S,
        on_progress=on_progress,
        prechecks=PrecheckConfig(
            ntp_servers=tuple(settings.EGIDE_CAPTURE_NTP_SERVERS),
            ip_echo_urls=tuple(settings.EGIDE_CAPTURE_IP_ECHO_URLS),
            timeout_s=settings.EGIDE_CAPTURE_PRECHECK_TIMEOUT_S,
        ),
        tls_extra_ca_file=settings.EGIDE_CAPTURE_EXTRA_CA_FILE or None,
        idle_timeout_s=settings.EGIDE_CAPTURE_IDLE_TIMEOUT_S,
        behaviors_timeout_s=settings.EGIDE_CAPTURE_BEHAVIORS_TIMEOUT_S,
    )
    data = result.data_dir
    _custody_file_write(capture_id=capture.pk, path=data / "provenance" / "custody.jsonl")
    _progress_set(capture.pk, *STEP_WACZ)
    _wacz_write(result=result, data_dir=data)
    _progress_set(capture.pk, *STEP_REPORT)
    hashes = data_file_hashes(data_dir=data, extra={"warc/capture.warc.gz": result.warc_paths[0]})
    report_render(capture=result, file_hashes=hashes, out_path=data / "report.pdf")
    malloc_trim()  # the report's layout is the worker's largest transient memory: give it back
    _progress_set(capture.pk, *STEP_BUNDLE)
    bundle_id = f"{capture.pk}-{capture.attempts}"
    bundle = bundle_build(
        capture_id=bundle_id,
        data_dir=data,
        out_dir=work / "bundle",
        bag_info={
            "Source-Organization": seal.organisation,
            "External-Description": f"Capture de {capture.url}",
            "Egide-Capture-URL": capture.url,
            "Egide-Final-URL": result.final_url,
            **seal.bag_info(),
        },
        tsa_url=tsa_url,
        tsa_chain_pem=tsa_chain,
        tsa_ca_pem=tsa_anchor,
        seal_key_pem=seal.key_pem,
        seal_cert_pem=seal.cert_pem,
        seal_ca_pem=seal.ca_pem,
        timeout=settings.EGIDE_TSA_TIMEOUT_S,
    )
    return result, bundle, bundle_id


def _complete(*, capture_id: int, result, bundle) -> Capture:
    """Store the sealed bundle (write-once) and mark the capture complete, atomically."""
    storage = Capture._meta.get_field("bundle").storage
    with bundle.zip_path.open("rb") as handle:
        stored_name = storage.save(f"bundles/{bundle.zip_path.name}", File(handle))
    with transaction.atomic():
        capture = Capture.objects.select_for_update().get(pk=capture_id)
        if capture.status == Capture.Status.COMPLETE:
            logger.warning(
                "Capture %s already complete; bundle %s kept aside", capture_id, stored_name
            )
            return capture
        capture.status = Capture.Status.COMPLETE
        capture.progress, capture.step = STEP_DONE[1], STEP_DONE[0]
        capture.bundle.name = stored_name
        capture.tagmanifest_sha256 = bundle.tagmanifest_sha256
        capture.zip_sha256 = bundle.zip_sha256
        capture.gen_time = bundle.gen_time
        capture.http_status = result.http_status
        capture.page_error = result.error or ""
        capture.final_url = result.final_url[:2000]
        capture.page_title = (result.title or "")[:500]
        capture.finished_at = timezone.now()
        capture.error = ""
        capture.save()
        custody_record(
            capture=capture,
            kind=CustodyEvent.Kind.COMPLETED,
            detail={
                "bundle": stored_name,
                "tagmanifest_sha256": bundle.tagmanifest_sha256,
                "zip_sha256": bundle.zip_sha256,
                "gen_time": bundle.gen_time.isoformat(),
                "http_status": result.http_status,
            },
        )
    return capture


def capture_execute(*, capture_id: int, browser: BrowserThread | None = None) -> Capture:
    """Run one attempt of a capture, reporting progress on the row; see the module docstring.

    ``browser`` is the worker's browser thread (its Chromium opens a fresh context per
    capture); without one, a browser thread is started for this attempt alone. Raises
    ``CaptureAttemptFailed`` when the attempt should be retried; the row then says why.
    """
    capture = _attempt_claim(capture_id=capture_id)
    if capture is None:
        return Capture.objects.get(pk=capture_id)
    work = evidence_root() / "work" / f"{capture.pk}-{capture.attempts}"
    for earlier in (evidence_root() / "work").glob(f"{capture.pk}-*"):
        shutil.rmtree(earlier, ignore_errors=True)  # attempts of a worker that died
    try:
        with _browser_used(browser) as used:
            result, bundle, _bundle_id = _pipeline(capture=capture, work=work, browser=used)
        return _complete(capture_id=capture.pk, result=result, bundle=bundle)
    except (CaptureBlocked, UrlRefused) as exc:
        return capture_fail(capture_id=capture.pk, reason=exc.message_fr)
    except Exception as exc:
        reason = attempt_failure_reason(exc)
        logger.warning(
            "Capture %s attempt %s failed (%s)",
            capture.pk,
            capture.attempts,
            reason,
            exc_info=exc,
        )
        Capture.objects.filter(pk=capture.pk, status=Capture.Status.RUNNING).update(
            status=Capture.Status.QUEUED,
            error=reason,
            progress=0,
            step=str(_("Tentative %(n)d en échec, nouvelle tentative prévue"))
            % {"n": capture.attempts},
        )
        raise CaptureAttemptFailed(reason) from exc
    finally:
        shutil.rmtree(work, ignore_errors=True)


def capture_fail(*, capture_id: int, reason: str) -> Capture:
    """Mark a capture failed with its reason (never a complete one: evidence is not undone)."""
    with transaction.atomic():
        capture = Capture.objects.select_for_update().get(pk=capture_id)
        if capture.is_finished:
            return capture
        capture.status = Capture.Status.FAILED
        capture.error = reason[:2000]
        capture.step = str(_("Échec de la capture"))
        capture.finished_at = timezone.now()
        capture.save(update_fields=["status", "error", "step", "finished_at"])
        custody_record(
            capture=capture,
            kind=CustodyEvent.Kind.FAILED,
            detail={"reason": capture.error, "attempts": capture.attempts},
        )
    return capture
