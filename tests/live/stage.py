"""The live stage: Égide run as people run it, driven over HTTP by a real browser.

``./egide test --live`` (or ``python -m tests.live.stage``) starts ``python -m saas.launch run``
— the very code behind ``./egide run`` — from an empty ``var/`` on free ports, with its embedded
PostgreSQL and Redis, web, worker, evidence worker, scheduler, local Stripe and local TSA. Then
Chromium goes through the journeys of a visitor, two doctors, a claims handler and the platform
operator. Only loopback is used: a review platform on 127.0.0.2, the one address allow-listed for
captures and monitoring during this run. Each step prints its time; at the end every process
of the run is stopped, and the stage fails if one is left behind.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
VERIFY_BUNDLE_SH = BASE_DIR / "evidence" / "tools" / "verify-bundle.sh"
PASSWORD = "egide-demo-2026"  # noqa: S105 - the demo's published password
NEW_PASSWORD = "Un-mot-de-passe-solide-2026"  # noqa: S105
START_TIMEOUT_S = 420
STOP_TIMEOUT_S = 60


class StageFailed(AssertionError):
    """A journey did not end as a person would expect; the message says what was seen."""


def check(condition: object, message: str) -> None:
    if not condition:
        raise StageFailed(message)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Run:
    """One ``saas.launch run`` in a fresh var directory, and what the stage learnt on the way."""

    var_dir: Path
    port: int
    stripe_port: int
    tsa_port: int
    review_url: str
    places_url: str = ""
    demo_reviews_port: int = field(default_factory=free_port)
    marker: str = field(default_factory=lambda: uuid.uuid4().hex)
    process: subprocess.Popen | None = None
    log_path: Path | None = None
    shots: Path | None = None
    claim_pk: int | None = None
    subscriber_email: str | None = None
    refused_note: str = ""
    claim_reference: str = ""
    seal_imported: bool = False

    def url(self, host: str, path: str = "/") -> str:
        return f"http://{host}:{self.port}{path}"

    def env(self) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in ("DATABASE_URL", "REDIS_URL", "RABBITMQ_URL", "DJANGO_SETTINGS_MODULE")
        }
        env.update(
            EGIDE_VAR_DIR=str(self.var_dir),
            EGIDE_PORT=str(self.port),
            EGIDE_STRIPE_PORT=str(self.stripe_port),
            EGIDE_TSA_PORT=str(self.tsa_port),
            EGIDE_DEMO_REVIEWS_PORT=str(self.demo_reviews_port),
            # this run only: the loopback review platform may be captured and watched
            EGIDE_CAPTURE_ALLOW="127.0.0.2/32",
            EGIDE_FETCH_ALLOWED_NETWORKS="127.0.0.2/32",
            # Google Places API (New): a loopback stand-in on 127.0.0.2 (tests/live/places.py)
            EGIDE_PLACES_ENDPOINT=self.places_url,
            EGIDE_EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
            EGIDE_LIVE_STAGE_RUN=self.marker,
            PYTHONUNBUFFERED="1",
        )
        return env

    def start(self) -> None:
        self.log_path = self.var_dir / "run.log"
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "saas.launch", "run"],
            cwd=BASE_DIR,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        for url in (
            f"http://127.0.0.1:{self.port}/healthz",
            f"http://127.0.0.1:{self.stripe_port}/",
            f"http://127.0.0.1:{self.tsa_port}/",
        ):
            while not _answers(url):
                if self.process.poll() is not None:
                    raise StageFailed(f"./egide run s'est arrêté (code {self.process.returncode})")
                if time.monotonic() > deadline:
                    raise StageFailed(f"{url} ne répond pas après {START_TIMEOUT_S} s")
                time.sleep(0.5)

    def stop(self) -> list[str]:
        """Stop the run as Ctrl-C does; the processes of this run still alive afterwards."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        deadline = time.monotonic() + 15
        while (left := self.processes_left()) and time.monotonic() < deadline:
            time.sleep(0.5)
        return left

    def processes_left(self) -> list[str]:
        """Processes whose environment carries this run's marker (daemonised ones included)."""
        needle = f"EGIDE_LIVE_STAGE_RUN={self.marker}".encode()
        left = []
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit() or int(proc.name) == os.getpid():
                continue
            try:
                if needle in (proc / "environ").read_bytes().split(b"\0"):
                    cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                    left.append(f"{proc.name} {cmdline.strip()[:120]}")
            except OSError:
                continue
        return left

    def kill_left(self) -> None:
        for line in self.processes_left():
            with contextlib.suppress(OSError):
                os.kill(int(line.split()[0]), signal.SIGKILL)

    def log_tail(self, lines: int = 60) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def mails_to(self, address: str) -> list[email.message.EmailMessage]:
        """Messages sent to ``address`` (the file-based e-mail backend of this run)."""
        found = []
        for path in sorted((self.var_dir / "mail").glob("*.log")):
            raw = path.read_text(encoding="utf-8", errors="replace")
            for chunk in raw.split("-" * 79):
                if not chunk.strip():
                    continue
                message = email.message_from_string(
                    chunk.strip() + "\n", policy=email.policy.default
                )
                if address in str(message.get("To", "")):
                    found.append(message)
        return found


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
            return response.status < 500
    except urllib.error.HTTPError as exc:
        return exc.code < 500
    except OSError:
        return False


