"""Verify a bundle's renewal chain (``evidence.renewal_record``), as ``verify-bundle.sh`` does.

Renewal n is good when every hash it lists matches its file, it lists the bundle's signed files
and every earlier renewal file (continuity), its token verifies over it, its genTime is after
the previous token's and before the previous TSA certificate expired, and the previous token
verifies (openssl, ``-attime``) at renewal n's genTime. The last token must verify at ``at``
(default: now). Called by ``evidence.verify.bundle_verify``; details in French.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from evidence.bag import CERT_FILES, TAGMANIFEST, TIMESTAMP_FILE, command_run
from evidence.renewal_record import (
    RENEWALS_SUFFIX,
    RENEWALS_VERIFY_MD,
    RenewalFormatError,
    RenewalRecord,
    TokenFacts,
    openssl_ts_verify_file_command,
    protected_paths,
    renewal_file_names,
    renewal_parse,
    token_facts,
)
from evidence.seal import pem_to_der
from evidence.timestamp import TimestampError, timestamp_token_check
from evidence.verdict import TOOL_TIMEOUT_SECONDS, CheckVerdict, zip_roots_safe

_RENEWAL_FILE = re.compile(r"^renewal-(\d+)(\.txt|\.txt\.tsr|-tsa\.pem|-tsa-ca\.pem)$")


def renewals_folder(*, path: Path, work: Path) -> Path:
    """The renewals folder itself, or the one a renewals ZIP holds (extracted safely)."""
    if path.is_dir():
        return path
    with zipfile.ZipFile(path) as archive:
        roots = zip_roots_safe(archive)
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


class _Failed(Exception):
    """Renewal n fails; the message is the verdict's French detail."""


class _TokenFiles(NamedTuple):
    data: Path  # the file the token covers
    token: Path  # the RFC 3161 response
    ca_file: Path  # the TSA root
    untrusted: Path  # the TSA certificate


@dataclass
class _Chain:
    """The bundle, its renewals folder, and token k's files and facts (k = 0: the bundle's)."""

    bag_root: Path
    renewals_dir: Path
    seqs: list[int]
    tokens: list[_TokenFiles]
    facts: list[TokenFacts]  # grows as each renewal's token is read
    at: dt.datetime | None

    @property
    def bag(self) -> str:
        return self.bag_root.name

    def resolve(self, path: str) -> Path | None:
        """A path of a renewal record (``<bag>/…`` or ``<bag>.renewals/…``) on disk."""
        head, _, rest = path.partition("/")
        base = {self.bag: self.bag_root, f"{self.bag}{RENEWALS_SUFFIX}": self.renewals_dir}.get(
            head
        )
        if base is None or not rest:
            return None
        target = base / rest
        return target if target.resolve().is_relative_to(base.resolve()) else None


def _folder_inventory(renewals_dir: Path) -> tuple[list[int], list[str]]:
    """The renewal numbers in the folder, and what is wrong with its file list."""
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
    return seqs, problems


def _token_files(*, bag_root: Path, renewals_dir: Path, seqs: list[int]) -> list[_TokenFiles]:
    tokens = [
        _TokenFiles(
            bag_root / TAGMANIFEST,
            bag_root / TIMESTAMP_FILE,
            bag_root / CERT_FILES["tsa_ca"],
            bag_root / CERT_FILES["tsa"],
        )
    ]
    for seq in seqs:
        names = renewal_file_names(seq=seq)
        tokens.append(
            _TokenFiles(*(renewals_dir / names[r] for r in ("record", "token", "tsa_ca", "tsa")))
        )
    return tokens


def _record_load(chain: _Chain, seq: int) -> RenewalRecord:
    """Renewal n's record, if its header, coverage and hashes hold."""
    try:
        record = renewal_parse(text=chain.tokens[seq].data.read_text("utf-8"))
    except (RenewalFormatError, UnicodeError, OSError) as exc:
        raise _Failed(f"fichier illisible : {exc}") from exc
    if record.seq != seq or record.bag != chain.bag:
        raise _Failed(f"en-tête incohérent (n° {record.seq}, lot {record.bag})")
    uncovered = [p for p in protected_paths(bag=chain.bag, seq=seq) if p not in record.hashes]
    if uncovered:
        raise _Failed(f"chaîne discontinue, non couverts : {', '.join(uncovered)}")
    mismatches = []
    for path, digests in record.hashes.items():
        target = chain.resolve(path)
        if target is None or not target.is_file():
            mismatches.append(f"{path} (absent)")
            continue
        content = target.read_bytes()
        for algorithm, expected in digests.items():
            if hashlib.new(algorithm, content).hexdigest() != expected:
                mismatches.append(f"{path} ({algorithm})")
    if mismatches:
        raise _Failed(f"empreintes différentes : {', '.join(mismatches)}")
    return record


