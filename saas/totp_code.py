"""Print the current two-factor code of the demo staff accounts (or of a given secret).

    python -m saas.totp_code             # code of the published demo secret
    python -m saas.totp_code BASE32KEY   # code of another secret (as shown at enrolment)

The demo seed (``saas.demo``) gives every demo staff account a TOTP device with
``DEMO_TOTP_SECRET`` so that a newcomer can log in without an authenticator app. It is published
on purpose, like the demo password: never use it for a real account.
"""

from __future__ import annotations

import base64
import sys
import time

from django_otp.oath import TOTP

# 20 bytes, base32 (what an authenticator app takes). Published demo credentials.
DEMO_TOTP_SECRET = "EGIDEDEMOTOTPSECRETFORSTAFFDEMOS"  # noqa: S105
DIGITS = 6
STEP_S = 30


def secret_key_bytes(*, secret: str) -> bytes:
    """The raw key of a base32 secret written with or without spaces, in any case."""
    cleaned = "".join(secret.split()).upper()
    return base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))


def totp_code(*, secret: str = DEMO_TOTP_SECRET, at: float | None = None) -> str:
    """The 6-digit code of ``secret`` at ``at`` (now by default), as an authenticator shows it."""
    totp = TOTP(secret_key_bytes(secret=secret), step=STEP_S, digits=DIGITS)
    totp.time = time.time() if at is None else at
    return f"{totp.token():0{DIGITS}d}"


def main(argv: list[str]) -> int:
    secret = argv[0] if argv else DEMO_TOTP_SECRET
    try:
        code = totp_code(secret=secret)
    except ValueError:
        print("Clé secrète invalide : attendu une clé en base32 (lettres A-Z et chiffres 2-7).")
        return 2
    remaining = STEP_S - int(time.time()) % STEP_S
    print(code)
    print(f"(valable encore {remaining} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
