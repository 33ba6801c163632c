"""Turn a directory of captured artefacts into a sealed, timestamped BagIt evidence bundle.

Why this exists: EVIDENCE.md promises a commissaire de justice a ZIP they can verify offline
with standard tools only (bagit, openssl, wacz, warcio). This module writes exactly that layout
and refuses to produce anything less ("fail closed"): if the timestamp or the seal cannot be
obtained, or the finished bag does not pass the very checks the verifier will run, it raises
and leaves no ZIP behind.

Coverage decision (what detects tampering with which file):

- ``data/**``                        → ``manifest-sha256.txt`` (bagit, sha256sum -c)
- ``bagit.txt``, ``bag-info.txt``,
  ``manifest-sha256.txt``, ``VERIFY.md``,
  ``certs/*.pem``                    → ``tagmanifest-sha256.txt`` (bagit checks every tag file
                                        listed there; EVIDENCE.md's three are a subset)
- ``tagmanifest-sha256.txt``         → the timestamp (``.tsr``) and the seal (``.p7s``)
- ``.tsr`` / ``.p7s``                → ``openssl ts -verify`` / ``openssl cms -verify`` (they cannot
                                        be listed in the manifest they sign)

Because ``VERIFY.md`` is covered by the tag manifest, it cannot contain the timestamp's genTime
(known only after the tag manifest is timestamped); it shows how to read genTime from the token.

The bag is written by hand rather than with ``bagit.make_bag``, which ``os.chdir``s (process-wide,
unsafe in threaded workers) and only tag-manifests what it finds; the finished bag is then
validated with the ``bagit`` library itself.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import bagit

from evidence.seal import seal_sign
from evidence.timestamp import timestamp_request

BAGIT_TXT = "bagit.txt"
BAG_INFO_TXT = "bag-info.txt"
MANIFEST = "manifest-sha256.txt"
TAGMANIFEST = "tagmanifest-sha256.txt"
TIMESTAMP_FILE = "tagmanifest-sha256.txt.tsr"
SEAL_FILE = "tagmanifest-sha256.txt.p7s"
VERIFY_MD = "VERIFY.md"
CERT_FILES: dict[str, str] = {
    "tsa_ca": "certs/tsa-ca.pem",
    "tsa": "certs/tsa.pem",
    "seal_ca": "certs/seal-ca.pem",
    "seal": "certs/seal.pem",
}
WACZ_PAYLOAD = "data/capture.wacz"
# Payload files without which the bundle cannot pass verification.
REQUIRED_PAYLOAD: tuple[str, ...] = (WACZ_PAYLOAD,)
# Tag files covered by the tag manifest, in the order they are listed.
TAGMANIFEST_COVERS: tuple[str, ...] = (
    BAGIT_TXT,
    BAG_INFO_TXT,
    MANIFEST,
    VERIFY_MD,
    *CERT_FILES.values(),
)
SIGNATURE_FILES: tuple[str, ...] = (TIMESTAMP_FILE, SEAL_FILE)

BAGIT_TXT_CONTENT = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
BAG_SOFTWARE_AGENT = f"Egide evidence bundler (bagit.py {bagit.VERSION} compatible)"
# bag-info.txt fields the builder computes; a caller may not supply them.
COMPUTED_BAG_INFO = frozenset({"External-Identifier", "Bagging-Date", "Payload-Oxum", "Bag-Size"})
REQUIRED_BAG_INFO = frozenset({"Source-Organization"})

CAPTURE_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
# Characters refused in payload file names: bagit.py only decodes %0D/%0A, so '%' and line
# breaks would make a manifest ambiguous.
_UNSAFE_NAME_CHARS = frozenset("%\r\n\\")
# Already-compressed payloads are STORED in the ZIP, the rest DEFLATED.
_STORED_SUFFIXES = frozenset({".wacz", ".zip", ".png", ".jpg", ".jpeg", ".pdf", ".gz", ".webp"})

OPENSSL_TIMEOUT_SECONDS = 30.0
_NO_HARDLINK_ERRNOS = frozenset({errno.EPERM, errno.EXDEV, errno.ENOTSUP, errno.EOPNOTSUPP})
_HASH_BLOCK = 1024 * 1024


class BundleError(Exception):
    """The bundle could not be built; no ZIP was written."""


@dataclass(frozen=True)
class BundleResult:
    """What the caller stores about a finished bundle."""

    zip_path: Path
    zip_sha256: str
    tagmanifest_sha256: str
    gen_time: dt.datetime
    timestamp_serial: int
    file_sha256: dict[str, str]  # bag-relative path → hex digest, every file of the bag


def bag_dir_name(*, capture_id: str) -> str:
    return f"evidence-{capture_id}"


def openssl_ts_verify_command(*, bag_dir: Path, attime: int | None) -> list[str]:
    """``openssl ts -verify`` exactly as EVIDENCE.md writes it (plus ``-attime`` if given)."""
    command = [
        "openssl", "ts", "-verify",
        "-data", str(bag_dir / TAGMANIFEST),
        "-in", str(bag_dir / TIMESTAMP_FILE),
        "-CAfile", str(bag_dir / CERT_FILES["tsa_ca"]),
        "-untrusted", str(bag_dir / CERT_FILES["tsa"]),
    ]  # fmt: skip
    if attime is not None:
        command += ["-attime", str(attime)]
    return command


def openssl_cms_verify_command(*, bag_dir: Path) -> list[str]:
    """``openssl cms -verify`` exactly as EVIDENCE.md writes it."""
    return [
        "openssl", "cms", "-verify", "-binary", "-inform", "DER",
        "-in", str(bag_dir / SEAL_FILE),
        "-content", str(bag_dir / TAGMANIFEST),
        "-CAfile", str(bag_dir / CERT_FILES["seal_ca"]),
        "-purpose", "any", "-out", os.devnull,
    ]  # fmt: skip


def command_run(*, command: list[str], timeout: float) -> tuple[bool, str]:
    """Run a fixed verification tool; return (succeeded, last lines of its output)."""
    try:
        result = subprocess.run(  # noqa: S603 - fixed tools, argument list
            command, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return False, f"{command[0]} n'a pas répondu en {timeout} s"
    except OSError as exc:
        return False, f"{command[0]} introuvable ou non exécutable : {exc}"
    output = " ".join((result.stdout + result.stderr).strip().splitlines()[-3:])
    return result.returncode == 0, output


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _payload_copy(*, data_dir: Path, target: Path) -> list[str]:
    """Copy ``data_dir`` to ``target`` and return the sorted bag-relative payload paths."""
    if not data_dir.is_dir():
        raise BundleError(f"dossier de données introuvable : {data_dir}")
    relative: list[str] = []
    for root, dirs, files in os.walk(data_dir):
        dirs.sort()
        for name in [*dirs, *files]:
            path = Path(root) / name
            if path.is_symlink():
                raise BundleError(f"lien symbolique refusé dans les données : {path}")
            if _UNSAFE_NAME_CHARS & set(name):
                raise BundleError(f"nom de fichier refusé (%, \\, retour à la ligne) : {name!r}")
        for name in sorted(files):
            relative.append((Path(root) / name).relative_to(data_dir).as_posix())
    for required in REQUIRED_PAYLOAD:
        if required.removeprefix("data/") not in relative:
            raise BundleError(f"fichier obligatoire absent des données : {required}")
    shutil.copytree(data_dir, target, symlinks=False)
    return sorted(f"data/{path}" for path in relative)


def _manifest_text(*, bag_root: Path, paths: list[str]) -> tuple[str, dict[str, str]]:
    # Two spaces between hash and path: the format both bagit and `sha256sum -c` read.
    digests = {path: file_sha256(bag_root / path) for path in paths}
    return "".join(f"{digests[path]}  {path}\n" for path in paths), digests


def _bag_info_text(
    *, bag_info: dict[str, str], capture_id: str, payload_bytes: int, payload_files: int
) -> str:
    missing = REQUIRED_BAG_INFO - bag_info.keys()
    if missing:
        raise BundleError(f"bag-info incomplet, manque : {', '.join(sorted(missing))}")
    clashes = COMPUTED_BAG_INFO & bag_info.keys()
    if clashes:
        raise BundleError(f"champs bag-info calculés, à ne pas fournir : {sorted(clashes)}")
    fields = dict(bag_info)
    fields["External-Identifier"] = capture_id
    fields["Bagging-Date"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
    fields["Payload-Oxum"] = f"{payload_bytes}.{payload_files}"
    fields["Bag-Size"] = _human_size(payload_bytes)
    fields.setdefault("Bag-Software-Agent", BAG_SOFTWARE_AGENT)
    lines = []
    for key, value in fields.items():
        if not key or ":" in key or any(c in key + value for c in "\r\n"):
            raise BundleError(f"champ bag-info invalide : {key!r}")
        lines.append(f"{key}: {value}\n")
    return "".join(lines)


def _human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.1f} {unit}" if unit != "B" else f"{size} B"
        value /= 1024
    raise AssertionError("unreachable")


def verify_md_default(*, capture_id: str) -> str:
    """Verification instructions, French then English, with EVIDENCE.md's exact commands."""
    return VERIFY_MD_TEMPLATE.replace("{bag}", bag_dir_name(capture_id=capture_id))


