"""What one capture is asked to do (``CaptureSettings``), its progress steps and its folders."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from evidence.prechecks import PrecheckConfig

# A page is "quiet" when none of its requests has been pending for this long (Playwright's
# ``networkidle`` waits a fixed 500 ms instead).
QUIET_MS = 150

DATA_DIR = "data"
WARC_DIR = "warc"
WARC_NAME = "capture.warc.gz"

BLOCKED_ERROR = "net::ERR_BLOCKED_BY_CLIENT"

# Progress steps (label shown to the user, percent), in order.
PROGRESS: dict[str, tuple[str, int]] = {
    "check": ("Vérification de l'adresse demandée", 2),
    "prechecks": ("Vérifications préalables : horloge, adresse IP publique, DNS, proxy", 8),
    "browser": ("Démarrage du navigateur avec un profil vierge", 15),
    "load": ("Chargement de la page", 25),
    "consent": ("Bandeau de consentement aux cookies", 40),
    "scroll": ("Défilement pour charger tout le contenu", 50),
    "expand": ("Déploiement des textes tronqués (« lire la suite »)", 60),
    "screenshots": ("Captures d'écran", 70),
    "pdf": ("Impression PDF de la page", 78),
    "dom": ("Enregistrement du code HTML et du texte visible", 82),
    "tls": ("Certificats TLS", 86),
    "warc": ("Archive WARC des échanges réseau", 90),
    "clock": ("Contrôle final de l'horloge", 95),
    "done": ("Capture terminée", 100),
}


@dataclass(frozen=True)
class CaptureSettings:
    """What one capture is asked to do: its URL, limits and browser profile (see capture_run)."""

    url: str
    chromium_path: str
    allow: set[str]
    timeout_s: float
    user_agent: str | None = None
    locale: str = "fr-FR"
    timezone_id: str = "Europe/Paris"
    viewport: tuple[int, int] = (1366, 900)
    prechecks: PrecheckConfig = field(default_factory=PrecheckConfig)
    idle_timeout_s: float = 10.0
    behaviors_timeout_s: float = 30.0
    tls_extra_ca_file: str | Path | None = None


def progress_report(on_progress: Callable[[str, int], None] | None, step: str) -> None:
    if on_progress is not None:
        label, percent = PROGRESS[step]
        on_progress(label, percent)
