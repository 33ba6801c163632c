"""Reads for evidence. Every query runs in the current insurer's schema (isolation by schema);
doctor-facing reads are further limited to the doctor's own captures."""

from __future__ import annotations

import datetime as dt
import hashlib
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from django.contrib.auth.models import AnonymousUser, User
from django.core import signing
from django.core.files import File
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from evidence.bag import TAGMANIFEST
from evidence.custody_chain import custody_hash, custody_payload
from evidence.models import Capture, CustodyEvent, ShareLink
from evidence.renewal import renewals_zip
from evidence.storage import bundle_local_copy
from evidence.verify import CheckVerdict, bundle_verify
from outbox.selectors import outbox_delivery

SCREENSHOT_MEMBER = "data/screenshot-viewport.png"


def capture_outbox_key(*, capture_id: int) -> str:
    """The outbox row that (re)sends a capture's message."""
    return f"evidence.capture:{capture_id}"


def capture_interrupted(*, capture: Capture) -> bool:
    """A running capture whose worker stopped giving signs of life (killed, machine lost).

    Its message is re-delivered by the broker (or re-sent by the outbox relay) and the capture
    resumes in a new attempt; meanwhile its percentage is frozen and must not be shown as live.
    """
    if capture.status != Capture.Status.RUNNING:
        return False
    delivery = outbox_delivery(key=capture_outbox_key(capture_id=capture.pk))
    return delivery is not None and delivery.stale


def capture_progress(*, capture: Capture) -> dict:
    """What a live progress bar shows of a capture (portal and admin ``etat.json``).

    An interrupted capture (see ``capture_interrupted``) says so instead of a frozen percentage.
    """
    interrupted = capture_interrupted(capture=capture)
    return {
        "id": capture.pk,
        "status": capture.status,
        "status_label": (
            _("Interrompue, reprise") if interrupted else capture.get_status_display()
        ),
        "interrupted": interrupted,
        "progress": capture.progress,
        "progress_label": _("interrompue, reprise") if interrupted else f"{capture.progress} %",
        "step": (
            _(
                "Le processus de capture s'est arrêté ; la capture reprend automatiquement "
                "dans une nouvelle tentative."
            )
            if interrupted
            else capture.step
        ),
        "attempts": capture.attempts,
        "error": capture.error,
        "http_status": capture.http_status,
    }


def captures_last_hour() -> int:
    """Captures requested in the last hour in the current schema (the hourly limit)."""
    since = timezone.now() - dt.timedelta(hours=1)
    return Capture.objects.filter(created_at__gte=since).count()


def captures_of_user(*, user: User | AnonymousUser | None) -> QuerySet[Capture]:
    if not isinstance(user, User):  # nobody, or an anonymous visitor
        return Capture.objects.none()
    return Capture.objects.filter(requested_by=user).select_related("previous")


def capture_of_user(*, user: User | AnonymousUser | None, capture_id: int) -> Capture | None:
    """A doctor's own capture, or None (someone else's looks exactly like a missing one)."""
    return captures_of_user(user=user).filter(pk=capture_id).first()


def captures_all() -> QuerySet[Capture]:
    return Capture.objects.select_related("requested_by", "previous")


def capture_detail(*, capture_id: int) -> Capture | None:
    return captures_all().filter(pk=capture_id).first()


def captures_count(*, since: dt.datetime, until: dt.datetime) -> int:
    """Captures completed in [since, until) in the current schema — what the platform bills."""
    return Capture.objects.filter(
        status=Capture.Status.COMPLETE, finished_at__gte=since, finished_at__lt=until
    ).count()


def custody_events(*, capture: Capture) -> QuerySet[CustodyEvent]:
    return CustodyEvent.objects.filter(capture=capture).order_by("seq")


@dataclass(frozen=True)
class CustodyCheck:
    ok: bool
    events: int
    broken_at: int | None  # first seq whose hash or link does not match


def custody_chain_check(*, capture: Capture) -> CustodyCheck:
    """Recompute every hash of the capture's custody chain and each link to the previous."""
    previous = ""
    count = 0
    for expected_seq, event in enumerate(custody_events(capture=capture), start=1):
        count += 1
        if (
            event.seq != expected_seq
            or event.prev_hash != previous
            or custody_hash(custody_payload(event)) != event.hash
        ):
            return CustodyCheck(ok=False, events=count, broken_at=event.seq)
        previous = event.hash
    return CustodyCheck(ok=True, events=count, broken_at=None)


def bundle_stored(*, capture: Capture) -> bool:
    """The capture has a bundle and its write-once storage still holds it."""
    name = capture.bundle.name or ""
    return bool(name) and capture.bundle.storage.exists(name)


def bundle_open(*, capture: Capture) -> File | None:
    """The stored bundle, opened for reading through the storage API (any backend)."""
    if not bundle_stored(capture=capture):
        return None
    return capture.bundle.storage.open(capture.bundle.name or "", "rb")


def bundle_filename(*, capture: Capture) -> str:
    """The bundle's file name as a download offers it (``evidence-<id>-<attempt>.zip``)."""
    return PurePosixPath(capture.bundle.name or "").name


def capture_screenshot(*, capture: Capture) -> bytes | None:
    """The first-screen image (with URL and time burned in), read from the bundle itself."""
    handle = bundle_open(capture=capture)
    if handle is None:
        return None
    with handle, zipfile.ZipFile(handle) as archive:
        for name in archive.namelist():
            if name.endswith("/" + SCREENSHOT_MEMBER):
                return archive.read(name)
    return None


def capture_verdicts(*, capture: Capture) -> list:
    """Every check of EVIDENCE.md, run now on the stored files (never on database values)."""
    if not bundle_stored(capture=capture):
        return [CheckVerdict("archive", False, "lot de preuve absent")]
    # The verifier works on a file: a private copy read back from the storage, as a
    # commissaire de justice would download it.
    packed = renewals_zip(capture=capture)  # the timestamp renewal chain, if any
    with (
        bundle_local_copy(name=capture.bundle.name or "") as path,
        tempfile.TemporaryDirectory(prefix="egide-renewals-") as tmp,
    ):
        renewals = None
        if packed is not None:
            renewals = Path(tmp) / packed[0]
            renewals.write_bytes(packed[1])
        verdicts = bundle_verify(zip_path=path, renewals=renewals, find_renewals=False)
        verdicts.append(_tagmanifest_verdict(path=path, expected=capture.tagmanifest_sha256))
    return verdicts


def _tagmanifest_verdict(*, path: Path, expected: str):
    name = "tagmanifest enregistré"
    try:
        with zipfile.ZipFile(path) as archive:
            member = next(n for n in archive.namelist() if n.endswith("/" + TAGMANIFEST))
            actual = hashlib.sha256(archive.read(member)).hexdigest()
    except (OSError, zipfile.BadZipFile, StopIteration) as exc:
        return CheckVerdict(name, False, f"tagmanifest illisible : {exc!r}")
    if actual != expected:
        return CheckVerdict(name, False, f"empreinte {actual} ≠ {expected} (enregistrée)")
    return CheckVerdict(name, True, f"identique à l'empreinte enregistrée ({expected[:16]}…)")


def share_link_from_token(*, token: str) -> ShareLink | None:
    """The share link a token names, if the token is genuine and the link has not expired."""
    try:
        data = signing.loads(token, salt="evidence.share-link")
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("l"), int):
        return None
    link = (
        ShareLink.objects.select_related("capture")
        .filter(pk=int(data["l"]), nonce=str(data.get("n")))
        .first()
    )
    if link is None or link.expires_at <= timezone.now():
        return None
    return link
