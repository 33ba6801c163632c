"""Verify an evidence bundle ZIP the way an outsider would, with one verdict per check.

Why this exists: EVIDENCE.md promises that Égide's own ``verify`` command agrees with the
standard tools on good and on tampered bundles. So every check that has a standard tool runs
that tool as an external command (``openssl ts -verify``, ``openssl cms -verify``,
``wacz validate``, ``warcio check``), bagit runs through its own library, and the checks the
standard tools cannot make (a file slipped in outside every manifest, a malleable byte in an
unsigned part of a signature envelope) are added on top. The verdicts' details are in French,
for the claims handler, the lawyer and the commissaire de justice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import shutil
import stat
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import bagit
from asn1crypto import cms

from evidence.bag import (
    BAG_INFO_TXT,
    CERT_FILES,
    MANIFEST,
    SEAL_FILE,
    SIGNATURE_FILES,
    TAGMANIFEST,
    TAGMANIFEST_COVERS,
    TIMESTAMP_FILE,
    WACZ_PAYLOAD,
    command_run,
    file_sha256,
    openssl_cms_verify_command,
    openssl_ts_verify_command,
)
from evidence.renewal_record import (
    RENEWALS_SUFFIX,
    RENEWALS_VERIFY_MD,
    RenewalFormatError,
    TokenFacts,
    openssl_ts_verify_file_command,
    protected_paths,
    renewal_file_names,
    renewal_parse,
    token_facts,
)
from evidence.seal import CmsProfileError, cms_signed_data_check, pem_to_der
from evidence.timestamp import TimestampError, timestamp_token_check

TOOL_TIMEOUT_SECONDS = 120.0
REQUIRED_FILES: tuple[str, ...] = (*TAGMANIFEST_COVERS, TAGMANIFEST, *SIGNATURE_FILES, WACZ_PAYLOAD)
# Check names, in the order verdicts are returned (one "warc <file>" per WARC in the WACZ).
CHECK_NAMES: tuple[str, ...] = (
    "archive",
    "structure",
    "bagit",
    "sha256",
    "timestamp",
    "signature",
    "wacz",
    "warc",
)


@dataclass(frozen=True)
class CheckVerdict:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class _Bag:
    root: Path  # the unzipped evidence-<id>/ directory
    work: Path  # scratch space for nested extractions


def _tool(name: str) -> list[str] | None:
    """The console script installed next to this interpreter, else the one on PATH."""
    local = Path(sys.executable).parent / name
    if local.exists():
        return [str(local)]
    found = shutil.which(name)
    return [found] if found else None


def _manifest_entries(path: Path) -> dict[str, str]:
    entries: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        digest, _, name = line.partition(" ")
        entries[name.strip().lstrip("*")] = digest.lower()
    return entries


def _archive_extract(*, zip_path: Path, work: Path) -> Path:
    """Extract safely: one root ``evidence-*`` directory, no absolute paths, ``..`` or links."""
    with zipfile.ZipFile(zip_path) as archive:
        roots = set()
        for info in archive.infolist():
            parts = PurePosixPath(info.filename).parts
            if info.filename.startswith("/") or ".." in parts or "\\" in info.filename:
                raise ValueError(f"chemin dangereux dans l'archive : {info.filename!r}")
            if stat.S_ISLNK(info.external_attr >> 16):
                raise ValueError(f"lien symbolique dans l'archive : {info.filename!r}")
            roots.add(parts[0])
        if len(roots) != 1 or not next(iter(roots)).startswith("evidence-"):
            raise ValueError(f"l'archive doit contenir un seul dossier evidence-<id> : {roots}")
        bad = archive.testzip()
        if bad is not None:
            raise ValueError(f"entrée corrompue dans l'archive : {bad}")
        archive.extractall(work)
    return work / next(iter(roots))


def _check_structure(bag: _Bag) -> CheckVerdict:
    missing = [name for name in REQUIRED_FILES if not (bag.root / name).is_file()]
    if missing:
        return CheckVerdict("structure", False, f"fichiers manquants : {', '.join(missing)}")
    tag_entries = _manifest_entries(bag.root / TAGMANIFEST)
    uncovered_tags = [name for name in TAGMANIFEST_COVERS if name not in tag_entries]
    if uncovered_tags:
        return CheckVerdict(
            "structure",
            False,
            f"non couverts par {TAGMANIFEST} : {', '.join(uncovered_tags)}",
        )
    covered = (
        set(tag_entries)
        | set(_manifest_entries(bag.root / MANIFEST))
        | {TAGMANIFEST, *SIGNATURE_FILES}
    )
    present = {p.relative_to(bag.root).as_posix() for p in bag.root.rglob("*") if p.is_file()}
    stray = sorted(present - covered)
    if stray:
        return CheckVerdict(
            "structure", False, f"fichiers hors de tout manifeste : {', '.join(stray)}"
        )
    info = bagit._load_tag_file(str(bag.root / BAG_INFO_TXT))  # noqa: SLF001 - bagit's own parser
    expected_id = bag.root.name.removeprefix("evidence-")
    if info.get("External-Identifier") != expected_id:
        return CheckVerdict(
            "structure",
            False,
            f"External-Identifier ({info.get('External-Identifier')!r}) "
            f"ne correspond pas au dossier ({expected_id!r})",
        )
    return CheckVerdict("structure", True, f"{len(present)} fichiers, tous couverts")


def _check_bagit(bag: _Bag) -> CheckVerdict:
    try:
        bagit.Bag(str(bag.root)).validate(processes=1)
    except bagit.BagValidationError as exc:
        details = "; ".join(str(d) for d in exc.details[:5]) if exc.details else ""
        return CheckVerdict("bagit", False, f"sac BagIt invalide : {exc} {details}".strip())
    except (bagit.BagError, OSError, UnicodeError, ValueError) as exc:
        return CheckVerdict("bagit", False, f"sac BagIt illisible : {exc}")
    return CheckVerdict("bagit", True, "sac BagIt valide (bagit.py)")


def _check_sha256(bag: _Bag) -> CheckVerdict:
    mismatches: list[str] = []
    count = 0
    for manifest in (MANIFEST, TAGMANIFEST):
        for name, expected in _manifest_entries(bag.root / manifest).items():
            path = bag.root / name
            if not path.resolve().is_relative_to(bag.root.resolve()) or not path.is_file():
                mismatches.append(f"{name} (absent)")
                continue
            count += 1
            if file_sha256(path) != expected:
                mismatches.append(name)
    if mismatches:
        return CheckVerdict("sha256", False, f"empreintes différentes : {', '.join(mismatches)}")
    return CheckVerdict("sha256", True, f"{count} empreintes SHA-256 recalculées et conformes")


def _embedded_cert_matches(*, bag: _Bag, cert_der: bytes, cert_file: str) -> bool:
    """The certificate inside the token/seal must be the one shipped in ``certs/``.

    ``openssl ts -verify -untrusted certs/tsa.pem`` prefers the shipped certificate and never
    looks at the embedded one, so without this check the embedded copy could be altered freely.
    """
    try:
        return pem_to_der((bag.root / cert_file).read_bytes()) == cert_der
    except (OSError, ValueError):
        return False


def _check_timestamp(bag: _Bag) -> CheckVerdict:
    tsr = (bag.root / TIMESTAMP_FILE).read_bytes()
    tagmanifest = (bag.root / TAGMANIFEST).read_bytes()
    try:
        token = timestamp_token_check(
            response_der=tsr, digest=hashlib.sha256(tagmanifest).digest(), nonce=None
        )
    except TimestampError as exc:
        return CheckVerdict("timestamp", False, f"jeton d'horodatage invalide : {exc}")
    if not _embedded_cert_matches(
        bag=bag, cert_der=token.tsa_cert_der, cert_file=CERT_FILES["tsa"]
    ):
        return CheckVerdict(
            "timestamp", False, f"le certificat du jeton diffère de {CERT_FILES['tsa']}"
        )
    attime = int(token.gen_time.timestamp())
    ok, output = command_run(
        command=openssl_ts_verify_command(bag_dir=bag.root, attime=attime),
        timeout=TOOL_TIMEOUT_SECONDS,
    )
    when = token.gen_time.strftime("%Y-%m-%d %H:%M:%S UTC")
    if not ok:
        return CheckVerdict("timestamp", False, f"openssl ts -verify en échec : {output}")
    return CheckVerdict(
        "timestamp", True, f"horodatage RFC 3161 valide, émis le {when} (-attime {attime})"
    )


def _check_signature(bag: _Bag) -> CheckVerdict:
    p7s = (bag.root / SEAL_FILE).read_bytes()
    tagmanifest = (bag.root / TAGMANIFEST).read_bytes()
    try:
        content_info = cms.ContentInfo.load(p7s, strict=True)
        if content_info["content"]["encap_content_info"]["content"].native is not None:
            raise CmsProfileError("le cachet doit être détaché (sans contenu encapsulé)")
        cert = cms_signed_data_check(content_info=content_info, content=tagmanifest)
    except (CmsProfileError, ValueError, TypeError, KeyError) as exc:
        return CheckVerdict("signature", False, f"cachet invalide : {exc}")
    if not _embedded_cert_matches(bag=bag, cert_der=cert.dump(), cert_file=CERT_FILES["seal"]):
        return CheckVerdict(
            "signature", False, f"le certificat du cachet diffère de {CERT_FILES['seal']}"
        )
    ok, output = command_run(
        command=openssl_cms_verify_command(bag_dir=bag.root), timeout=TOOL_TIMEOUT_SECONDS
    )
    if not ok:
        return CheckVerdict("signature", False, f"openssl cms -verify en échec : {output}")
    signer = cert.subject.human_friendly
    return CheckVerdict("signature", True, f"cachet CMS valide de « {signer} »")


def _check_wacz(bag: _Bag) -> list[CheckVerdict]:
    wacz = bag.root / WACZ_PAYLOAD
    tool = _tool("wacz")
    if tool is None:
        verdict = CheckVerdict("wacz", False, "outil wacz introuvable (pip install wacz)")
    else:
        ok, output = command_run(
            command=[*tool, "validate", "-f", str(wacz)], timeout=TOOL_TIMEOUT_SECONDS
        )
        detail = "WACZ valide (wacz validate)" if ok else f"wacz validate en échec : {output}"
        verdict = CheckVerdict("wacz", ok, detail)
    return [verdict, *_check_warcs(wacz=wacz, work=bag.work)]


def _check_warcs(*, wacz: Path, work: Path) -> list[CheckVerdict]:
    target = work / "wacz"
    try:
        with zipfile.ZipFile(wacz) as archive:
            names = [
                n
                for n in archive.namelist()
                if n.startswith("archive/") and ".warc" in n and "/" not in n[len("archive/") :]
            ]
            for name in names:
                archive.extract(name, target)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        return [CheckVerdict("warc", False, f"WARC illisibles dans le WACZ : {exc}")]
    if not names:
        return [CheckVerdict("warc", False, "aucun fichier WARC dans le WACZ")]
    tool = _tool("warcio")
    verdicts = []
    for name in sorted(names):
        label = f"warc {PurePosixPath(name).name}"
        if tool is None:
            verdicts.append(CheckVerdict(label, False, "outil warcio introuvable"))
            continue
        ok, output = command_run(
            command=[*tool, "check", str(target / name)], timeout=TOOL_TIMEOUT_SECONDS
        )
        detail = "WARC valide (warcio check)" if ok else f"warcio check en échec : {output}"
        verdicts.append(CheckVerdict(label, ok, detail))
    return verdicts


# (verdict name, check) in the order they run; "archive" comes first, "wacz"/"warc" last.
_BAG_CHECKS: tuple[tuple[str, Callable[[_Bag], CheckVerdict]], ...] = (
    ("structure", _check_structure),
    ("bagit", _check_bagit),
    ("sha256", _check_sha256),
    ("timestamp", _check_timestamp),
    ("signature", _check_signature),
)


def _guarded(
    name: str, check: Callable[[_Bag], CheckVerdict | list[CheckVerdict]], bag: _Bag
) -> list[CheckVerdict]:
    """A check that crashes on a malformed bundle is a failed check, not a crashed verifier."""
    try:
        result = check(bag)
    except Exception as exc:  # noqa: BLE001 - any crash on hostile input is a verdict
        return [CheckVerdict(name, False, f"contrôle impossible : {exc!r}")]
    return result if isinstance(result, list) else [result]


def renewals_default(*, zip_path: Path) -> Path | None:
    """``<zip stem>.renewals/`` (or ``.renewals.zip``) next to the bundle, if there is one."""
    folder = zip_path.with_name(zip_path.stem + RENEWALS_SUFFIX)
    for candidate in (folder, folder.with_name(folder.name + ".zip")):
        if candidate.exists():
            return candidate
    return None


def bundle_verify(
    *,
    zip_path: Path,
    renewals: Path | None = None,
    at: dt.datetime | None = None,
    find_renewals: bool = True,
) -> list[CheckVerdict]:
    """Run every check of EVIDENCE.md on ``zip_path``; the bundle is good iff all are ok.

    The checks listed in ``CHECK_NAMES`` always appear, so a caller can display a stable
    table; a check that could not run (unreadable archive, missing file) is a failure.
    ``renewals`` (a folder or its ZIP; by default ``<zip stem>.renewals`` next to the bundle)
    adds the renewal chain's checks (``renewals``, ``renewal <n>``); ``at`` is the instant at
    which the last token must be valid (default: now).
    """
    if renewals is None and find_renewals:
        renewals = renewals_default(zip_path=zip_path)
    with tempfile.TemporaryDirectory(prefix="egide-verify-") as tmp:
        work = Path(tmp)
        try:
            root = _archive_extract(zip_path=zip_path, work=work / "bag")
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            verdicts = [CheckVerdict("archive", False, f"archive illisible : {exc}")]
            verdicts += [
                CheckVerdict(name, False, "non vérifié : archive illisible")
                for name in CHECK_NAMES[1:]
            ]
            if renewals is not None:
                verdicts.append(CheckVerdict("renewals", False, "non vérifié : archive illisible"))
            return verdicts
        bag = _Bag(root=root, work=work)
        verdicts = [CheckVerdict("archive", True, f"archive décompressée : {root.name}/")]
        for name, check in _BAG_CHECKS:
            verdicts += _guarded(name, check, bag)
        verdicts += _guarded("wacz", _check_wacz, bag)
        if renewals is not None:
            try:
                folder = _renewals_folder(path=renewals, work=work / "renewals")
            except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
                verdicts.append(
                    CheckVerdict("renewals", False, f"renouvellements illisibles : {exc}")
                )
                return verdicts
            try:
                verdicts += renewals_verify(bag_root=root, renewals_dir=folder, at=at)
            except Exception as exc:  # noqa: BLE001 - any crash on hostile input is a verdict
                verdicts.append(CheckVerdict("renewals", False, f"contrôle impossible : {exc!r}"))
        return verdicts


# --- Renewal chain (evidence.renewal_record) -------------------------------------------------

_RENEWAL_FILE = re.compile(r"^renewal-(\d+)(\.txt|\.txt\.tsr|-tsa\.pem|-tsa-ca\.pem)$")


def _renewals_folder(*, path: Path, work: Path) -> Path:
    """The renewals folder itself, or the one a renewals ZIP holds (extracted safely)."""
    if path.is_dir():
        return path
    with zipfile.ZipFile(path) as archive:
        roots = set()
        for info in archive.infolist():
            parts = PurePosixPath(info.filename).parts
            if info.filename.startswith("/") or ".." in parts or "\\" in info.filename:
                raise ValueError(f"chemin dangereux dans l'archive : {info.filename!r}")
            if stat.S_ISLNK(info.external_attr >> 16):
                raise ValueError(f"lien symbolique dans l'archive : {info.filename!r}")
            roots.add(parts[0])
        if len(roots) != 1 or not next(iter(roots)).endswith(RENEWALS_SUFFIX):
            raise ValueError(f"l'archive doit contenir un seul dossier *.renewals : {roots}")
        archive.extractall(work)
    return work / next(iter(roots))


def _token_check_openssl(
    *, data: Path, token: Path, ca_file: Path, untrusted: Path, attime: dt.datetime | None
) -> tuple[bool, str]:
    return command_run(
        command=openssl_ts_verify_file_command(
            data=str(data),
            token=str(token),
            ca_file=str(ca_file),
            untrusted=str(untrusted),
            attime=int(attime.timestamp()) if attime is not None else None,
        ),
        timeout=TOOL_TIMEOUT_SECONDS,
    )


def _when(moment: dt.datetime | None) -> str:
    return "maintenant" if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def renewals_verify(
    *, bag_root: Path, renewals_dir: Path, at: dt.datetime | None = None
) -> list[CheckVerdict]:
    """Check a bundle's renewal chain: one ``renewals`` verdict, then one per renewal.

    Renewal n is good when every hash it lists matches its file, it lists the bundle's signed
    files and every earlier renewal file (continuity), its token verifies over it, its genTime
    is after the previous token's and before the previous TSA certificate expired, and the
    previous token verifies (openssl, ``-attime``) at renewal n's genTime. The last token must
    verify at ``at`` (default: now).
    """
    bag = bag_root.name
    folder_name = f"{bag}{RENEWALS_SUFFIX}"
    present = sorted(p.name for p in renewals_dir.iterdir() if p.is_file())
    seqs = sorted({int(m.group(1)) for name in present if (m := _RENEWAL_FILE.match(name))})
    stray = [n for n in present if n != RENEWALS_VERIFY_MD and not _RENEWAL_FILE.match(n)]
    problems: list[str] = []
    if not seqs:
        problems.append("aucun renouvellement")
    elif seqs != list(range(1, len(seqs) + 1)):
        problems.append(f"numérotation discontinue : {seqs}")
    for seq in seqs:
        for name in renewal_file_names(seq=seq).values():
            if name not in present:
                problems.append(f"{name} manquant")
    if stray:
        problems.append(f"fichiers inattendus : {', '.join(stray)}")
    if problems:
        return [CheckVerdict("renewals", False, "; ".join(problems))]
    verdicts = [
        CheckVerdict("renewals", True, f"{len(seqs)} renouvellement(s) dans {renewals_dir.name}/")
    ]

    def resolve(path: str) -> Path | None:
        head, _, rest = path.partition("/")
        base = {bag: bag_root, folder_name: renewals_dir}.get(head)
        if base is None or not rest:
            return None
        target = base / rest
        return target if target.resolve().is_relative_to(base.resolve()) else None

    # Token k: its data file, token file, CA file and untrusted chain (k = 0: the bundle's).
    tokens: list[tuple[Path, Path, Path, Path]] = [
        (
            bag_root / TAGMANIFEST,
            bag_root / TIMESTAMP_FILE,
            bag_root / CERT_FILES["tsa_ca"],
            bag_root / CERT_FILES["tsa"],
        )
    ]
    for seq in seqs:
        names = renewal_file_names(seq=seq)
        tokens.append(tuple(renewals_dir / names[r] for r in ("record", "token", "tsa_ca", "tsa")))  # type: ignore[arg-type]
    try:
        facts: list[TokenFacts] = [token_facts(response_der=tokens[0][1].read_bytes())]
    except RenewalFormatError as exc:
        return [*verdicts, CheckVerdict("renewals", False, f"jeton du lot illisible : {exc}")]

    for seq in seqs:
        label = f"renewal {seq}"
        data, token_path, ca_file, untrusted = tokens[seq]
        try:
            record = renewal_parse(text=data.read_text("utf-8"))
        except (RenewalFormatError, UnicodeError, OSError) as exc:
            verdicts.append(CheckVerdict(label, False, f"fichier illisible : {exc}"))
            continue
        if record.seq != seq or record.bag != bag:
            verdicts.append(
                CheckVerdict(
                    label, False, f"en-tête incohérent (n° {record.seq}, lot {record.bag})"
                )
            )
            continue
        uncovered = [p for p in protected_paths(bag=bag, seq=seq) if p not in record.hashes]
        if uncovered:
            verdicts.append(
                CheckVerdict(
                    label, False, f"chaîne discontinue, non couverts : {', '.join(uncovered)}"
                )
            )
            continue
        mismatches = []
        for path, digests in record.hashes.items():
            target = resolve(path)
            if target is None or not target.is_file():
                mismatches.append(f"{path} (absent)")
                continue
            content = target.read_bytes()
            for algorithm, expected in digests.items():
                if hashlib.new(algorithm, content).hexdigest() != expected:
                    mismatches.append(f"{path} ({algorithm})")
        if mismatches:
            verdicts.append(
                CheckVerdict(label, False, f"empreintes différentes : {', '.join(mismatches)}")
            )
            continue
        der = token_path.read_bytes()
        try:
            token = timestamp_token_check(
                response_der=der,
                digest=hashlib.new(record.hash_algorithm, data.read_bytes()).digest(),
                nonce=None,
                hash_algorithm=record.hash_algorithm,
            )
            current = token_facts(response_der=der)
        except (TimestampError, RenewalFormatError) as exc:
            verdicts.append(CheckVerdict(label, False, f"jeton invalide : {exc}"))
            continue
        try:
            shipped = pem_to_der(untrusted.read_bytes())
        except (OSError, ValueError):
            shipped = b""
        if shipped != token.tsa_cert_der:
            verdicts.append(
                CheckVerdict(label, False, f"le certificat du jeton diffère de {untrusted.name}")
            )
            continue
        facts.append(current)
        previous = facts[seq - 1]
        if not previous.gen_time <= current.gen_time < previous.tsa_not_after:
            verdicts.append(
                CheckVerdict(
                    label,
                    False,
                    f"genTime {_when(current.gen_time)} hors de l'intervalle du jeton précédent "
                    f"({_when(previous.gen_time)} – expiration {_when(previous.tsa_not_after)})",
                )
            )
            continue
        p_data, p_token, p_ca, p_untrusted = tokens[seq - 1]
        ok, output = _token_check_openssl(
            data=p_data, token=p_token, ca_file=p_ca, untrusted=p_untrusted, attime=current.gen_time
        )
        if not ok:
            verdicts.append(
                CheckVerdict(
                    label,
                    False,
                    f"jeton précédent invalide à {_when(current.gen_time)} "
                    f"(openssl ts -verify) : {output}",
                )
            )
            continue
        if seq == seqs[-1]:
            ok, output = _token_check_openssl(
                data=data, token=token_path, ca_file=ca_file, untrusted=untrusted, attime=at
            )
            if not ok:
                verdicts.append(
                    CheckVerdict(
                        label,
                        False,
                        f"dernier jeton invalide à {_when(at)} (openssl ts -verify) : {output}",
                    )
                )
                continue
        verdicts.append(
            CheckVerdict(
                label,
                True,
                f"{len(record.hashes)} empreintes ({record.hash_algorithm}) conformes, "
                f"horodaté le {_when(current.gen_time)} par « {current.tsa_subject} », "
                f"jeton précédent valide à cet instant",
            )
        )
    return verdicts


def bundle_verdicts_ok(*, verdicts: list[CheckVerdict]) -> bool:
    return bool(verdicts) and all(verdict.ok for verdict in verdicts)


def main(argv: list[str] | None = None) -> int:
    """`python -m evidence.verify evidence-<id>.zip [renewals]`: one line per check, as
    verify-bundle.sh."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) not in (1, 2):
        print("usage: python -m evidence.verify evidence-<id>.zip [renewals]", file=sys.stderr)
        return 2
    renewals = Path(args[1]) if len(args) == 2 else None
    verdicts = bundle_verify(zip_path=Path(args[0]), renewals=renewals)
    for verdict in verdicts:
        print(f"{'ok' if verdict.ok else 'FAIL'} {verdict.name}: {verdict.detail}")
    return 0 if bundle_verdicts_ok(verdicts=verdicts) else 1


if __name__ == "__main__":
    raise SystemExit(main())
