"""Renewal of a bundle's timestamp: when it is due, and making renewal n (RFC 4998 spirit).

Why this exists: a bundle's proof rests on one RFC 3161 token; once its TSA certificate has
expired or its algorithms have weakened, nothing proves any more that the token was valid when
it was checked. Renewing before that happens — a new token, from the TSA configured today,
over a file that lists the hashes of the bundle's signed files and of every earlier renewal —
keeps the proof alive (format in ``evidence.renewal_record``; ``evidence.verify`` checks the
chain, ``evidence/tools/verify-bundle.sh`` too, with openssl and sha256sum only).

Fail closed and write-once: the token is obtained and checked (openssl ts -verify, algorithms,
continuity with the previous token) before anything is written; files are written through the
bundle's storage (``save``/``open``/``exists`` only) and the ``EvidenceRenewal`` row comes last.
A run interrupted between files and row leaves files that the next run recognises and reuses
(identical content) instead of failing on the write-once names.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from evidence.bag import command_run
from evidence.models import Capture, CustodyEvent, EvidenceRenewal
from evidence.renewal_record import (
    BAG_PROTECTED_FILES,
    RENEWALS_VERIFY_MD,
    RenewalFormatError,
    TokenFacts,
    openssl_ts_verify_file_command,
    protected_paths,
    renewal_file_names,
    renewal_parse,
    renewal_text,
    renewals_folder_name,
    renewals_verify_md,
    token_facts,
)
from evidence.seal import pem_to_der
from evidence.services.custody import custody_record
from evidence.timestamp import TimestampError, timestamp_request, timestamp_token_check

logger = logging.getLogger(__name__)

OPENSSL_TIMEOUT_SECONDS = 30.0
_BLOCK = 1024 * 1024


class RenewalError(Exception):
    """No renewal was made (message in French); nothing new is recorded."""


@dataclass(frozen=True)
class RenewalDue:
    reason: str  # EvidenceRenewal.Reason value
    detail: str  # French


@dataclass(frozen=True)
class RenewalOutcome:
    capture_id: int
    status: str  # "not-due", "planned" (dry run), "renewed", "failed"
    reason: str = ""
    detail: str = ""
    renewal: EvidenceRenewal | None = None


def _storage():
    return Capture._meta.get_field("bundle").storage


def _read(name: str) -> bytes:
    with _storage().open(name, "rb") as handle:
        return handle.read()


@dataclass(frozen=True)
class _Bundle:
    bag: str  # root folder inside the ZIP (evidence-<id>-<attempt>)
    folder: str  # storage name of the renewals folder
    files: dict[str, bytes]  # BAG_PROTECTED_FILES → content
    all_sha512: dict[str, str]  # bag-relative path → SHA-512, every file (algorithm renewal)


def _bundle_read(*, capture: Capture, all_files: bool) -> _Bundle:
    if not capture.bundle:
        raise RenewalError(_("La capture n'a pas de lot de preuve."))
    with _storage().open(capture.bundle.name, "rb") as handle:
        data = handle.read()
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise RenewalError(_("Le lot de preuve est illisible.")) from exc
    with archive:
        roots = {PurePosixPath(name).parts[0] for name in archive.namelist()}
        if len(roots) != 1:
            raise RenewalError(_("Le lot de preuve n'a pas un seul dossier racine."))
        bag = roots.pop()
        try:
            files = {name: archive.read(f"{bag}/{name}") for name in BAG_PROTECTED_FILES}
        except KeyError as exc:
            raise RenewalError(_("Fichier absent du lot de preuve : %(e)s") % {"e": exc}) from exc
        all_sha512: dict[str, str] = {}
        if all_files:
            for info in archive.infolist():
                if info.is_dir():
                    continue
                digest = hashlib.sha512()
                with archive.open(info) as member:
                    while block := member.read(_BLOCK):
                        digest.update(block)
                all_sha512[info.filename] = digest.hexdigest()
    return _Bundle(
        bag=bag,
        folder=renewals_folder_name(bundle_name=capture.bundle.name or ""),
        files=files,
        all_sha512=all_sha512,
    )


def _last_renewal(capture: Capture) -> EvidenceRenewal | None:
    return EvidenceRenewal.objects.filter(capture=capture).order_by("-seq").first()


def last_token_facts(*, capture: Capture) -> TokenFacts:
    """Facts of the token the proof rests on today: the last renewal's, else the bundle's."""
    last = _last_renewal(capture)
    if last is not None:
        der = _read(last.token_name)
    else:
        der = _bundle_read(capture=capture, all_files=False).files["tagmanifest-sha256.txt.tsr"]
    try:
        return token_facts(response_der=der)
    except RenewalFormatError as exc:
        raise RenewalError(str(exc)) from exc


def _weak_algorithms() -> set[str]:
    return {name.strip().lower() for name in settings.EGIDE_EVIDENCE_WEAK_ALGORITHMS if name}


def renewal_due(*, capture: Capture, now: dt.datetime | None = None) -> RenewalDue | None:
    """Why the capture's last token must be renewed now, or None if it need not be."""
    now = now or timezone.now()
    facts = last_token_facts(capture=capture)
    weak = sorted(_weak_algorithms() & facts.algorithms)
    if weak:
        return RenewalDue(
            reason=EvidenceRenewal.Reason.WEAK_ALGORITHM,
            detail=_("Algorithme affaibli dans le dernier jeton : %(names)s.")
            % {"names": ", ".join(weak)},
        )
    horizon = now + dt.timedelta(days=settings.EGIDE_EVIDENCE_RENEW_BEFORE_DAYS)
    if facts.tsa_not_after <= horizon:
        return RenewalDue(
            reason=EvidenceRenewal.Reason.TSA_EXPIRY,
            detail=_(
                "Le certificat de l'autorité d'horodatage du dernier jeton (%(tsa)s) "
                "expire le %(date)s."
            )
            % {"tsa": facts.tsa_subject, "date": f"{facts.tsa_not_after:%Y-%m-%d %H:%M} UTC"},
        )
    return None


