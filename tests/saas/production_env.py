"""A realistic environment for ``saas.settings.production`` in a subprocess (loopback only)."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from urllib.parse import quote

REPO = Path(__file__).resolve().parents[2]


def closed_port() -> int:
    """A loopback port nothing listens on (bound then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def production_env(tmp: Path, **overrides: str) -> dict[str, str]:
    """Environment a real deployment gives the production settings: secrets, hosts, a real
    Stripe key and webhook secret, a TSA and its certificates, storage folders."""
    from django.conf import settings
    from django.db import connection

    tsa = tmp / "tsa"
    tsa.mkdir(exist_ok=True)
    (tsa / "tsa.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    (tsa / "tsa-ca.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    for folder in ("media", "evidence", "static"):
        (tmp / folder).mkdir(exist_ok=True)
    master_key = tmp / "master.key"
    master_key.write_text("ZWdpZGUtdGVzdC1tYXN0ZXIta2V5LTMyLWJ5dGVzISE=\n")
    db = connection.settings_dict
    user = quote(db["USER"] or "", safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
    host = quote(db["HOST"] or "127.0.0.1", safe="")
    port = f":{db['PORT']}" if db.get("PORT") else ""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "EGIDE_", "STRIPE_", "DATABASE_", "REDIS_"))
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "saas.settings.production",
            "DJANGO_SECRET_KEY": "k3y-" + "x7Qp9vR2mL8sT4wZ" * 4,
            "DJANGO_ALLOWED_HOSTS": ".egide.example",
            "DJANGO_CSRF_TRUSTED_ORIGINS": "https://*.egide.example",
            "EGIDE_PLATFORM_DOMAIN": "egide.example",
            "DATABASE_URL": f"postgres://{user}{password}@{host}{port}/{db['NAME']}",
            "REDIS_URL": settings.REDIS_URL,
            "STRIPE_SECRET_KEY": "sk_live_51EgideRealPlatformAccountKey",
            "STRIPE_WEBHOOK_SECRET": "whsec_real_platform_secret",
            # Loopback, nothing listening: no test reaches beyond 127.0.0.0/8 (not even DNS).
            "EGIDE_TSA_URL": f"http://127.0.0.1:{closed_port()}/",
            "EGIDE_TSA_CERT_FILE": str(tsa / "tsa.pem"),
            "EGIDE_TSA_CA_FILE": str(tsa / "tsa-ca.pem"),
            "EGIDE_MASTER_KEY_FILE": str(master_key),
            "EGIDE_MEDIA_ROOT": str(tmp / "media"),
            "EGIDE_EVIDENCE_ROOT": str(tmp / "evidence"),
            "EGIDE_STATIC_ROOT": str(tmp / "static"),
            "PYTHONPATH": str(REPO),
        }
    )
    env.update(overrides)
    return env