VERIFY_MD_TEMPLATE = """\
# Vérification du lot de preuve `{bag}` / Verifying evidence bundle `{bag}`

## Français

Ce dossier est un sac BagIt (RFC 8493). Chaque fichier se vérifie hors ligne avec des outils
standard, sans faire confiance à Égide : `unzip`, `openssl` (1.1 ou plus récent) et Python 3
avec les paquets PyPI `bagit`, `wacz` et `warcio` (`pip install bagit wacz warcio`).

Ce que chaque fichier prouve, et ce qui le contrôle :

- `data/…` — la capture (WACZ, captures d'écran, HTML, texte, PDF, provenance) ;
  contrôlé par `manifest-sha256.txt`.
- `bagit.txt`, `bag-info.txt`, `manifest-sha256.txt`, `VERIFY.md`, `certs/*.pem` — description
  du sac, empreintes, ce guide, certificats ; contrôlés par `tagmanifest-sha256.txt`.
- `tagmanifest-sha256.txt` — empreintes SHA-256 des fichiers ci-dessus ; contrôlé par
  l'horodatage et par le cachet.
- `tagmanifest-sha256.txt.tsr` — jeton d'horodatage RFC 3161 ; `openssl ts -verify`.
- `tagmanifest-sha256.txt.p7s` — cachet électronique CMS (CAdES-BES) ; `openssl cms -verify`.

```sh
unzip evidence-<id>.zip && cd evidence-<id>
bagit.py --validate .                        # PyPI « bagit » : chaque fichier = son manifeste
openssl ts -verify -data tagmanifest-sha256.txt -in tagmanifest-sha256.txt.tsr \\
        -CAfile certs/tsa-ca.pem -untrusted certs/tsa.pem
openssl cms -verify -binary -inform DER -in tagmanifest-sha256.txt.p7s \\
        -content tagmanifest-sha256.txt -CAfile certs/seal-ca.pem -purpose any -out /dev/null
wacz validate -f data/capture.wacz           # PyPI « wacz »
```

1. `bagit.py --validate .` (ou `python3 -m bagit --validate .`) recalcule l'empreinte SHA-256
   de chaque fichier listé. `sha256sum -c manifest-sha256.txt` et
   `sha256sum -c tagmanifest-sha256.txt` donnent le même résultat.
2. `openssl ts -verify` prouve que `tagmanifest-sha256.txt` — donc tout le sac — existait sous
   cette forme à l'instant indiqué par l'autorité d'horodatage (genTime). Pour lire cet
   instant : `openssl ts -reply -in tagmanifest-sha256.txt.tsr -text` (ligne « Time stamp »).
3. `openssl cms -verify` prouve que l'assureur (ou la plateforme) nommé dans
   `certs/seal.pem` a scellé ce même fichier.
4. `wacz validate -f data/capture.wacz` contrôle l'archive web ; pour contrôler aussi chaque
   WARC qu'elle contient :

   ```sh
   mkdir /tmp/wacz && unzip -q data/capture.wacz -d /tmp/wacz
   warcio check /tmp/wacz/archive/*.warc*
   ```

### Certificat de l'autorité d'horodatage expiré : `-attime`

Le certificat d'une autorité d'horodatage a une durée de validité limitée. Une fois expiré,
`openssl ts -verify` échoue (« certificate has expired ») alors que le jeton est intact : par
défaut OpenSSL vérifie la chaîne de certificats à la date du jour. Ce qui compte est que le
certificat était valide **au moment de l'horodatage** ; on demande donc à OpenSSL de vérifier
la chaîne à l'instant genTime, exprimé en secondes depuis le 1er janvier 1970 (UTC) :

```sh
GENTIME=$(openssl ts -reply -in tagmanifest-sha256.txt.tsr -text | sed -n 's/^Time stamp: //p')
openssl ts -verify -data tagmanifest-sha256.txt -in tagmanifest-sha256.txt.tsr \\
        -CAfile certs/tsa-ca.pem -untrusted certs/tsa.pem -attime "$(date -u -d "$GENTIME" +%s)"
```

(`date -d` est celui de GNU coreutils ; sur macOS, utiliser `gdate`.) L'instant genTime n'est
pas recopié dans ce fichier : `VERIFY.md` fait partie de ce qui est horodaté, il est donc écrit
avant que genTime n'existe. genTime se lit dans le jeton lui-même, qui est signé par
l'autorité d'horodatage.

### Renouvellements de l'horodatage

Avant que le certificat de l'autorité d'horodatage n'expire (ou qu'un algorithme ne
s'affaiblisse), Égide renouvelle l'horodatage sans modifier ce lot : un dossier
`{bag}.renewals/`, remis à côté de `{bag}.zip`, contient des fichiers `renewal-<n>.txt`
(empreintes de ce lot et des renouvellements précédents) horodatés à nouveau. Son propre
`VERIFY.md` explique comment le vérifier avec `openssl` et `sha256sum`.

## English

This folder is a BagIt bag (RFC 8493). Every file can be checked offline with standard tools,
without trusting Égide: `unzip`, `openssl` (1.1 or later) and Python 3 with the PyPI packages
`bagit`, `wacz` and `warcio` (`pip install bagit wacz warcio`).

What each file proves, and what checks it:

- `data/…` — the capture (WACZ, screenshots, HTML, text, PDF, provenance); checked by
  `manifest-sha256.txt`.
- `bagit.txt`, `bag-info.txt`, `manifest-sha256.txt`, `VERIFY.md`, `certs/*.pem` — bag
  description, hashes, this guide, certificates; checked by `tagmanifest-sha256.txt`.
- `tagmanifest-sha256.txt` — SHA-256 hashes of the files above; checked by the timestamp and
  the seal.
- `tagmanifest-sha256.txt.tsr` — RFC 3161 timestamp token; `openssl ts -verify`.
- `tagmanifest-sha256.txt.p7s` — CMS (CAdES-BES) electronic seal; `openssl cms -verify`.

```sh
unzip evidence-<id>.zip && cd evidence-<id>
bagit.py --validate .                        # PyPI "bagit": every file matches its manifest
openssl ts -verify -data tagmanifest-sha256.txt -in tagmanifest-sha256.txt.tsr \\
        -CAfile certs/tsa-ca.pem -untrusted certs/tsa.pem
openssl cms -verify -binary -inform DER -in tagmanifest-sha256.txt.p7s \\
        -content tagmanifest-sha256.txt -CAfile certs/seal-ca.pem -purpose any -out /dev/null
wacz validate -f data/capture.wacz           # PyPI "wacz"
```

1. `bagit.py --validate .` (or `python3 -m bagit --validate .`) recomputes the SHA-256 hash of
   every listed file; `sha256sum -c manifest-sha256.txt` and
   `sha256sum -c tagmanifest-sha256.txt` give the same answer.
2. `openssl ts -verify` proves that `tagmanifest-sha256.txt` — hence the whole bag — existed in
   this exact form at the time stated by the timestamp authority (genTime). To read it:
   `openssl ts -reply -in tagmanifest-sha256.txt.tsr -text` ("Time stamp" line).
3. `openssl cms -verify` proves that the insurer (or platform) named in `certs/seal.pem`
   sealed that same file.
4. `wacz validate -f data/capture.wacz` checks the web archive; to check each WARC inside it
   too: `mkdir /tmp/wacz && unzip -q data/capture.wacz -d /tmp/wacz` then
   `warcio check /tmp/wacz/archive/*.warc*`.

### Expired timestamp authority certificate: `-attime`

A timestamp authority's certificate expires. After that, `openssl ts -verify` fails
("certificate has expired") although the token is intact, because OpenSSL checks the chain
against the current date by default. What matters is that the certificate was valid **when
the timestamp was issued**, so ask OpenSSL to check the chain at genTime, in seconds since
1 January 1970 UTC:

```sh
GENTIME=$(openssl ts -reply -in tagmanifest-sha256.txt.tsr -text | sed -n 's/^Time stamp: //p')
openssl ts -verify -data tagmanifest-sha256.txt -in tagmanifest-sha256.txt.tsr \\
        -CAfile certs/tsa-ca.pem -untrusted certs/tsa.pem -attime "$(date -u -d "$GENTIME" +%s)"
```

(`date -d` is GNU coreutils'; use `gdate` on macOS.) genTime is not copied into this file:
`VERIFY.md` is part of what is timestamped, so it is written before genTime exists; genTime is
read from the token itself, which the timestamp authority signed.

### Timestamp renewals

Before the timestamp authority's certificate expires (or an algorithm weakens), Égide renews the
timestamp without changing this bundle: a folder `{bag}.renewals/`, delivered next to
`{bag}.zip`, holds `renewal-<n>.txt` files (hashes of this bundle and of earlier renewals),
each time-stamped again. Its own `VERIFY.md` explains how to check it with `openssl` and
`sha256sum`.
"""