def _tsa_config() -> tuple[str, bytes, bytes]:
    url = settings.EGIDE_TSA_URL
    if not url or not settings.EGIDE_TSA_CERT_FILE or not settings.EGIDE_TSA_CA_FILE:
        raise RenewalError(_("Autorité d'horodatage non configurée (EGIDE_TSA_URL, certificats)."))
    try:
        return (
            url,
            Path(settings.EGIDE_TSA_CERT_FILE).read_bytes(),
            Path(settings.EGIDE_TSA_CA_FILE).read_bytes(),
        )
    except OSError as exc:
        raise RenewalError(_("Certificats de l'autorité d'horodatage illisibles.")) from exc


def _write_once(name: str, content: bytes) -> None:
    """Write ``name``; an existing file with the same content (a resumed run) is kept."""
    storage = _storage()
    if storage.exists(name):
        if _read(name) != content:
            raise RenewalError(
                _("Le fichier %(name)s existe déjà avec un autre contenu : intervention requise.")
                % {"name": name}
            )
        return
    saved = storage.save(name, ContentFile(content))
    if saved != name:
        raise RenewalError(_("Nom de fichier inattendu : %(name)s.") % {"name": saved})


def _openssl_check(*, record: bytes, token: bytes, chain: bytes, anchor: bytes) -> None:
    """The new token must verify today with the standard tool, as the verifier will run it."""
    with tempfile.TemporaryDirectory(prefix="egide-renew-") as tmp:
        work = Path(tmp)
        for name, content in (("r.txt", record), ("r.tsr", token), ("t.pem", chain)):
            (work / name).write_bytes(content)
        (work / "ca.pem").write_bytes(anchor)
        ok, output = command_run(
            command=openssl_ts_verify_file_command(
                data=str(work / "r.txt"),
                token=str(work / "r.tsr"),
                ca_file=str(work / "ca.pem"),
                untrusted=str(work / "t.pem"),
                attime=None,
            ),
            timeout=OPENSSL_TIMEOUT_SECONDS,
        )
    if not ok:
        raise RenewalError(
            _("Le nouveau jeton ne se vérifie pas (openssl ts -verify) : %(out)s") % {"out": output}
        )


@dataclass(frozen=True)
class _Plan:
    """What renewal ``seq`` of a capture protects, and where its files go."""

    seq: int
    bundle: _Bundle
    names: dict[str, str]  # role ("record", "token", "tsa", "tsa_ca") → storage name
    verify_md: bytes  # the renewals folder's VERIFY file, written with renewal 1
    expected: list[str]  # the paths the record must list
    hashes: dict[str, dict[str, str]]  # path → {"sha256": …[, "sha512": …]}
    hash_algorithm: str  # of the new record ("sha512" for an algorithm renewal)


