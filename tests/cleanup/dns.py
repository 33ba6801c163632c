"""A real DNS server on 127.0.0.1 (UDP) for the outbound guard's tests: it answers each A
question from a script (an allowed address first, a forbidden one next: DNS rebinding)."""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from common.address_guard import dns_server_resolver
from tests.evidence.pages import _udp_serve


@dataclass
class FakeDns:
    """Answers A questions from ``answers[name]``: one list of addresses per question, in
    order, the last one repeated. AAAA questions get an empty NOERROR answer."""

    answers: dict[str, list[list[str]]] = field(default_factory=dict)
    questions: list[tuple[str, int]] = field(default_factory=list)
    port: int = 0

    def a_questions(self, name: str) -> int:
        return sum(1 for q, qtype in self.questions if q == name and qtype == 1)

    def resolver(self) -> Any:
        return dns_server_resolver("127.0.0.1", self.port, timeout_s=2.0)


def _dns_reply(dns: FakeDns, query: bytes) -> bytes:
    query_id, _flags, _qd, _an, _ns, _ar = struct.unpack("!HHHHHH", query[:12])
    offset, labels = 12, []
    while query[offset]:
        length = query[offset]
        labels.append(query[offset + 1 : offset + 1 + length].decode("ascii"))
        offset += 1 + length
    question_end = offset + 5
    qtype = struct.unpack("!H", query[offset + 1 : offset + 3])[0]
    name = ".".join(labels).lower()
    dns.questions.append((name, qtype))
    addresses: list[str] = []
    if qtype == 1 and name in dns.answers:
        sequence = dns.answers[name]
        asked = dns.a_questions(name)
        addresses = sequence[min(asked, len(sequence)) - 1]
    rcode = 0 if name in dns.answers else 3
    header = struct.pack("!HHHHHH", query_id, 0x8180 | rcode, 1, len(addresses), 0, 0)
    records = b"".join(
        struct.pack("!HHHIH", 0xC00C, 1, 1, 0, 4) + ipaddress.IPv4Address(ip).packed
        for ip in addresses
    )
    return header + query[12:question_end] + records


def fake_dns_serve() -> Iterator[FakeDns]:
    """Serve a ``FakeDns`` until the generator is closed (a pytest fixture's body)."""
    dns = FakeDns()
    sock, thread, stop = _udp_serve(lambda query: _dns_reply(dns, query))
    dns.port = sock.getsockname()[1]
    try:
        yield dns
    finally:
        stop.set()
        thread.join(timeout=2)
        sock.close()