def _zip_write(*, bag_root: Path, order: list[str], target: Path, when: dt.datetime) -> None:
    date_time = when.astimezone(dt.UTC).timetuple()[:6]
    with zipfile.ZipFile(target, "x", allowZip64=True) as archive:
        for relative in order:
            info = zipfile.ZipInfo(f"{bag_root.name}/{relative}", date_time=date_time)
            info.external_attr = 0o644 << 16
            stored = Path(relative).suffix.lower() in _STORED_SUFFIXES
            info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            with (bag_root / relative).open("rb") as src, archive.open(info, "w") as dst:
                shutil.copyfileobj(src, dst, _HASH_BLOCK)


def _self_check(*, bag_root: Path, gen_time: dt.datetime) -> None:
    """Run the checks a verifier will run; a bundle that fails them is never written."""
    try:
        bagit.Bag(str(bag_root)).validate(processes=1)
    except bagit.BagError as exc:
        raise BundleError(f"le sac ne passe pas bagit : {exc}") from exc
    checks = {
        "horodatage": openssl_ts_verify_command(bag_dir=bag_root, attime=int(gen_time.timestamp())),
        "cachet": openssl_cms_verify_command(bag_dir=bag_root),
    }
    for name, command in checks.items():
        ok, output = command_run(command=command, timeout=OPENSSL_TIMEOUT_SECONDS)
        if not ok:
            raise BundleError(f"contrôle {name} en échec avant emballage : {output}")