def _protected_contents(
    *, capture: Capture, bundle: _Bundle, seq: int, verify_md: bytes
) -> dict[str, bytes]:
    """Every file the renewal protects, by its path in the verification layout."""
    contents: dict[str, bytes] = {
        f"{bundle.bag}/{name}": content for name, content in bundle.files.items()
    }
    folder_base = PurePosixPath(bundle.folder).name
    contents[f"{folder_base}/{RENEWALS_VERIFY_MD}"] = (
        _read(f"{bundle.folder}/{RENEWALS_VERIFY_MD}") if seq > 1 else verify_md
    )
    for earlier in EvidenceRenewal.objects.filter(capture=capture).order_by("seq"):
        for stored in (
            earlier.record_name,
            earlier.token_name,
            earlier.tsa_cert_name,
            earlier.tsa_ca_name,
        ):
            contents[f"{folder_base}/{PurePosixPath(stored).name}"] = _read(stored)
    return contents


def _renewal_plan(*, capture: Capture, reason: str, weak: set[str]) -> _Plan:
    """Read the bundle and the earlier renewals, and hash what renewal n must protect."""
    last = _last_renewal(capture)
    seq = (last.seq + 1) if last else 1
    algorithm_renewal = reason == EvidenceRenewal.Reason.WEAK_ALGORITHM or "sha256" in weak
    bundle = _bundle_read(capture=capture, all_files=algorithm_renewal)
    verify_md = renewals_verify_md(bag=bundle.bag).encode("utf-8")
    contents = _protected_contents(capture=capture, bundle=bundle, seq=seq, verify_md=verify_md)
    expected = protected_paths(bag=bundle.bag, seq=seq)
    missing = sorted(set(expected) - set(contents))
    if missing:
        raise RenewalError(_("Fichiers à protéger introuvables : %(m)s") % {"m": missing})
    hashes: dict[str, dict[str, str]] = {
        path: {"sha256": hashlib.sha256(content).hexdigest()} for path, content in contents.items()
    }
    if algorithm_renewal:
        for path, content in contents.items():
            hashes[path]["sha512"] = hashlib.sha512(content).hexdigest()
        for path, digest in bundle.all_sha512.items():
            hashes.setdefault(path, {})["sha512"] = digest
    return _Plan(
        seq=seq,
        bundle=bundle,
        names={
            role: f"{bundle.folder}/{name}" for role, name in renewal_file_names(seq=seq).items()
        },
        verify_md=verify_md,
        expected=expected,
        hashes=hashes,
        hash_algorithm="sha512" if algorithm_renewal else "sha256",
    )


def _record_resume(*, plan: _Plan) -> tuple[bytes, str]:
    """The record a previous run wrote (files without row), if it matches the plan."""
    record = _read(plan.names["record"])
    try:
        parsed = renewal_parse(text=record.decode("utf-8"))
    except (RenewalFormatError, UnicodeError) as exc:
        raise RenewalError(str(exc)) from exc
    if (
        parsed.seq != plan.seq
        or parsed.bag != plan.bundle.bag
        or any(
            parsed.hashes.get(path, {}).get("sha256") != plan.hashes[path]["sha256"]
            for path in plan.expected
        )
    ):
        raise RenewalError(
            _("Un fichier %(name)s incohérent existe déjà : intervention requise.")
            % {"name": plan.names["record"]}
        )
    return record, parsed.hash_algorithm


def _record_make(*, plan: _Plan, capture: Capture, reason: str, detail: str) -> tuple[bytes, str]:
    """The renewal record's bytes and hash algorithm: resumed if already written, else new."""
    if _storage().exists(plan.names["record"]):
        return _record_resume(plan=plan)
    record = renewal_text(
        seq=plan.seq,
        bag=plan.bundle.bag,
        capture=str(capture.pk),
        reason=reason,
        detail=detail,
        hash_algorithm=plan.hash_algorithm,
        hashes=plan.hashes,
    ).encode("utf-8")
    return record, plan.hash_algorithm


