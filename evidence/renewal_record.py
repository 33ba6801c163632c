"""The evidence-record renewal format: names, text, parsing (pure Python, no Django).

Why this exists: a bundle's proof rests on one RFC 3161 token whose TSA certificate expires and
whose algorithms (SHA-256, ECDSA/RSA) will one day weaken. In the spirit of RFC 4998 (Evidence
Record Syntax) each *renewal* time-stamps, with the TSA configured today, a small text file that
lists the hashes of the bundle's tag manifest, its token and its seal, and of every earlier
renewal file, token and certificate. As long as each renewal is made while the previous token
is still verifiable (before its TSA certificate expires, before its algorithms break), the chain
proves that the bundle existed at the original genTime.

The files live next to the bundle, never inside it (a sealed bundle cannot change)::

    evidence-12-1.zip
    evidence-12-1.renewals/
        VERIFY.md                 how to check the chain with openssl and sha256sum only
        renewal-1.txt             the hash list (BSD "tag" lines that sha256sum -c reads)
        renewal-1.txt.tsr         RFC 3161 token over renewal-1.txt
        renewal-1-tsa.pem         the TSA certificate (chain) of that token
        renewal-1-tsa-ca.pem      its trust anchor
        renewal-2.txt …

Paths inside ``renewal-<n>.txt`` are relative to the folder that holds the unzipped bag
(``evidence-12-1/…``) and the renewals folder (``evidence-12-1.renewals/…``), so that
``grep '^SHA256 (' evidence-12-1.renewals/renewal-1.txt | sha256sum -c`` works from there.
Used by ``evidence.renewal`` (writing) and ``evidence.verify`` (checking).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from asn1crypto import cms, tsp, x509

from evidence.timestamp import TimeStampResp

RENEWALS_SUFFIX = ".renewals"
RENEWALS_VERIFY_MD = "VERIFY.md"
BAG_PROTECTED_FILES: tuple[str, ...] = (
    "tagmanifest-sha256.txt",
    "tagmanifest-sha256.txt.tsr",
    "tagmanifest-sha256.txt.p7s",
)
# Hash algorithms a renewal may use, as sha256sum/sha512sum tags and hashlib names.
HASH_TAGS: dict[str, str] = {"sha256": "SHA256", "sha512": "SHA512"}
_LINE = re.compile(r"^(SHA256|SHA512) \((?P<path>[^()\n]+)\) = (?P<hex>[0-9a-f]+)$")
_HEADER = re.compile(r"^# (?P<key>[A-Za-z-]+): (?P<value>.*)$")


class RenewalFormatError(ValueError):
    """A renewal file does not follow the format (message in French)."""


def renewals_folder_name(*, bundle_name: str) -> str:
    """``bundles/evidence-12-1.zip`` → ``bundles/evidence-12-1.renewals``."""
    path = PurePosixPath(bundle_name)
    return str(path.with_name(path.stem + RENEWALS_SUFFIX))


def renewal_file_names(*, seq: int) -> dict[str, str]:
    """The four files of renewal ``seq``, by role, relative to the renewals folder."""
    return {
        "record": f"renewal-{seq}.txt",
        "token": f"renewal-{seq}.txt.tsr",
        "tsa": f"renewal-{seq}-tsa.pem",
        "tsa_ca": f"renewal-{seq}-tsa-ca.pem",
    }


def protected_paths(*, bag: str, seq: int) -> list[str]:
    """What renewal ``seq`` must list at least: the bundle's signed files, every earlier renewal
    file, token and certificate, and the folder's VERIFY.md."""
    folder = f"{bag}{RENEWALS_SUFFIX}"
    paths = [f"{bag}/{name}" for name in BAG_PROTECTED_FILES]
    paths.append(f"{folder}/{RENEWALS_VERIFY_MD}")
    for earlier in range(1, seq):
        paths += [f"{folder}/{name}" for name in renewal_file_names(seq=earlier).values()]
    return paths


@dataclass(frozen=True)
class RenewalRecord:
    seq: int
    bag: str
    reason: str
    hash_algorithm: str  # imprint algorithm of the token over this file
    hashes: dict[str, dict[str, str]]  # path → {"sha256": hex, "sha512": hex}