def _publish(*, partial: Path, final: Path) -> None:
    """Move the finished ZIP into place without ever replacing an existing bundle."""
    try:
        os.link(partial, final)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in _NO_HARDLINK_ERRNOS:
            raise
        # File systems without hard links: check-then-rename, atomic but not race-proof.
        if final.exists():
            raise FileExistsError(f"le lot de preuve existe déjà : {final}") from exc
        os.replace(partial, final)


def _tag_files_write(
    *,
    bag_root: Path,
    payload: list[str],
    manifest: str,
    capture_id: str,
    bag_info: dict[str, str],
    verify_md: str | None,
    certs: dict[str, bytes],
) -> tuple[bytes, dict[str, str]]:
    """Write the tag files (bagit.txt, bag-info.txt, manifest, VERIFY.md, certificates) and
    the tag manifest over them; return the tag manifest's bytes and the tag files' SHA-256."""
    payload_bytes = sum((bag_root / path).stat().st_size for path in payload)
    tag_contents: dict[str, bytes] = {
        BAGIT_TXT: BAGIT_TXT_CONTENT.encode(),
        BAG_INFO_TXT: _bag_info_text(
            bag_info=bag_info,
            capture_id=capture_id,
            payload_bytes=payload_bytes,
            payload_files=len(payload),
        ).encode(),
        MANIFEST: manifest.encode(),
        VERIFY_MD: (verify_md or verify_md_default(capture_id=capture_id)).encode(),
        **{CERT_FILES[role]: certs[role] for role in ("tsa_ca", "tsa", "seal_ca", "seal")},
    }
    (bag_root / "certs").mkdir()
    for relative, content in tag_contents.items():
        (bag_root / relative).write_bytes(content)
    tagmanifest, tag_digests = _manifest_text(bag_root=bag_root, paths=list(TAGMANIFEST_COVERS))
    tagmanifest_bytes = tagmanifest.encode()
    (bag_root / TAGMANIFEST).write_bytes(tagmanifest_bytes)
    return tagmanifest_bytes, tag_digests