@dataclass(frozen=True)
class _Token:
    der: bytes  # the RFC 3161 response
    chain: bytes  # TSA certificate (PEM) stored next to it
    anchor: bytes  # TSA root (PEM) stored next to it


def _token_obtain(
    *, names: dict[str, str], record: bytes, hash_algorithm: str, tsa: tuple[str, bytes, bytes]
) -> _Token:
    """The token over ``record``: the one a previous run stored (checked), else a new one."""
    url, chain, anchor = tsa
    storage = _storage()
    if storage.exists(names["token"]):
        token_der = _read(names["token"])
        try:
            timestamp_token_check(
                response_der=token_der,
                digest=hashlib.new(hash_algorithm, record).digest(),
                nonce=None,
                hash_algorithm=hash_algorithm,
            )
        except TimestampError as exc:
            raise RenewalError(
                _("Le jeton %(name)s déjà présent est invalide : %(exc)s")
                % {"name": names["token"], "exc": exc}
            ) from exc
        if storage.exists(names["tsa"]):
            chain = _read(names["tsa"])
        if storage.exists(names["tsa_ca"]):
            anchor = _read(names["tsa_ca"])
        return _Token(der=token_der, chain=chain, anchor=anchor)
    token = timestamp_request(
        data=record,
        tsa_url=url,
        timeout=settings.EGIDE_TSA_TIMEOUT_S,
        hash_algorithm=hash_algorithm,
    )
    if pem_to_der(chain) != token.tsa_cert_der:
        raise RenewalError(
            _("Le certificat du jeton diffère du certificat configuré (EGIDE_TSA_CERT_FILE).")
        )
    return _Token(der=token.response_der, chain=chain, anchor=anchor)


def _continuity_check(*, new: TokenFacts, previous: TokenFacts, weak: set[str]) -> None:
    """The new token must come before the previous one expires, after it, and not be weak."""
    if new.gen_time >= previous.tsa_not_after:
        raise RenewalError(
            _(
                "Trop tard : le certificat du jeton précédent a expiré le %(date)s, "
                "la chaîne serait rompue."
            )
            % {"date": f"{previous.tsa_not_after:%Y-%m-%d %H:%M} UTC"}
        )
    if new.gen_time < previous.gen_time:
        raise RenewalError(_("Le nouveau jeton est antérieur au précédent."))
    still_weak = sorted(weak & new.algorithms)
    if still_weak:
        raise RenewalError(
            _("L'autorité d'horodatage configurée utilise un algorithme affaibli : %(n)s.")
            % {"n": ", ".join(still_weak)}
        )


def _renewal_store(
    *,
    capture: Capture,
    plan: _Plan,
    record: bytes,
    hash_algorithm: str,
    token: _Token,
    facts: TokenFacts,
    reason: str,
    detail: str,
    actor_label: str,
) -> EvidenceRenewal:
    """Write the files (write-once), then the row and the custody event."""
    names = plan.names
    if plan.seq == 1:
        _write_once(f"{plan.bundle.folder}/{RENEWALS_VERIFY_MD}", plan.verify_md)
    _write_once(names["tsa"], token.chain)
    _write_once(names["tsa_ca"], token.anchor)
    _write_once(names["record"], record)
    _write_once(names["token"], token.der)
    renewal = EvidenceRenewal.objects.create(
        capture=capture,
        seq=plan.seq,
        reason=reason,
        detail=detail,
        record_name=names["record"],
        token_name=names["token"],
        tsa_cert_name=names["tsa"],
        tsa_ca_name=names["tsa_ca"],
        record_sha256=hashlib.sha256(record).hexdigest(),
        hash_algorithm=hash_algorithm,
        gen_time=facts.gen_time,
        tsa_not_after=facts.tsa_not_after,
    )
    custody_record(
        capture=capture,
        kind=CustodyEvent.Kind.RENEWED,
        actor_label=actor_label,
        detail={
            "renewal": plan.seq,
            "reason": reason,
            "detail": detail,
            "file": names["record"],
            "sha256": renewal.record_sha256,
            "hash_algorithm": hash_algorithm,
            "gen_time": facts.gen_time.isoformat(),
            "tsa": facts.tsa_subject,
            "tsa_not_after": facts.tsa_not_after.isoformat(),
        },
    )
    return renewal