def _token_load(files: _TokenFiles, record: RenewalRecord) -> TokenFacts:
    """Renewal n's token: over its record, signed by the certificate shipped next to it."""
    der = files.token.read_bytes()
    try:
        token = timestamp_token_check(
            response_der=der,
            digest=hashlib.new(record.hash_algorithm, files.data.read_bytes()).digest(),
            nonce=None,
            hash_algorithm=record.hash_algorithm,
        )
        current = token_facts(response_der=der)
    except (TimestampError, RenewalFormatError) as exc:
        raise _Failed(f"jeton invalide : {exc}") from exc
    try:
        shipped = pem_to_der(files.untrusted.read_bytes())
    except (OSError, ValueError):
        shipped = b""
    if shipped != token.tsa_cert_der:
        raise _Failed(f"le certificat du jeton diffère de {files.untrusted.name}")
    return current


def _continuity_check(chain: _Chain, seq: int, current: TokenFacts) -> None:
    """Renewal n came while the previous token was valid; the last token is valid at ``at``."""
    previous = chain.facts[seq - 1]
    if not previous.gen_time <= current.gen_time < previous.tsa_not_after:
        raise _Failed(
            f"genTime {_when(current.gen_time)} hors de l'intervalle du jeton précédent "
            f"({_when(previous.gen_time)} – expiration {_when(previous.tsa_not_after)})"
        )
    p_data, p_token, p_ca, p_untrusted = chain.tokens[seq - 1]
    ok, output = _token_check_openssl(
        data=p_data, token=p_token, ca_file=p_ca, untrusted=p_untrusted, attime=current.gen_time
    )
    if not ok:
        raise _Failed(
            f"jeton précédent invalide à {_when(current.gen_time)} (openssl ts -verify) : {output}"
        )
    if seq == chain.seqs[-1]:
        data, token_path, ca_file, untrusted = chain.tokens[seq]
        ok, output = _token_check_openssl(
            data=data, token=token_path, ca_file=ca_file, untrusted=untrusted, attime=chain.at
        )
        if not ok:
            raise _Failed(
                f"dernier jeton invalide à {_when(chain.at)} (openssl ts -verify) : {output}"
            )


def _renewal_check(chain: _Chain, seq: int) -> CheckVerdict:
    label = f"renewal {seq}"
    try:
        record = _record_load(chain, seq)
        current = _token_load(chain.tokens[seq], record)
        chain.facts.append(current)
        _continuity_check(chain, seq, current)
    except _Failed as failure:
        return CheckVerdict(label, False, str(failure))
    return CheckVerdict(
        label,
        True,
        f"{len(record.hashes)} empreintes ({record.hash_algorithm}) conformes, "
        f"horodaté le {_when(current.gen_time)} par « {current.tsa_subject} », "
        f"jeton précédent valide à cet instant",
    )


def renewals_verify(
    *, bag_root: Path, renewals_dir: Path, at: dt.datetime | None = None
) -> list[CheckVerdict]:
    """Check a bundle's renewal chain: one ``renewals`` verdict, then one per renewal."""
    seqs, problems = _folder_inventory(renewals_dir)
    if problems:
        return [CheckVerdict("renewals", False, "; ".join(problems))]
    verdicts = [
        CheckVerdict("renewals", True, f"{len(seqs)} renouvellement(s) dans {renewals_dir.name}/")
    ]
    tokens = _token_files(bag_root=bag_root, renewals_dir=renewals_dir, seqs=seqs)
    try:
        facts = [token_facts(response_der=tokens[0].token.read_bytes())]
    except RenewalFormatError as exc:
        return [*verdicts, CheckVerdict("renewals", False, f"jeton du lot illisible : {exc}")]
    chain = _Chain(
        bag_root=bag_root, renewals_dir=renewals_dir, seqs=seqs, tokens=tokens, facts=facts, at=at
    )
    verdicts += [_renewal_check(chain, seq) for seq in seqs]
    return verdicts