def bundle_build(
    *,
    capture_id: str,
    data_dir: Path,
    out_dir: Path,
    bag_info: dict[str, str],
    tsa_url: str,
    tsa_chain_pem: bytes,
    tsa_ca_pem: bytes,
    seal_key_pem: bytes,
    seal_cert_pem: bytes,
    seal_ca_pem: bytes,
    verify_md: str | None = None,
    timeout: float = 30,
) -> BundleResult:
    """Build ``out_dir/evidence-<capture_id>.zip`` from the artefacts in ``data_dir``.

    ``tsa_chain_pem`` is the TSA's signing certificate (plus intermediates, if any) and
    ``tsa_ca_pem`` its trust anchor; ``verify_md`` replaces the default VERIFY.md text.
    Raises (``BundleError``, ``TimestampError``, ``SealError``…) and writes nothing on failure.
    Bundles are write-once: an existing ZIP for the same capture is an error.
    """
    if not CAPTURE_ID_PATTERN.match(capture_id):
        raise BundleError(f"identifiant de capture invalide : {capture_id!r}")
    out_dir.mkdir(parents=True, exist_ok=True)
    bag_name = bag_dir_name(capture_id=capture_id)
    zip_path = out_dir / f"{bag_name}.zip"
    if zip_path.exists():
        raise FileExistsError(f"le lot de preuve existe déjà : {zip_path}")

    with tempfile.TemporaryDirectory(dir=out_dir, prefix=f".{bag_name}-") as staging:
        bag_root = Path(staging) / bag_name
        bag_root.mkdir()
        payload = _payload_copy(data_dir=data_dir, target=bag_root / "data")
        manifest, digests = _manifest_text(bag_root=bag_root, paths=payload)
        tagmanifest_bytes, tag_digests = _tag_files_write(
            bag_root=bag_root,
            payload=payload,
            manifest=manifest,
            capture_id=capture_id,
            bag_info=bag_info,
            verify_md=verify_md,
            certs={
                "tsa_ca": tsa_ca_pem,
                "tsa": tsa_chain_pem,
                "seal_ca": seal_ca_pem,
                "seal": seal_cert_pem,
            },
        )

        # Seal first: a seal misconfiguration must not spend a (billed) qualified timestamp.
        seal_der = seal_sign(data=tagmanifest_bytes, key_pem=seal_key_pem, cert_pem=seal_cert_pem)
        token = timestamp_request(data=tagmanifest_bytes, tsa_url=tsa_url, timeout=timeout)
        (bag_root / SEAL_FILE).write_bytes(seal_der)
        (bag_root / TIMESTAMP_FILE).write_bytes(token.response_der)

        _self_check(bag_root=bag_root, gen_time=token.gen_time)

        order = [*TAGMANIFEST_COVERS[:3], TAGMANIFEST, *SIGNATURE_FILES, *TAGMANIFEST_COVERS[3:]]
        order += payload
        all_digests = {**digests, **tag_digests}
        all_digests[TAGMANIFEST] = hashlib.sha256(tagmanifest_bytes).hexdigest()
        for relative in SIGNATURE_FILES:
            all_digests[relative] = file_sha256(bag_root / relative)
        # Written inside the staging directory (same file system as out_dir), then hard-linked
        # into place: atomic, and never overwrites a bundle that appeared meanwhile.
        partial = Path(staging) / f"{bag_name}.zip"
        _zip_write(bag_root=bag_root, order=order, target=partial, when=token.gen_time)
        zip_sha256 = file_sha256(partial)
        _publish(partial=partial, final=zip_path)

    return BundleResult(
        zip_path=zip_path,
        zip_sha256=zip_sha256,
        tagmanifest_sha256=all_digests[TAGMANIFEST],
        gen_time=token.gen_time,
        timestamp_serial=token.serial_number,
        file_sha256={path: all_digests[path] for path in order},
    )