def capture_renew(
    *, capture: Capture, reason: str, detail: str = "", actor_label: str = ""
) -> EvidenceRenewal:
    """Make the next renewal of ``capture``'s timestamp chain, or raise and record nothing.

    Raises ``RenewalError`` (configuration, continuity, files) or ``TimestampError`` (TSA down,
    refusal, bad reply: worth retrying later).
    """
    with transaction.atomic():
        capture = Capture.objects.select_for_update().get(pk=capture.pk)
        if capture.status != Capture.Status.COMPLETE or not capture.bundle:
            raise RenewalError(_("Seule une capture terminée avec son lot peut être renouvelée."))
        previous = last_token_facts(capture=capture)
        weak = _weak_algorithms()
        plan = _renewal_plan(capture=capture, reason=reason, weak=weak)
        tsa = _tsa_config()
        record, hash_algorithm = _record_make(
            plan=plan, capture=capture, reason=reason, detail=detail
        )
        token = _token_obtain(
            names=plan.names, record=record, hash_algorithm=hash_algorithm, tsa=tsa
        )
        facts = token_facts(response_der=token.der)
        _continuity_check(new=facts, previous=previous, weak=weak)
        _openssl_check(record=record, token=token.der, chain=token.chain, anchor=token.anchor)
        renewal = _renewal_store(
            capture=capture,
            plan=plan,
            record=record,
            hash_algorithm=hash_algorithm,
            token=token,
            facts=facts,
            reason=reason,
            detail=detail,
            actor_label=actor_label,
        )
    logger.info("Capture %s: timestamp renewal %s (%s)", capture.pk, plan.seq, reason)
    return renewal


def captures_renew(
    *,
    capture_id: int | None = None,
    force: bool = False,
    dry_run: bool = False,
    actor_label: str = "",
) -> list[RenewalOutcome]:
    """Renew every complete capture of the current insurer whose renewal is due.

    ``force`` renews even when not due; ``dry_run`` only says what would be renewed. A failure
    on one capture is reported and does not stop the others; nothing is recorded for it.
    """
    captures = Capture.objects.filter(status=Capture.Status.COMPLETE).exclude(bundle="")
    if capture_id is not None:
        captures = captures.filter(pk=capture_id)
    outcomes: list[RenewalOutcome] = []
    for capture in captures.order_by("pk"):
        try:
            due = renewal_due(capture=capture)
        except (RenewalError, OSError) as exc:
            outcomes.append(RenewalOutcome(capture.pk, "failed", detail=str(exc)))
            continue
        if due is None and force:
            due = RenewalDue(
                reason=EvidenceRenewal.Reason.FORCED, detail=_("Renouvellement demandé.")
            )
        if due is None:
            outcomes.append(RenewalOutcome(capture.pk, "not-due"))
            continue
        if dry_run:
            outcomes.append(RenewalOutcome(capture.pk, "planned", due.reason, due.detail))
            continue
        try:
            renewal = capture_renew(
                capture=capture, reason=due.reason, detail=due.detail, actor_label=actor_label
            )
        except (RenewalError, TimestampError, OSError) as exc:
            logger.warning("Capture %s: renewal failed: %s", capture.pk, exc)
            outcomes.append(RenewalOutcome(capture.pk, "failed", due.reason, str(exc)))
            continue
        outcomes.append(RenewalOutcome(capture.pk, "renewed", due.reason, due.detail, renewal))
    return outcomes


def renewals_zip(*, capture: Capture) -> tuple[str, bytes] | None:
    """The renewals folder as a ZIP (``<bag>.renewals/…``), for download; None if none."""
    renewals = list(EvidenceRenewal.objects.filter(capture=capture).order_by("seq"))
    if not renewals or not capture.bundle:
        return None
    folder = renewals_folder_name(bundle_name=capture.bundle.name or "")
    base = PurePosixPath(folder).name
    names = [f"{folder}/{RENEWALS_VERIFY_MD}"]
    for renewal in renewals:
        names += [
            renewal.record_name,
            renewal.token_name,
            renewal.tsa_cert_name,
            renewal.tsa_ca_name,
        ]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in names:
            archive.writestr(f"{base}/{PurePosixPath(name).name}", _read(name))
    return f"{base}.zip", buffer.getvalue()
