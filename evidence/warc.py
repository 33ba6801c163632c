"""WARC writing for captures: every HTTP exchange the browser made, plus derived resources.

The WARC is what ``wacz_pack`` puts into ``capture.wacz``; ``warcio check`` and
``wacz validate`` must pass on it. Choices, so that a verifier is never misled:

- A ``response`` record only for a real HTTP exchange, with the server address the browser
  connected to in ``WARC-IP-Address``; its ``request`` record points at it with
  ``WARC-Concurrent-To``. Screenshots, DOM and text are ``resource`` records with ``urn:`` URIs
  (Scoop's synthetic ``response`` records for such files fail ``warcio check``).
- Bodies are read from the browser's network stack before the page gets them (raw bytes, so a
  windows-1252 page stays windows-1252), but after HTTP content decoding (gzip, br). The stored
  headers therefore keep the original
  ``Content-Encoding``, ``Transfer-Encoding`` and ``Content-Length`` under an
  ``X-Archive-Orig-`` prefix (pywb's convention) and carry the length of the stored body; the
  warcinfo record says so.
- When a body could not be obtained (redirect, aborted transfer) the record holds what is known
  — status line and headers — and ``WARC-Truncated`` says why the payload is incomplete.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date
from warcio.warcwriter import WARCWriter

WARC_VERSION = "1.1"

# Headers that describe the wire form of a body we no longer have in that form.
_WIRE_HEADERS = ("content-encoding", "transfer-encoding", "content-length")

WARCINFO_NOTE = (
    "Corps de réponse enregistrés tels que reçus par la pile réseau du navigateur, après "
    "décodage du Content-Encoding ; les en-têtes Content-Encoding, Transfer-Encoding et "
    "Content-Length d'origine sont conservés sous le préfixe X-Archive-Orig-. / Bodies stored "
    "as received by the browser's network stack, after content decoding; original "
    "Content-Encoding, Transfer-Encoding and Content-Length kept with an X-Archive-Orig- prefix."
)


@dataclass
class HttpExchange:
    """One request the browser sent and, if any, the response it got."""

    url: str
    method: str
    request_headers: list[tuple[str, str]]
    started_at: datetime
    request_body: bytes | None = None
    status: int | None = None
    status_text: str = ""
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | None = None
    body_unavailable: str | None = None
    truncated: str | None = None
    server_ip: str | None = None
    resource_type: str = ""


@dataclass
class WarcResource:
    """A file derived from the page (screenshot, DOM, text), stored as a ``resource`` record."""

    uri: str
    content_type: str
    data: bytes
    created_at: datetime


def _warc_date(moment: datetime) -> str:
    return datetime_to_iso_date(moment.astimezone(UTC).replace(tzinfo=None), use_micros=True)


def _response_headers(headers: Iterable[tuple[str, str]], body_length: int) -> list:
    kept: list[tuple[str, str]] = []
    for name, value in headers:
        if name.startswith(":"):
            continue
        if name.lower() in _WIRE_HEADERS:
            kept.append((f"X-Archive-Orig-{name}", value))
        else:
            kept.append((name, value))
    kept.append(("Content-Length", str(body_length)))
    return kept


def _request_target(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    return target, parts.netloc


def _reason(status: int, status_text: str) -> str:
    if status_text:
        return status_text
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _response_write(writer: WARCWriter, exchange: HttpExchange, date: str) -> str | None:
    """The exchange's response record (none if no response came); returns its record id."""
    if exchange.status is None:
        return None
    body = exchange.body or b""
    status_line = f"{exchange.status} {_reason(exchange.status, exchange.status_text)}"
    http_headers = StatusAndHeaders(
        status_line,
        _response_headers(exchange.response_headers, len(body)),
        protocol="HTTP/1.1",
    )
    warc_headers = {"WARC-Date": date}
    if exchange.server_ip:
        warc_headers["WARC-IP-Address"] = exchange.server_ip
    if exchange.body_unavailable or exchange.truncated:
        warc_headers["WARC-Truncated"] = exchange.truncated or "unspecified"
    response = writer.create_warc_record(
        exchange.url,
        "response",
        payload=io.BytesIO(body),
        length=len(body),
        http_headers=http_headers,
        warc_headers_dict=warc_headers,
    )
    writer.write_record(response)
    return response.rec_headers.get_header("WARC-Record-ID")


def _request_write(
    writer: WARCWriter, exchange: HttpExchange, date: str, response_id: str | None
) -> None:
    """The exchange's request record, concurrent to its response when there is one."""
    target, host = _request_target(exchange.url)
    request_headers = [(n, v) for n, v in exchange.request_headers if not n.startswith(":")]
    if not any(name.lower() == "host" for name, _ in request_headers):
        request_headers.insert(0, ("Host", host))
    request_body = exchange.request_body or b""
    request_warc_headers = {"WARC-Date": date}
    if response_id:
        request_warc_headers["WARC-Concurrent-To"] = response_id
    if exchange.server_ip:
        request_warc_headers["WARC-IP-Address"] = exchange.server_ip
    request = writer.create_warc_record(
        exchange.url,
        "request",
        payload=io.BytesIO(request_body),
        length=len(request_body),
        http_headers=StatusAndHeaders(
            f"{exchange.method} {target} HTTP/1.1",
            request_headers,
            protocol="HTTP/1.1",
            is_http_request=True,
        ),
        warc_headers_dict=request_warc_headers,
    )
    writer.write_record(request)


def _resource_write(writer: WARCWriter, resource: WarcResource) -> None:
    record = writer.create_warc_record(
        resource.uri,
        "resource",
        payload=io.BytesIO(resource.data),
        length=len(resource.data),
        warc_content_type=resource.content_type,
        warc_headers_dict={"WARC-Date": _warc_date(resource.created_at)},
    )
    writer.write_record(record)


def warc_write(
    *,
    path: Path,
    exchanges: Iterable[HttpExchange],
    resources: Iterable[WarcResource] = (),
    info: dict[str, str],
) -> dict[str, int]:
    """Write a gzipped WARC 1.1 file; return the count of records per WARC-Type."""
    path.parent.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}

    def count(kind: str) -> None:
        counts[kind] = counts.get(kind, 0) + 1

    with path.open("wb") as handle:
        writer = WARCWriter(handle, gzip=True, warc_version=WARC_VERSION)
        warcinfo = writer.create_warcinfo_record(path.name, {**info, "note": WARCINFO_NOTE})
        writer.write_record(warcinfo)
        count("warcinfo")
        for exchange in exchanges:
            date = _warc_date(exchange.started_at)
            response_id = _response_write(writer, exchange, date)
            if exchange.status is not None:
                count("response")
            _request_write(writer, exchange, date, response_id)
            count("request")
        for resource in resources:
            _resource_write(writer, resource)
            count("resource")
    return counts
