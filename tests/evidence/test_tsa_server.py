"""The local RFC 3161 TSA and its client (evidence/tsa_server.py, evidence/timestamp.py)."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from asn1crypto import tsp

from evidence.timestamp import (
    TimestampMismatch,
    TimestampRefused,
    TimeStampResp,
    TimestampUnavailable,
    timestamp_request,
)
from evidence.tsa_server import LOCAL_TSA_POLICY_OID, TsaBehaviour, TsaServer
from tests.evidence.conftest import REPO, run


def _post(url: str, body: bytes, content_type: str = "application/timestamp-query"):
    with httpx.Client(trust_env=False, timeout=5) as client:
        return client.post(url, content=body, headers={"Content-Type": content_type})


def _request(*, digest: bytes, algorithm: str = "sha256", **extra) -> bytes:
    return tsp.TimeStampReq(
        {
            "version": "v1",
            "message_imprint": {
                "hash_algorithm": {"algorithm": algorithm},
                "hashed_message": digest,
            },
            **extra,
        }
    ).dump()


def test_openssl_query_gets_a_reply_that_openssl_verifies(tmp_path, tsa_server, tsa_pki):
    # given an RFC 3161 query made by openssl itself, with a nonce and certReq
    (tmp_path / "data.txt").write_bytes(b"avis du 14 mars\n")
    (tmp_path / "ca.pem").write_bytes(tsa_pki.ca_cert_pem)
    (tmp_path / "tsa.pem").write_bytes(tsa_pki.cert_pem)
    query = run(
        ["openssl", "ts", "-query", "-data", "data.txt", "-sha256", "-cert", "-out", "q.tsq"],
        cwd=tmp_path,
    )
    assert query.returncode == 0

    # when
    response = _post(tsa_server.url, (tmp_path / "q.tsq").read_bytes())
    (tmp_path / "r.tsr").write_bytes(response.content)

    # then the reply matches the query (nonce, imprint) and verifies against the TSA CA
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/timestamp-reply"
    verified = run(
        ["openssl", "ts", "-verify", "-queryfile", "q.tsq", "-in", "r.tsr",
         "-CAfile", "ca.pem", "-untrusted", "tsa.pem"],
        cwd=tmp_path,
    )  # fmt: skip
    assert (verified.returncode, verified.stdout.strip()) == (0, "Verification: OK")


def test_reply_honours_nonce_and_cert_req(tsa_server):
    # given
    digest = hashlib.sha256(b"x").digest()

    # when
    with_cert = TimeStampResp.load(
        _post(tsa_server.url, _request(digest=digest, nonce=424242, cert_req=True)).content
    )
    without_cert = TimeStampResp.load(
        _post(tsa_server.url, _request(digest=digest, cert_req=False)).content
    )

    # then
    signed = with_cert["time_stamp_token"]["content"]
    tst = signed["encap_content_info"]["content"].parsed
    assert tst["nonce"].native == 424242
    assert tst["message_imprint"]["hashed_message"].native == digest
    assert tst["policy"].dotted == LOCAL_TSA_POLICY_OID
    assert len(signed["certificates"]) == 1
    bare = without_cert["time_stamp_token"]["content"]
    assert bare["encap_content_info"]["content"].parsed["nonce"].native is None
    assert bare["certificates"].native is None


def test_injected_clock_sets_gen_time(tsa_pki):
    # given a TSA whose clock reads a fixed instant
    instant = dt.datetime(2025, 6, 1, 12, 30, 45, 999999, tzinfo=dt.UTC)
    with TsaServer(pki=tsa_pki, clock=lambda: instant) as server:
        # when
        token = timestamp_request(data=b"x", tsa_url=server.url, timeout=5)

    # then (RFC 3161 genTime, whole seconds)
    assert token.gen_time == dt.datetime(2025, 6, 1, 12, 30, 45, tzinfo=dt.UTC)
    assert token.policy_oid == LOCAL_TSA_POLICY_OID


@pytest.mark.parametrize(
    ("request_fields", "fail_info"),
    [
        ({"algorithm": "sha1", "digest": hashlib.sha1(b"x").digest()}, {"bad_alg"}),  # noqa: S324
        ({"digest": b"short"}, {"bad_data_format"}),
        ({"digest": hashlib.sha256(b"x").digest(), "req_policy": "1.2.3.4"}, {"unaccepted_policy"}),
    ],
)
def test_unacceptable_requests_are_rejected_with_the_rfc_failure_info(
    tsa_server, request_fields, fail_info
):
    # given
    body = _request(**request_fields)

    # when
    reply = TimeStampResp.load(_post(tsa_server.url, body).content)

    # then
    assert reply["status"]["status"].native == "rejection"
    assert reply["status"]["fail_info"].native == fail_info
    assert reply["time_stamp_token"].native is None


def test_garbage_is_rejected_and_wrong_content_type_refused(tsa_server):
    reply = TimeStampResp.load(_post(tsa_server.url, b"not asn.1").content)
    assert reply["status"]["fail_info"].native == {"bad_data_format"}
    assert _post(tsa_server.url, b"x", content_type="text/plain").status_code == 415


@pytest.mark.parametrize(
    ("behaviour", "error", "message"),
    [
        (TsaBehaviour.REJECT, TimestampRefused, "statut rejection, motif system_failure (refused"),
        (TsaBehaviour.HTTP_ERROR, TimestampUnavailable, "TSA en erreur : HTTP 500"),
        (TsaBehaviour.WRONG_NONCE, TimestampMismatch, "nonce inattendu"),
        (TsaBehaviour.WRONG_IMPRINT, TimestampMismatch, "l'empreinte horodatée ne correspond pas"),
    ],
)
def test_client_raises_a_distinct_error_per_failure(tsa_server, behaviour, error, message):
    # given
    tsa_server.behaviour = behaviour

    # when / then
    with pytest.raises(error, match=re.escape(message)):
        timestamp_request(data=b"x", tsa_url=tsa_server.url, timeout=5)


def test_client_reports_a_stopped_tsa_as_unavailable(tsa_pki):
    # given a TSA that was listening and is now down
    server = TsaServer(pki=tsa_pki).start()
    url = server.url
    server.stop()

    # when / then
    with pytest.raises(TimestampUnavailable, match="TSA injoignable"):
        timestamp_request(data=b"x", tsa_url=url, timeout=2)


def test_command_line_server_creates_its_key_material_and_serves(tmp_path):
    # given
    tsa_dir = tmp_path / "tsa"
    process = subprocess.Popen(
        [sys.executable, "-m", "evidence.tsa_server", "--host", "127.0.0.1", "--port", "0",
         "--dir", str(tsa_dir)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        line = process.stdout.readline()
        url = line.split()[3]

        # when
        token = timestamp_request(data=b"x", tsa_url=url, timeout=5)
    finally:
        process.send_signal(signal.SIGTERM)
        returncode = process.wait(timeout=10)

    # then
    assert returncode == 0
    assert sorted(p.name for p in tsa_dir.iterdir()) == [
        "tsa-ca.key",
        "tsa-ca.pem",
        "tsa.key",
        "tsa.pem",
    ]
    assert oct(os.stat(tsa_dir / "tsa.key").st_mode & 0o777) == "0o600"
    assert token.tsa_cert_der == _pem_der(tsa_dir / "tsa.pem")


def _pem_der(path: Path) -> bytes:
    from evidence.seal import pem_to_der

    return pem_to_der(path.read_bytes())
