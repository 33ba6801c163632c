"""A local RFC 3161 time-stamp authority over HTTP, for development and tests.

Why this exists: EVIDENCE.md makes the TSA a setting — a qualified eIDAS TSA in production, a
local one in development and tests, where no public TSA may be reached. This server speaks the
real protocol (POST ``application/timestamp-query`` → ``application/timestamp-reply``), so the
client, the bundle builder and ``openssl ts -verify`` are exercised exactly as in production.

Run it standalone::

    python -m evidence.tsa_server --host 127.0.0.1 --port 3180 --dir var/tsa

or in-process from tests with :class:`TsaServer`. ``behaviour`` makes it misbehave on purpose
(refuse, fail with HTTP 500, answer with a wrong nonce or imprint) and ``clock`` lets a test
issue tokens at a chosen time (e.g. inside the validity of an already-expired certificate).
"""

from __future__ import annotations

import argparse
import datetime as dt
import enum
import hashlib
import http.server
import os
import signal
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import algos, cms, tsp, x509

from evidence.pki import TsaPki, tsa_pki_generate
from evidence.seal import SignerMaterial, signer_info_build, signer_material_load
from evidence.timestamp import TimeStampResp

# Policy under which this local TSA issues tokens: a UUID-based OID (ITU-T X.667, arc 2.25),
# which needs no registration and cannot collide with a real TSA's policy.
LOCAL_TSA_POLICY_OID = "2.25.171513032888283933890743068470105805435"

# Hash algorithms accepted in a request's message imprint, with their digest sizes.
ACCEPTED_IMPRINT_ALGORITHMS: dict[str, int] = {"sha256": 32, "sha384": 48, "sha512": 64}

MAX_REQUEST_BYTES = 64 * 1024
QUERY_CONTENT_TYPE = "application/timestamp-query"
REPLY_CONTENT_TYPE = "application/timestamp-reply"

# File names of the key material kept in --dir.
PKI_FILES: dict[str, str] = {
    "ca_cert_pem": "tsa-ca.pem",
    "ca_key_pem": "tsa-ca.key",
    "cert_pem": "tsa.pem",
    "key_pem": "tsa.key",
}
_KEY_FIELDS = frozenset({"ca_key_pem", "key_pem"})


class TsaBehaviour(enum.Enum):
    """How the server answers; everything but GRANT exists for failure tests."""

    GRANT = "grant"
    REJECT = "reject"  # PKIStatus rejection / systemFailure, no token
    HTTP_ERROR = "http_error"  # HTTP 500 with a text body
    WRONG_NONCE = "wrong_nonce"  # a valid token carrying another nonce
    WRONG_IMPRINT = "wrong_imprint"  # a valid token over another hash


@dataclass(frozen=True)
class _Refusal:
    fail_info: str
    text: str


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _resp_refused(refusal: _Refusal) -> bytes:
    return TimeStampResp(
        {
            "status": {
                "status": "rejection",
                "status_string": [refusal.text],
                "fail_info": tsp.PKIFailureInfo({refusal.fail_info}),
            }
        }
    ).dump()


def _request_check(request: tsp.TimeStampReq) -> _Refusal | None:
    """Refusals required by RFC 3161 §2.4.1, as data-driven checks."""
    imprint = request["message_imprint"]
    algorithm = imprint["hash_algorithm"]["algorithm"].native
    if algorithm not in ACCEPTED_IMPRINT_ALGORITHMS:
        return _Refusal("bad_alg", f"unsupported hash algorithm {algorithm}")
    if len(imprint["hashed_message"].native) != ACCEPTED_IMPRINT_ALGORITHMS[algorithm]:
        return _Refusal("bad_data_format", "message imprint has the wrong length")
    policy = request["req_policy"].dotted if request["req_policy"].native is not None else None
    if policy is not None and policy != LOCAL_TSA_POLICY_OID:
        return _Refusal("unaccepted_policy", f"policy {policy} is not offered")
    if request["extensions"].native:
        return _Refusal("unaccepted_extensions", "request extensions are not supported")
    return None