def renewal_text(
    *,
    seq: int,
    bag: str,
    capture: str,
    reason: str,
    detail: str,
    hash_algorithm: str,
    hashes: dict[str, dict[str, str]],
) -> str:
    """The content of ``renewal-<seq>.txt``; deterministic (no clock: the token dates it)."""
    lines = [
        f"# Égide — renouvellement n° {seq} de l'horodatage du lot / evidence renewal no. {seq}",
        "# Format: Egide-Evidence-Renewal 1",
        f"# Renewal: {seq}",
        f"# Bag: {bag}",
        f"# Capture: {capture}",
        f"# Reason: {reason}",
        f"# Detail: {' '.join(detail.split())}",
        f"# Hash-Algorithm: {hash_algorithm}",
        f"# Verify: {bag}{RENEWALS_SUFFIX}/{RENEWALS_VERIFY_MD}",
    ]
    for algorithm in ("sha256", "sha512"):
        for path in sorted(hashes):
            if algorithm in hashes[path]:
                lines.append(f"{HASH_TAGS[algorithm]} ({path}) = {hashes[path][algorithm]}")
    return "\n".join(lines) + "\n"


def renewal_parse(*, text: str) -> RenewalRecord:
    headers: dict[str, str] = {}
    hashes: dict[str, dict[str, str]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        header = _HEADER.match(line)
        if header:
            headers[header["key"]] = header["value"]
            continue
        if line.startswith("#"):
            continue
        match = _LINE.match(line)
        if not match:
            raise RenewalFormatError(f"ligne {number} illisible : {line[:80]!r}")
        path = match["path"]
        parts = PurePosixPath(path).parts
        if path.startswith("/") or ".." in parts or "\\" in path:
            raise RenewalFormatError(f"chemin refusé ligne {number} : {path!r}")
        algorithm = match.group(1).lower()
        expected_len = 64 if algorithm == "sha256" else 128
        if len(match["hex"]) != expected_len:
            raise RenewalFormatError(f"empreinte de longueur inattendue ligne {number}")
        hashes.setdefault(path, {})[algorithm] = match["hex"]
    try:
        seq = int(headers["Renewal"])
        bag = headers["Bag"]
        hash_algorithm = headers["Hash-Algorithm"]
    except (KeyError, ValueError) as exc:
        raise RenewalFormatError(f"en-tête manquant ou invalide : {exc}") from exc
    if hash_algorithm not in HASH_TAGS:
        raise RenewalFormatError(f"algorithme d'empreinte non pris en charge : {hash_algorithm}")
    return RenewalRecord(
        seq=seq,
        bag=bag,
        reason=headers.get("Reason", ""),
        hash_algorithm=hash_algorithm,
        hashes=hashes,
    )


@dataclass(frozen=True)
class TokenFacts:
    """What a renewal decision needs to know about a stored RFC 3161 token."""

    gen_time: dt.datetime
    imprint_algorithm: str
    algorithms: frozenset[str]  # names matched against EGIDE_EVIDENCE_WEAK_ALGORITHMS
    tsa_not_after: dt.datetime
    tsa_subject: str


_SIGNATURE_FAMILIES = {"rsassa_pkcs1v15": "rsa", "rsassa_pss": "rsa-pss"}


def token_facts(*, response_der: bytes) -> TokenFacts:
    """Read (not verify) a DER TimeStampResp: genTime, algorithms, signer certificate expiry.

    Algorithm names: the message-imprint hash (``sha256``), the signature family (``ecdsa``,
    ``rsa``, ``rsa-pss``, ``ed25519``), digest and family (``sha256-ecdsa``) and family with
    key size (``ecdsa-256``, ``rsa-2048``).
    """
    try:
        response = TimeStampResp.load(response_der)
        token = response["time_stamp_token"]
        signed: cms.SignedData = token["content"]
        tst = tsp.TSTInfo.load(signed["encap_content_info"]["content"].contents)
        signer = signed["signer_infos"][0]
        certs = [c.chosen for c in signed["certificates"] if c.name == "certificate"]
        sid = signer["sid"]
        cert: x509.Certificate | None = None
        for candidate in certs:
            if sid.name == "issuer_and_serial_number":
                if (
                    candidate.serial_number == sid.chosen["serial_number"].native
                    and candidate.issuer == sid.chosen["issuer"]
                ):
                    cert = candidate
            elif candidate.key_identifier == sid.chosen.native:
                cert = candidate
        if cert is None:
            raise RenewalFormatError("certificat de l'autorité absent du jeton")
        imprint = tst["message_imprint"]["hash_algorithm"]["algorithm"].native
        digest = signer["digest_algorithm"]["algorithm"].native
        signature = signer["signature_algorithm"].signature_algo
        family = _SIGNATURE_FAMILIES.get(signature, signature)
        bits = cert.public_key.bit_size
        gen_time = tst["gen_time"].native.astimezone(dt.UTC)
        not_after = cert["tbs_certificate"]["validity"]["not_after"].native.astimezone(dt.UTC)
    except RenewalFormatError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError, IndexError) as exc:
        raise RenewalFormatError(f"jeton d'horodatage illisible : {exc}") from exc
    return TokenFacts(
        gen_time=gen_time,
        imprint_algorithm=imprint,
        algorithms=frozenset({imprint, family, f"{digest}-{family}", f"{family}-{bits}"}),
        tsa_not_after=not_after,
        tsa_subject=cert.subject.human_friendly,
    )


