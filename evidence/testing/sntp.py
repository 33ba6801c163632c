"""A small SNTP responder (RFC 4330 server side) on UDP, whose clock runs at a known offset.

It answers NTPv3/v4 client requests (mode 3) with a server reply (mode 4) built from this
machine's clock plus ``offset_s``: receive and transmit timestamps are taken when the request
arrives and when the reply leaves, and the originate timestamp echoes the client's transmit
timestamp, as a real server does. A client then measures an offset of ``offset_s`` (to the
loopback round trip). Anything that is not a client request is ignored.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import struct
import threading
import time

NTP_EPOCH_OFFSET = 2_208_988_800  # seconds from 1900-01-01 (NTP era 0) to 1970-01-01
_CLIENT_MODE = 3
_SERVER_MODE = 4


def ntp_timestamp(moment: float) -> bytes:
    """A Unix time as a 64-bit NTP timestamp (seconds since 1900, 32-bit fraction)."""
    seconds = int(moment) + NTP_EPOCH_OFFSET
    fraction = int((moment - int(moment)) * 2**32) & 0xFFFFFFFF
    return struct.pack("!II", seconds & 0xFFFFFFFF, fraction)


class SntpResponder:
    """An SNTP server on ``host:port`` (port 0 = any free one), one thread, until ``stop()``."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        offset_s: float = 0.0,
        stratum: int = 2,
        reference_id: str = "127.0.0.1",
    ) -> None:
        self.host = host
        self.port = port
        self.offset_s = offset_s
        self.stratum = stratum
        self.reference_id = ipaddress.IPv4Address(reference_id).packed
        self.requests_served = 0
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    @property
    def server(self) -> str:
        """The ``host:port`` entry for ``EGIDE_CAPTURE_NTP_SERVERS``."""
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def reply(self, packet: bytes, *, received_at: float) -> bytes | None:
        """The server's answer to ``packet`` (``None`` for anything but a client request)."""
        if len(packet) < 48:
            return None
        version = (packet[0] >> 3) & 0x07
        if packet[0] & 0x07 != _CLIENT_MODE or version not in (3, 4):
            return None
        now = time.time() + self.offset_s
        header = struct.pack(
            "!BBbb",
            (0 << 6) | (version << 3) | _SERVER_MODE,  # no leap warning, client's version
            self.stratum,
            packet[2],  # poll: as asked
            -20,  # precision: about a microsecond
        )
        root = struct.pack("!II", 0, 0)  # root delay and dispersion
        return (
            header
            + root
            + self.reference_id
            + ntp_timestamp(now - 16.0)  # reference: last set 16 s ago
            + packet[40:48]  # originate: the client's transmit timestamp, verbatim
            + ntp_timestamp(received_at + self.offset_s)
            + ntp_timestamp(time.time() + self.offset_s)
        )

    def start(self) -> SntpResponder:
        if self._sock is not None:
            raise RuntimeError("SNTP responder already started")
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        sock.bind((self.host, self.port))
        sock.settimeout(0.1)
        self.port = sock.getsockname()[1]
        self._sock = sock
        self._stop.clear()
        self._thread = threading.Thread(target=self._serve, name=f"sntp-{self.port}", daemon=True)
        self._thread.start()
        return self

    def _serve(self) -> None:
        sock = self._sock
        assert sock is not None
        while not self._stop.is_set():
            try:
                packet, peer = sock.recvfrom(1024)
            except TimeoutError:
                continue
            except OSError:
                return
            answer = self.reply(packet, received_at=time.time())
            if answer is not None:
                with contextlib.suppress(OSError):
                    sock.sendto(answer, peer)
                    self.requests_served += 1

    def stop(self) -> None:
        """Stop answering and free the port (the "NTP server down" case)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        if self._sock is not None:
            self._sock.close()
        self._sock = None
        self._thread = None

    def __enter__(self) -> SntpResponder:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
