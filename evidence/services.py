"""Writes for evidence: the insurer's seal, capture requests and runs, custody, share links.

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
import datetime as dt
import json
import logging
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_tenants.utils import get_tenant_model, tenant_context

from common.address_guard import UrlRefused, url_check
from common.keys import MasterKeyError, SealKeyDecryptError
from evidence.browser import BrowserThread, browser_thread
from evidence.custody_chain import custody_hash, custody_payload
from evidence.custody_log import custody_log_append
from evidence.models import Capture, CustodyEvent, SealKey, ShareLink
from evidence.seals import SealMaterial, seal_current, seal_key_store, seal_material
from evidence.selectors import capture_interrupted, capture_outbox_key, captures_last_hour
from evidence.storage import evidence_root
from mailing.kinds import MailKind
from mailing.services import mail_send
from outbox.services import outbox_enqueue
from tenants.db import connection
from tenants.limits import PlatformLimitExceeded, platform_limit_check_current
from tenants.selectors import tenant_base_url

logger = logging.getLogger(__name__)

SHARE_SALT = "evidence.share-link"
SHARE_MIN = dt.timedelta(hours=1)
SHARE_MAX = dt.timedelta(days=30)
URL_MAX_LENGTH = 2000
SYSTEM_ACTOR = "Égide"
COMMAND_ACTOR = "ligne de commande"

# Steps after the browser's, with the percentage reached (the browser's own steps, labelled
# in evidence.capture.PROGRESS, are scaled into 0–80 %).
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
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    from evidence.bag import BundleError
    from evidence.seal import CmsProfileError, SealError
    from evidence.timestamp import TimestampError, TimestampRefused, TimestampUnavailable

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
    from evidence.capture import capture_run

    return capture_run(browser=thread.browser(), browser_args=thread.args, **kwargs)


# --- Seal ------------------------------------------------------------------------------------


def evidence_provision(*, organisation: str) -> SealKey:
    """Give a new insurer its seal key and certificate (once; onboarding calls this).

    The key is generated here by the platform's own CA; an insurer may later import a
    qualified seal (``evidence.seals.seal_import``). The private key is stored encrypted.
    """
    from evidence.pki import seal_pki_generate

    existing = seal_current()
    if existing is not None:
        return existing
    pki = seal_pki_generate(organisation=organisation)
    return seal_key_store(
        organisation=organisation,
        origin=SealKey.Origin.PLATFORM,
        key_pem=pki.key_pem,
        cert_pem=pki.cert_pem,
        ca_cert_pem=pki.ca_cert_pem,
    )


def evidence_seal_material(*, organisation: str) -> SealMaterial:
    """The seal that signs now (provisioned if missing), its key decrypted in memory only.

    For documents other apps seal (PAdES certificates of cover); bundles read it the same way.
    """
    return seal_material(seal=evidence_provision(organisation=organisation))


# --- Custody ---------------------------------------------------------------------------------


def custody_record(
    *,
    capture: Capture | int,
    kind: str,
    actor=None,
    actor_label: str = "",
    detail: dict[str, Any] | None = None,
) -> CustodyEvent:
    """Append an event to a capture's chain of custody, linked to the previous one by hash.

    The capture row is locked so that two events (two downloads at once) never get the same
    number or the same predecessor. The event is also appended, in the same transaction, to the
    insurer's custody log (``evidence.custody_log``), which is locked after the capture's row.
    """
    capture_id = capture if isinstance(capture, int) else capture.pk
    with transaction.atomic():
        Capture.objects.select_for_update().only("pk").get(pk=capture_id)
        last = CustodyEvent.objects.filter(capture_id=capture_id).order_by("-seq").first()
        label = actor_label or (actor.email if actor is not None else SYSTEM_ACTOR)
        event = CustodyEvent(
            capture_id=capture_id,
            seq=(last.seq + 1) if last else 1,
            kind=kind,
            at=timezone.now().astimezone(dt.UTC),
            actor=actor,
            actor_label=label[:254],
            detail=json.loads(json.dumps(detail or {}, ensure_ascii=False, default=str)),
            prev_hash=last.hash if last else "",
        )
        event.hash = custody_hash(custody_payload(event))
        event.save()
        # Every event, access or lifecycle, also goes to the insurer's custody log.
        custody_log_append(
            kind=event.kind,
            capture_id=capture_id,
            capture_seq=event.seq,
            event_hash=event.hash,
            actor=actor,
            actor_label=event.actor_label,
            detail=event.detail,
        )
    return event


# --- Request ---------------------------------------------------------------------------------


def capture_url_validate(*, url: str) -> str:
    """The URL, stripped, if a capture may fetch it; a French ValidationError otherwise."""
    url = (url or "").strip()
    if len(url) > URL_MAX_LENGTH:
        raise ValidationError(
            _("Adresse trop longue (%(max)d caractères au plus).") % {"max": URL_MAX_LENGTH}
        )
    try:
        url_check(url, allow=set(settings.EGIDE_CAPTURE_ALLOW))
    except UrlRefused as exc:
        raise ValidationError(exc.message_fr) from exc
    return url


def capture_request(*, url: str, requested_by, reason: str, enqueue: bool = True) -> int:
    """Record a capture request and queue it; return the capture's id.

    The URL is checked first (shape, DNS, public addresses only): a refused URL raises a
    French ``ValidationError`` and creates nothing. A re-capture of an address already
    captured in this insurer links to the latest earlier capture. ``enqueue=False`` is for the
    synchronous management command, which runs ``capture_execute`` itself.
    """
    # Lazy: the task <-> service pair (evidence.tasks' actor calls capture_execute).
    from evidence.tasks import capture_execute_task

    url = capture_url_validate(url=url)
    try:
        platform_limit_check_current(resource="captures")
    except PlatformLimitExceeded as exc:
        raise ValidationError(str(exc)) from exc
    with transaction.atomic():
        captures_hourly_check()
        previous = Capture.objects.filter(url=url).order_by("-created_at", "-pk").first()
        capture = Capture.objects.create(
            url=url,
            requested_by=requested_by,
            reason=(reason or "").strip(),
            previous=previous,
            step=str(_("En attente d'un navigateur de capture")),
        )
        custody_record(
            capture=capture,
            kind=CustodyEvent.Kind.REQUESTED,
            actor=requested_by,
            actor_label="" if requested_by is not None else COMMAND_ACTOR,
            detail={
                "url": url,
                "reason": capture.reason,
                "previous_capture": previous.pk if previous else None,
            },
        )
        if enqueue:
            # Same transaction as the capture: the row and its message cannot disagree. Sent
            # after commit; if the broker is down, the worker loop's relay sends it later.
            outbox_enqueue(
                actor=capture_execute_task,
                kwargs={"capture_id": capture.pk},
                key=capture_outbox_key(capture_id=capture.pk),
            )
    return capture.pk


def captures_hourly_check(*, adding: int = 1) -> None:
    """Refuse, in French, captures beyond ``EGIDE_CAPTURES_PER_HOUR_INSURER`` for this insurer.

    Counted on the captures requested in the last hour in the current schema; the caller's
    transaction then creates nothing.
    """
    limit = settings.EGIDE_CAPTURES_PER_HOUR_INSURER
    if not limit:
        return
    done = captures_last_hour()
    if done + adding > limit:
        raise ValidationError(
            _(
                "Limite de %(max)d captures par heure atteinte pour votre organisme "
                "(%(n)d demandées depuis une heure). Réessayez plus tard."
            )
            % {"max": limit, "n": done}
        )


# --- Execution -------------------------------------------------------------------------------


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
    from evidence.wacz_pack import WaczPackError, wacz_pack

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
    from evidence.bag import bundle_build
    from evidence.prechecks import PrecheckConfig
    from evidence.report import data_file_hashes, report_render

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
    from evidence.capture import CaptureBlocked

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


# --- Access and sharing ----------------------------------------------------------------------


def capture_viewed(*, capture: Capture, actor=None, actor_label: str = "", where: str) -> None:
    custody_record(
        capture=capture,
        kind=CustodyEvent.Kind.VIEWED,
        actor=actor,
        actor_label=actor_label,
        detail={"where": where},
    )


def capture_downloaded(*, capture: Capture, actor=None, actor_label: str = "", where: str) -> None:
    custody_record(
        capture=capture,
        kind=CustodyEvent.Kind.DOWNLOADED,
        actor=actor,
        actor_label=actor_label,
        detail={"where": where, "zip_sha256": capture.zip_sha256},
    )


def share_token(*, link: ShareLink) -> str:
    return signing.dumps({"l": link.pk, "n": link.nonce}, salt=SHARE_SALT)


def capture_share(
    *, capture: Capture, recipient_email: str, expires_in: dt.timedelta, shared_by
) -> ShareLink:
    """Send a complete capture's bundle to one recipient as an expiring link on the tenant's
    own domain (e.g. to a commissaire de justice chosen from the partner directory)."""
    email = (recipient_email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise ValidationError(
            _("Adresse e-mail du destinataire invalide : %(email)s") % {"email": email}
        ) from exc
    if capture.status != Capture.Status.COMPLETE:
        raise ValidationError(_("Seule une capture terminée peut être envoyée."))
    if not SHARE_MIN <= expires_in <= SHARE_MAX:
        raise ValidationError(
            _("La durée de validité du lien doit être comprise entre une heure et 30 jours.")
        )
    with transaction.atomic():
        link = ShareLink.objects.create(
            capture=capture,
            recipient_email=email,
            nonce=secrets.token_hex(16),
            expires_at=timezone.now() + expires_in,
            shared_by=shared_by,
        )
        custody_record(
            capture=capture,
            kind=CustodyEvent.Kind.SHARED,
            actor=shared_by,
            detail={"recipient": email, "expires_at": link.expires_at.isoformat(), "link": link.pk},
        )
    url = tenant_base_url(connection.tenant) + reverse(
        "evidence:share", kwargs={"token": share_token(link=link)}
    )
    local_expiry = timezone.localtime(link.expires_at)
    mail_send(
        to=email,
        kind=MailKind.EVIDENCE_SHARE,
        context={
            "numero": capture.pk,
            "expediteur": shared_by.get_full_name() or shared_by.email,
            "adresse": capture.url,
            "horodatage": timezone.localtime(capture.gen_time).strftime("%d/%m/%Y %H:%M")
            if capture.gen_time
            else "?",
            "expiration": local_expiry.strftime("%d/%m/%Y %H:%M"),
        },
        link_path=url,
    )
    return link


def share_link_opened(*, link: ShareLink) -> None:
    with transaction.atomic():
        if link.opened_at is None:
            ShareLink.objects.filter(pk=link.pk, opened_at__isnull=True).update(
                opened_at=timezone.now()
            )
        custody_record(
            capture=link.capture_id,
            kind=CustodyEvent.Kind.LINK_OPENED,
            actor_label=link.recipient_email,
            detail={"link": link.pk},
        )


def share_link_downloaded(*, link: ShareLink) -> None:
    with transaction.atomic():
        ShareLink.objects.filter(pk=link.pk).update(downloads=F("downloads") + 1)
        custody_record(
            capture=link.capture_id,
            kind=CustodyEvent.Kind.DOWNLOADED,
            actor_label=link.recipient_email,
            detail={"where": "lien de partage", "link": link.pk},
        )


# --- Re-capture by staff ---------------------------------------------------------------------


def capture_recapture(*, capture_id: int, requested_by, reason: str = "") -> int:
    """Capture the address of a finished capture again; return the new capture's id.

    For a failed capture (retry) or a complete one whose page has changed. Evidence is never
    rewritten: the earlier capture stays as it is and the new one links to it through
    ``capture_request``. Refused in French, creating nothing, while a capture of the same address
    is still queued or running: its outcome is not known yet, and a second click must not queue
    a duplicate (the earlier capture's row is locked, so two clicks at once queue one).
    """
    with transaction.atomic():
        capture = Capture.objects.select_for_update().filter(pk=capture_id).first()
        if capture is None:
            raise ValidationError(_("Capture introuvable."))
        pending = (
            Capture.objects.filter(url=capture.url)
            .exclude(status__in=[Capture.Status.COMPLETE, Capture.Status.FAILED])
            .order_by("pk")
            .first()
        )
        if pending is not None:
            raise ValidationError(
                _(
                    "Une capture de cette adresse est déjà en attente ou en cours (n° %(id)s) : "
                    "attendez son résultat."
                )
                % {"id": pending.pk}
            )
        return capture_request(
            url=capture.url,
            requested_by=requested_by,
            reason=(reason or "").strip() or capture.reason,
        )


# --- Orphan work folders ---------------------------------------------------------------------


def work_orphans_clean() -> list[Path]:
    """Remove the work folders (``<root>/<schema>/work/<id>-<attempt>``) of dead captures.

    A folder is an orphan when its capture is finished or gone, was superseded by a later
    attempt, or is running without a live heartbeat (its worker died). The folder of a running
    capture whose worker is alive is never touched. Runs in the public schema (worker loop and
    worker start); returns the folders removed.
    """
    removed: list[Path] = []
    root = Path(settings.EGIDE_EVIDENCE_ROOT)
    if not root.is_dir():
        return removed
    for schema_dir in sorted(p for p in root.iterdir() if (p / "work").is_dir()):
        insurer = get_tenant_model().objects.filter(schema_name=schema_dir.name).first()
        if insurer is None:
            continue
        with tenant_context(insurer):
            for folder in sorted((schema_dir / "work").iterdir()):
                capture_id, _sep, attempt = folder.name.partition("-")
                if not (capture_id.isdigit() and attempt.isdigit()):
                    continue
                capture = Capture.objects.filter(pk=int(capture_id)).first()
                orphan = (
                    capture is None
                    or capture.is_finished
                    or capture.attempts != int(attempt)
                    or (
                        capture.status == Capture.Status.RUNNING
                        and capture_interrupted(capture=capture)
                    )
                )
                if orphan:
                    shutil.rmtree(folder, ignore_errors=True)
                    removed.append(folder)
                    logger.info("Removed orphan work folder %s", folder)
    return removed