def openssl_ts_verify_file_command(
    *, data: str, token: str, ca_file: str, untrusted: str, attime: int | None
) -> list[str]:
    command = [
        "openssl", "ts", "-verify", "-data", data, "-in", token,
        "-CAfile", ca_file, "-untrusted", untrusted,
    ]  # fmt: skip
    if attime is not None:
        command += ["-attime", str(attime)]
    return command


RENEWALS_VERIFY_TEMPLATE = """\
# Renouvellements de l'horodatage du lot `{bag}` / Timestamp renewals of bundle `{bag}`

## Français

Le lot `{bag}.zip` est scellé et horodaté une fois pour toutes ; son jeton d'horodatage
(`tagmanifest-sha256.txt.tsr`) ne se vérifie qu'avec le certificat de l'autorité d'horodatage
(TSA), qui expire, et des algorithmes (SHA-256, ECDSA, RSA) qui s'affaibliront un jour. Ce
dossier prolonge la preuve, dans l'esprit de la RFC 4998 (Evidence Record Syntax) : chaque
renouvellement `renewal-<n>.txt` liste les empreintes du tag manifest du lot, de son jeton, de
son cachet et de tous les renouvellements précédents (fichiers, jetons, certificats), puis est
horodaté par l'autorité en service ce jour-là (`renewal-<n>.txt.tsr`, certificats
`renewal-<n>-tsa.pem` et `renewal-<n>-tsa-ca.pem`). Chaque renouvellement est fait avant que le
certificat du jeton précédent n'expire : la chaîne prouve que le lot existait à la date du
premier horodatage, même une fois ce certificat expiré.

Vérification avec `openssl` et `sha256sum` seulement, depuis le dossier qui contient `{bag}/`
(le lot décompressé) et `{bag}.renewals/` :

```sh
unzip {bag}.zip                      # crée {bag}/
R={bag}.renewals
# 1. les empreintes de chaque renouvellement (SHA-512 aussi s'il y en a)
grep '^SHA256 (' $R/renewal-1.txt | sha256sum -c
grep '^SHA512 (' $R/renewal-1.txt | sha512sum -c     # si présent
# 2. le jeton du lot était valide à l'instant du renouvellement 1 (T1 = son genTime)
T1=$(date -u -d "$(openssl ts -reply -in $R/renewal-1.txt.tsr -text | sed -n 's/^Time stamp: //p')" +%s)
openssl ts -verify -data {bag}/tagmanifest-sha256.txt -in {bag}/tagmanifest-sha256.txt.tsr \\
        -CAfile {bag}/certs/tsa-ca.pem -untrusted {bag}/certs/tsa.pem -attime $T1
# 3. le jeton du renouvellement 1, à l'instant du renouvellement 2 (ou aujourd'hui s'il est le
#    dernier : sans -attime)
openssl ts -verify -data $R/renewal-1.txt -in $R/renewal-1.txt.tsr \\
        -CAfile $R/renewal-1-tsa-ca.pem -untrusted $R/renewal-1-tsa.pem [-attime $T2]
```

Et ainsi de suite pour `renewal-2.txt`, etc. Chaque `renewal-<n>.txt` doit lister les fichiers
signés du lot et tous les fichiers des renouvellements précédents. Le script
`verify-bundle.sh` d'Égide fait tous ces contrôles (`verify-bundle.sh {bag}.zip {bag}.renewals`).

## English

The bundle `{bag}.zip` is sealed and time-stamped once; its token only verifies with the TSA
certificate, which expires, and with algorithms that will weaken. This folder extends the proof
in the spirit of RFC 4998: each `renewal-<n>.txt` lists the hashes of the bundle's tag manifest,
token and seal and of every earlier renewal file, token and certificate, and is time-stamped by
the TSA in service that day. Each renewal is made before the previous token's certificate
expires. Check it with openssl and sha256sum only, from the folder holding `{bag}/` (unzipped)
and `{bag}.renewals/`: the commands above, step 1 (hashes), step 2 (the bundle's token at the
genTime of renewal 1), step 3 (each renewal's token at the genTime of the next one, the last
one at the current time).
"""


def renewals_verify_md(*, bag: str) -> str:
    return RENEWALS_VERIFY_TEMPLATE.replace("{bag}", bag)