def tsa_reply_build(
    *,
    request_der: bytes,
    material: SignerMaterial,
    gen_time: dt.datetime,
    behaviour: TsaBehaviour = TsaBehaviour.GRANT,
) -> bytes:
    """Answer one DER TimeStampReq with a DER TimeStampResp (never raises on bad input)."""
    try:
        request = tsp.TimeStampReq.load(request_der, strict=True)
        request.native  # noqa: B018 - forces a full parse so malformed requests are refused here
    except (ValueError, TypeError):
        return _resp_refused(_Refusal("bad_data_format", "request is not a DER TimeStampReq"))
    if behaviour is TsaBehaviour.REJECT:
        return _resp_refused(_Refusal("system_failure", "refused on purpose (test behaviour)"))
    refusal = _request_check(request)
    if refusal is not None:
        return _resp_refused(refusal)

    imprint = request["message_imprint"]
    hashed = imprint["hashed_message"].native
    if behaviour is TsaBehaviour.WRONG_IMPRINT:
        hashed = hashlib.new(imprint["hash_algorithm"]["algorithm"].native, hashed).digest()
    tst_fields: dict[str, object] = {
        "version": "v1",
        "policy": LOCAL_TSA_POLICY_OID,
        "message_imprint": {
            "hash_algorithm": {"algorithm": imprint["hash_algorithm"]["algorithm"].native},
            "hashed_message": hashed,
        },
        "serial_number": uuid.uuid4().int,
        "gen_time": gen_time.astimezone(dt.UTC).replace(microsecond=0),
        "accuracy": {"seconds": 1},
        "tsa": x509.GeneralName(name="directory_name", value=material.cert.subject),
    }
    nonce = request["nonce"].native
    if nonce is not None:
        tst_fields["nonce"] = nonce + 1 if behaviour is TsaBehaviour.WRONG_NONCE else nonce
    tst_info = tsp.TSTInfo(tst_fields)
    tst_der = tst_info.dump()

    signer_info = signer_info_build(
        material=material,
        content_type="tst_info",
        content_digest=hashlib.sha256(tst_der).digest(),
        signing_time=None,
    )
    signed_data: dict[str, object] = {
        "version": "v3",  # RFC 5652 §5.1: eContentType other than id-data
        "digest_algorithms": [algos.DigestAlgorithm({"algorithm": "sha256"})],
        "encap_content_info": {"content_type": "tst_info", "content": tst_info},
        "signer_infos": [signer_info],
    }
    if request["cert_req"].native:
        signed_data["certificates"] = [
            cms.CertificateChoices(name="certificate", value=material.cert)
        ]
    token = cms.ContentInfo({"content_type": "signed_data", "content": signed_data})
    return TimeStampResp({"status": {"status": "granted"}, "time_stamp_token": token}).dump()


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _TsaHttpServer
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802 - http.server API
        if self.server.stopped:
            # A client's keep-alive connection outlived stop(): the TSA is down for it too.
            self.close_connection = True
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        if length <= 0 or length > MAX_REQUEST_BYTES:
            self._send(400, "text/plain; charset=utf-8", b"bad request length\n")
            return
        body = self.rfile.read(length)
        tsa: TsaServer = self.server.tsa
        if tsa.behaviour is TsaBehaviour.HTTP_ERROR:
            self._send(500, "text/plain; charset=utf-8", b"internal error (test behaviour)\n")
            return
        if self.headers.get_content_type() != QUERY_CONTENT_TYPE:
            self._send(415, "text/plain; charset=utf-8", b"expected application/timestamp-query\n")
            return
        reply = tsa_reply_build(
            request_der=body,
            material=tsa.material,
            gen_time=tsa.clock(),
            behaviour=tsa.behaviour,
        )
        tsa.requests_served += 1
        self._send(200, REPLY_CONTENT_TYPE, reply)

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        self._send(405, "text/plain; charset=utf-8", b"POST an RFC 3161 request\n")

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        if self.server.tsa.verbose:
            super().log_message(format, *args)


class _TsaHttpServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    tsa: TsaServer
    stopped = False


class TsaServer:
    """An RFC 3161 TSA on a local port, startable from tests or from the command line."""

    def __init__(
        self,
        *,
        pki: TsaPki,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], dt.datetime] = _utc_now,
        behaviour: TsaBehaviour = TsaBehaviour.GRANT,
        verbose: bool = False,
    ) -> None:
        self.pki = pki
        self.material = signer_material_load(key_pem=pki.key_pem, cert_pem=pki.cert_pem)
        self.host = host
        self.port = port
        self.clock = clock
        self.behaviour = behaviour
        self.verbose = verbose
        self.requests_served = 0
        self._httpd: _TsaHttpServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    def start(self) -> TsaServer:
        if self._httpd is not None:
            raise RuntimeError("TSA server already started")
        httpd = _TsaHttpServer((self.host, self.port), _Handler)
        httpd.tsa = self
        self.port = httpd.server_address[1]
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, name=f"tsa-{self.port}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening; the URL then refuses connections (the "TSA down" case)."""
        if self._httpd is None:
            return
        self._httpd.stopped = True
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> TsaServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def tsa_pki_load_or_create(*, directory: Path, common_name: str = "Egide TSA locale") -> TsaPki:
    """Load the TSA key material from ``directory``, generating it on first use.

    Private keys are written owner-readable only.
    """
    directory.mkdir(parents=True, exist_ok=True)
    paths = {field: directory / name for field, name in PKI_FILES.items()}
    present = [path.exists() for path in paths.values()]
    if all(present):
        return TsaPki(**{field: path.read_bytes() for field, path in paths.items()})
    if any(present):
        raise FileExistsError(f"{directory} holds incomplete TSA key material; remove it or fix it")
    pki = tsa_pki_generate(common_name=common_name)
    for field, path in paths.items():
        mode = 0o600 if field in _KEY_FIELDS else 0o644
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(getattr(pki, field))
    return pki


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Local RFC 3161 time-stamp authority")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3180)
    parser.add_argument("--dir", type=Path, required=True, help="holds/creates key and certs")
    parser.add_argument("--common-name", default="Egide TSA locale")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)

    pki = tsa_pki_load_or_create(directory=args.dir, common_name=args.common_name)
    server = TsaServer(pki=pki, host=args.host, port=args.port, verbose=args.verbose).start()
    print(f"TSA listening on {server.url} (certs in {args.dir})", flush=True)

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    while not stop.wait(1.0):
        pass
    server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
