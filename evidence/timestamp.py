"""RFC 3161 time-stamp client.

Why this exists: a bundle is complete only once a TSA has dated its tag manifest (EVIDENCE.md,
"fail closed"). The client therefore checks that the reply really answers *this* request — status
granted, same nonce, same message imprint, a signature that verifies with the certificate the
token names — and raises a distinct exception for each way it can go wrong, so that the caller
can retry when the TSA is unavailable and give up when it refuses.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets
import threading
from dataclasses import dataclass

import httpx
from asn1crypto import cms, core, tsp

from evidence.seal import CmsProfileError, cms_signed_data_check

QUERY_CONTENT_TYPE = "application/timestamp-query"
# Only a plain "granted": this client never asks for modifications, so "grantedWithMods" (an
# unsigned field) would only mean the stored reply was altered.
GRANTED_STATUSES = frozenset({"granted"})


class TimeStampResp(core.Sequence):
    """RFC 3161 TimeStampResp; asn1crypto's marks the token mandatory, a refusal has none."""

    _fields = [
        ("status", tsp.PKIStatusInfo),
        ("time_stamp_token", cms.ContentInfo, {"optional": True}),
    ]


class TimestampError(Exception):
    """Base class: no usable timestamp was obtained."""


class TimestampUnavailable(TimestampError):
    """The TSA could not be reached, timed out or failed (HTTP 5xx): worth retrying."""


class TimestampRefused(TimestampError):
    """The TSA answered but refused (PKIStatus not granted, or HTTP 4xx)."""


class TimestampMismatch(TimestampError):
    """The reply does not answer our request or does not verify (nonce, imprint, signature)."""


@dataclass(frozen=True)
class TimestampToken:
    """A granted, checked time-stamp reply."""

    response_der: bytes  # the full DER TimeStampResp, as stored in the .tsr file
    gen_time: dt.datetime  # timezone-aware UTC
    serial_number: int
    policy_oid: str
    tsa_cert_der: bytes  # the signing certificate, embedded in the token


def _request_der(*, digest: bytes, nonce: int, hash_algorithm: str = "sha256") -> bytes:
    return tsp.TimeStampReq(
        {
            "version": "v1",
            "message_imprint": {
                "hash_algorithm": {"algorithm": hash_algorithm},
                "hashed_message": digest,
            },
            "nonce": nonce,
            "cert_req": True,
        }
    ).dump()


_client_lock = threading.Lock()
_client: tuple[int, httpx.Client] | None = None


def _tsa_client() -> httpx.Client:
    """One HTTP client per process: its keep-alive connection to the TSA is reused from one
    bundle to the next (a new client after a fork: connections are not shared across
    processes)."""
    global _client
    with _client_lock:
        if _client is None or _client[0] != os.getpid():
            # trust_env=False: the TSA URL is a setting; an HTTP(S)_PROXY inherited from the
            # environment must not silently re-route (or, in tests, leak) the request.
            _client = (
                os.getpid(),
                httpx.Client(trust_env=False, follow_redirects=False),
            )
        return _client[1]


def _post(*, url: str, body: bytes, timeout: float) -> bytes:
    try:
        response = _tsa_client().post(
            url, content=body, headers={"Content-Type": QUERY_CONTENT_TYPE}, timeout=timeout
        )
    except httpx.HTTPError as exc:
        raise TimestampUnavailable(f"TSA injoignable ({url}) : {exc!r}") from exc
    if response.status_code >= 500:
        raise TimestampUnavailable(f"TSA en erreur : HTTP {response.status_code}")
    if response.status_code != 200:
        raise TimestampRefused(f"TSA a refusé la requête : HTTP {response.status_code}")
    return response.content


def timestamp_token_check(
    *, response_der: bytes, digest: bytes, nonce: int | None, hash_algorithm: str = "sha256"
) -> TimestampToken:
    """Check a DER TimeStampResp against the ``digest`` (and ``nonce``) it must answer.

    Also used by the verifier, with ``nonce=None``, to read a stored ``.tsr``. ``digest`` is a
    SHA-256 one unless ``hash_algorithm`` says otherwise (evidence renewals may use SHA-512).
    """
    try:
        response = TimeStampResp.load(response_der, strict=True)
        status = response["status"]["status"].native
    except (ValueError, TypeError) as exc:
        raise TimestampMismatch(f"réponse de la TSA illisible : {exc}") from exc
    if status not in GRANTED_STATUSES:
        fail_info = sorted(response["status"]["fail_info"].native or [])
        text = " ".join(response["status"]["status_string"].native or [])
        message = f"horodatage refusé : statut {status}"
        message += f", motif {', '.join(fail_info)}" if fail_info else ""
        message += f" ({text})" if text else ""
        raise TimestampRefused(message)
    try:
        token = response["time_stamp_token"]
        if token.native is None:
            raise TimestampMismatch("réponse accordée mais sans jeton")
        encap = token["content"]["encap_content_info"]
        if encap["content_type"].native != "tst_info":
            raise TimestampMismatch("le jeton ne contient pas de TSTInfo")
        tst_der = encap["content"].contents
        cert = cms_signed_data_check(content_info=token, content=tst_der)
        tst_info = tsp.TSTInfo.load(tst_der, strict=True)
        if tst_info["version"].native != "v1":
            raise TimestampMismatch("version de TSTInfo inattendue")
        imprint = tst_info["message_imprint"]
        imprint_alg = imprint["hash_algorithm"]["algorithm"].native
        imprint_value = imprint["hashed_message"].native
        token_nonce = tst_info["nonce"].native
        gen_time = tst_info["gen_time"].native
    except CmsProfileError as exc:
        raise TimestampMismatch(f"signature du jeton : {exc}") from exc
    except (ValueError, TypeError, KeyError) as exc:
        raise TimestampMismatch(f"jeton d'horodatage illisible : {exc}") from exc

    if imprint_alg != hash_algorithm or imprint_value != digest:
        raise TimestampMismatch("l'empreinte horodatée ne correspond pas aux données envoyées")
    if nonce is not None and token_nonce != nonce:
        raise TimestampMismatch(f"nonce inattendu : {token_nonce} au lieu de {nonce}")
    return TimestampToken(
        response_der=response_der,
        gen_time=gen_time.astimezone(dt.UTC),
        serial_number=tst_info["serial_number"].native,
        policy_oid=tst_info["policy"].dotted,
        tsa_cert_der=cert.dump(),
    )


def timestamp_request(
    *, data: bytes, tsa_url: str, timeout: float, hash_algorithm: str = "sha256"
) -> TimestampToken:
    """Have ``data`` time-stamped by the TSA at ``tsa_url`` (SHA-256 imprint unless
    ``hash_algorithm`` names another, random nonce)."""
    digest = hashlib.new(hash_algorithm, data).digest()
    nonce = secrets.randbits(63)
    request = _request_der(digest=digest, nonce=nonce, hash_algorithm=hash_algorithm)
    body = _post(url=tsa_url, body=request, timeout=timeout)
    return timestamp_token_check(
        response_der=body, digest=digest, nonce=nonce, hash_algorithm=hash_algorithm
    )