def mail_link(run: Run, address: str, pattern: str, *, timeout_s: float = 30) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for message in reversed(run.mails_to(address)):
            body = message.get_body(preferencelist=("plain",))
            text = body.get_content() if body is not None else ""
            if match := re.search(pattern, text):
                return match.group(0)
        time.sleep(0.5)
    raise StageFailed(f"aucun e-mail à {address} avec un lien {pattern}")


@contextlib.contextmanager
def timed(name: str, results: list[tuple[str, float, str]]) -> Iterator[None]:
    started = time.monotonic()
    print(f"→ {name}", flush=True)
    try:
        yield
    except Exception as exc:
        elapsed = time.monotonic() - started
        results.append((name, elapsed, f"ÉCHEC : {exc}"))
        print(f"✗ {name} ({elapsed:.1f} s) : {exc}", flush=True)
        raise
    elapsed = time.monotonic() - started
    results.append((name, elapsed, "ok"))
    print(f"✓ {name} ({elapsed:.1f} s)", flush=True)


def main(argv: list[str]) -> int:
    from playwright.sync_api import sync_playwright

    from evidence.capture import CHROMIUM_ARGS
    from tests.live import journeys
    from tests.live.places import PlacesApi
    from tests.live.review_site import ReviewSite
    from tests.live.webhook import WebhookReceiver

    keep = "--keep" in argv
    total_started = time.monotonic()
    results: list[tuple[str, float, str]] = []
    var_dir = Path(tempfile.mkdtemp(prefix="egide-live-"))
    var_dir.chmod(0o755)  # the embedded PostgreSQL runs as its own system user
    failed = False
    with ReviewSite() as site, WebhookReceiver() as hook, PlacesApi() as places:
        run = Run(
            var_dir=var_dir,
            port=free_port(),
            stripe_port=free_port(),
            tsa_port=free_port(),
            review_url=site.url,
            places_url=places.base_url,
        )
        run.shots = var_dir / "captures-ecran"
        run.shots.mkdir()
        print(f"Étape live : {var_dir} (web :{run.port}, Stripe :{run.stripe_port}, "
              f"TSA :{run.tsa_port}, avis {site.url})", flush=True)  # fmt: skip
        steps: list[tuple[str, Callable]] = [
            ("deux assureurs, deux sites distincts", journeys.visitor_sees_two_insurers),
            ("souscription payée, contrat et attestation", journeys.doctor_subscribes),
            ("résiliation en trois clics", journeys.doctor_cancels_in_three_clicks),
            (
                "carte refusée, nouvelle carte, cotisation payée",
                journeys.doctor_declined_pays_again,
            ),
            (
                "assureur : cachet qualifié importé (PKCS#12)",
                journeys.insurer_admin_imports_seal,
            ),
            ("sinistre, capture par le worker, lot vérifié", journeys.doctor_claim_capture),
            (
                "gestionnaire : file, nouvelle capture, courrier, journal de possession",
                journeys.handler_works_claim,
            ),
            (
                "médecin : ses captures, comparaison, annexe, nouvelle capture",
                journeys.doctor_follows_captures,
            ),
            (
                "gestionnaire : tableau de bord, note interne, refus de garantie",
                journeys.handler_notes_and_refuses_cover,
            ),
            ("médecin : refus motivé, médiateur, délais clos", journeys.doctor_reads_refusal),
            (
                "assureur : sa marque, ses chiffres clés",
                journeys.insurer_admin_own_brand_and_figures,
            ),
            (
                "veille : analyse immédiate et alerte",
                lambda page, run: journeys.scan_now(page, run, site),
            ),  # fmt: skip
            (
                "démo : première veille, avis nouveaux et modifiés",
                journeys.demo_monitoring_first_scan,
            ),
            (
                "démo : fiche d'annuaire lue par son profil, pages 1 et 2",
                journeys.demo_listing_read_through_profile,
            ),
            (
                "médecin : contenu proposé approuvé, publié sur le site",
                journeys.doctor_approves_content,
            ),
            (
                "médecin : canal de notification, essai reçu",
                lambda page, run: journeys.doctor_adds_notification_channel(page, run, hook),
            ),  # fmt: skip
            (
                "Google Maps : clé de l'assureur, fiche suivie, avis nouveau",
                lambda page, run: journeys.places_followed_by_doctor(page, run, places),
            ),
            ("opérateur : nouvel assureur, « bientôt disponible »", journeys.operator_onboards),
        ]
        try:
            with timed("démarrage de ./egide run (var/ vide)", results):
                run.start()
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path="/usr/bin/chromium",  # a person's browser, not the capture's
                    args=list(CHROMIUM_ARGS),
                )
                for name, step in steps:
                    context = browser.new_context(locale="fr-FR", accept_downloads=True)
                    context.set_default_timeout(30_000)
                    page = context.new_page()
                    try:
                        with timed(name, results):
                            step(page, run)
                    except Exception:  # noqa: BLE001 - reported, then the next journey runs
                        failed = True
                        shot = run.shots / f"echec-{len(results):02d}.png"
                        with contextlib.suppress(Exception):
                            page.screenshot(path=str(shot), full_page=True)
                        print(f"  page : {page.url} — capture d'écran {shot}", flush=True)
                        traceback.print_exc(limit=3)
                    finally:
                        context.close()
                browser.close()
        except Exception:  # noqa: BLE001 - reported below with the run's log
            failed = True
            traceback.print_exc(limit=5)
        finally:
            if failed:
                print("--- fin du journal de ./egide run ---\n" + run.log_tail(), flush=True)
            try:
                with timed("arrêt (Ctrl-C) et aucun processus restant", results):
                    left = run.stop()
                    if left:
                        run.kill_left()
                    check(not left, "processus restants : " + "; ".join(left))
            except StageFailed:
                failed = True
    total = time.monotonic() - total_started
    print("\nÉtape live :")
    for name, elapsed, outcome in results:
        print(f"  {elapsed:6.1f} s  {name} — {outcome}")
    print(f"  {total:6.1f} s  au total")
    if keep or failed:
        print(f"Journal et captures d'écran gardés dans {var_dir}")
    else:
        shutil.rmtree(var_dir, ignore_errors=True)
    passed = sum(1 for _, _, outcome in results if outcome == "ok")
    print(f"{passed} passed, {len(results) - passed} failed")
    return 1 if failed or passed != len(results) else 0


if __name__ == "__main__":
    sys.path.insert(0, str(BASE_DIR))
    # One copy of this module (the journeys import it by name), not a second "__main__".
    from tests.live.stage import main as stage_main

    raise SystemExit(stage_main(sys.argv[1:]))
