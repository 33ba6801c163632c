"""Load: gunicorn with production settings, a seeded insurer vs an almost empty one, same run.

Usage: .venv/bin/python bench/bench_load.py [--duration 30] [--users 50] [--think 1.0]
       [--workers 3] [--skip-baseline] [--seed-only]

1. Seeds, idempotently, a dedicated database (``egide_bench_load``): insurer ``charge`` with
   10,000 doctors, 10,000 claims and 50,000 alerts (bulk inserts), and insurer ``vide`` with the
   demo offer and one claim (the baseline). Each has a handler (TOTP second factor) and a doctor.
2. Starts gunicorn as the Dockerfile does (sync workers) with ``saas.settings.production`` on
   127.0.0.1, every external service pointed at loopback (Stripe API at a closed port, TSA
   files local, e-mail in memory, a Redis database and queue namespace of its own).
3. Logs in through the real forms (password, then the TOTP code computed by django-otp), then
   runs ``--users`` virtual users for ``--duration`` seconds per insurer with httpx.AsyncClient:
   each user loops over the public home, the plans page, the portal, the portal's claims, the
   admin claims queue and a claim's admin page, waiting ``--think`` seconds on average between
   requests (exponential; ``--think 0`` is a closed loop that saturates the server).
4. Prints, per insurer and route: requests, req/s, p50/p95/p99 (ms) and errors, plus the peak
   resident memory of gunicorn (master + workers).

Loopback only: the load generator refuses any other address.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import http.cookies
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import warnings
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

warnings.filterwarnings("ignore")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

BENCH_DB = "egide_bench_load"
PLATFORM_DOMAIN = "egide.example"
BIG = "charge"
EMPTY = "vide"
PASSWORD = "bench-Load-password-2026"  # noqa: S105
DOCTORS, CLAIMS, ALERTS = 10_000, 10_000, 50_000
BATCH = 2_000
VAR = REPO / "var" / "bench_load"
LOOPBACK = "127.0.0.1"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def _database_url(*, reset: bool = False) -> str:
    """The bench database on the configured PostgreSQL, created when missing. The seed is kept
    between runs; ``reset`` drops it first (after migrations were rewritten, for example)."""
    import psycopg

    parts = urlsplit(os.environ["DATABASE_URL"])
    conninfo: dict[str, Any] = {
        "host": unquote(parts.hostname or "") or None,
        "port": parts.port,
        "user": unquote(parts.username or "") or None,
        "password": unquote(parts.password or "") or None,
        "dbname": "postgres",
    }
    if "%2F" in parts.netloc:
        conninfo["host"] = unquote(parts.netloc.split("@", 1)[1].rsplit("/", 1)[0])
    with psycopg.connect(**{k: v for k, v in conninfo.items() if v}, autocommit=True) as conn:
        if reset:
            conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DB]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
    return urlunsplit(parts._replace(path=f"/{BENCH_DB}"))


def production_env() -> dict[str, str]:
    """What a deployment gives ``saas.settings.production``, with loopback values."""
    tsa = VAR / "tsa"
    tsa.mkdir(parents=True, exist_ok=True)
    for name in ("tsa.pem", "tsa-ca.pem"):
        if not (tsa / name).exists():
            (tsa / name).write_text("-----BEGIN CERTIFICATE-----\n")
    for folder in ("media", "evidence", "static"):
        (VAR / folder).mkdir(parents=True, exist_ok=True)
    # Production refuses to start without the master key that wraps the seal keys.
    from common.keys import master_key_file_create

    master_key = VAR / "keys" / "master.key"
    master_key_file_create(master_key)
    redis = urlsplit(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "EGIDE_", "STRIPE_", "DATABASE_", "REDIS_"))
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "saas.settings.production",
            "DJANGO_SECRET_KEY": "bench-" + "Zq8rT3vW9pL2sX7m" * 4,
            "DJANGO_ALLOWED_HOSTS": f".{PLATFORM_DOMAIN},{LOOPBACK}",
            "DJANGO_CSRF_TRUSTED_ORIGINS": f"https://*.{PLATFORM_DOMAIN}",
            "EGIDE_PLATFORM_DOMAIN": PLATFORM_DOMAIN,
            "DATABASE_URL": os.environ["DATABASE_URL"],
            # A Redis database and queue namespace of the bench's own: nothing it enqueues
            # reaches another engineer's worker.
            "REDIS_URL": urlunsplit(
                redis._replace(query="db=9")
                if redis.scheme == "unix"
                else redis._replace(path="/9")
            ),
            "EGIDE_CACHE_PREFIX": "egide-bench-load",
            "EGIDE_DRAMATIQ_NAMESPACE": "egide-bench-load",
            "STRIPE_SECRET_KEY": "sk_live_bench_loopback_only_key",
            "STRIPE_WEBHOOK_SECRET": "whsec_bench_loopback_only",
            "STRIPE_API_BASE": f"http://{LOOPBACK}:{_closed_port()}",
            "STRIPE_MAX_NETWORK_RETRIES": "0",
            "STRIPE_CONNECT_TIMEOUT": "0.5",
            "EGIDE_TSA_URL": f"http://{LOOPBACK}:{_closed_port()}/tsa",
            "EGIDE_TSA_CERT_FILE": str(tsa / "tsa.pem"),
            "EGIDE_TSA_CA_FILE": str(tsa / "tsa-ca.pem"),
            "EGIDE_MASTER_KEY_FILE": str(master_key),
            "EGIDE_MEDIA_ROOT": str(VAR / "media"),
            "EGIDE_EVIDENCE_ROOT": str(VAR / "evidence"),
            "EGIDE_STATIC_ROOT": str(VAR / "static"),
            "EGIDE_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "EGIDE_LOG_LEVEL": "WARNING",
            "EGIDE_FETCH_ALLOWED_NETWORKS": "",
            "PYTHONPATH": str(REPO),
        }
    )
    return env


# --------------------------------------------------------------------------- seeding


@dataclass
class Target:
    label: str
    host: str
    handler: str
    doctor: str
    claim_pk: int = 0
    portal_claim_pk: int = 0
    counts: dict[str, int] = field(default_factory=dict)


def _insurer(label: str):  # type: ignore[no-untyped-def]
    from saas.onboarding import insurer_onboard
    from tenants.models import Insurer

    insurer = Insurer.objects.filter(schema_name=f"bench_{label}").first()
    if insurer is None:
        insurer = insurer_onboard(
            name=f"Assureur {label}",
            domain=f"{label}.{PLATFORM_DOMAIN}",
            admin_email=f"admin@{label}.{PLATFORM_DOMAIN}",
            admin_password=PASSWORD,
            schema_name=f"bench_{label}",
        )
    return insurer


def _people(target: Target) -> None:
    """Handler with a TOTP device, doctor with the demo offer's policy and one real claim."""
    from django.contrib.auth import get_user_model

    from cover.claims.demo import claims_demo_seed
    from cover.claims.models import Claim
    from cover.demo import demo_offer_seed
    from tenants.roles import CLAIMS_HANDLER, INSURED_DOCTOR
    from tenants.services import staff_user_create

    users = get_user_model().objects
    if not users.filter(username=target.handler).exists():
        staff_user_create(email=target.handler, group_name=CLAIMS_HANDLER, password=PASSWORD)
    if not users.filter(username=target.doctor).exists():
        staff_user_create(
            email=target.doctor,
            group_name=INSURED_DOCTOR,
            password=PASSWORD,
            first_name="Camille",
            last_name="Charge",
        )
    demo_offer_seed(doctor_email=target.doctor)
    claims_demo_seed(doctor_email=target.doctor)
    claim = Claim.objects.filter(doctor__user__username=target.doctor).order_by("pk").first()
    assert claim is not None
    target.claim_pk = target.portal_claim_pk = claim.pk


def _bulk(target: Target) -> None:
    """10,000 doctors (users, profiles, one scan each), 10,000 claims, 50,000 alerts."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group
    from django.db import transaction
    from django.utils import timezone

    from cleanup.models import Alert, Scan, WatchProfile
    from cover.claims.models import Claim, CoverStatus
    from cover.ladder import LadderState
    from cover.models import Doctor
    from tenants.roles import INSURED_DOCTOR

    user_model = get_user_model()
    rng = random.Random(20261206)  # noqa: S311
    prefix = "medecin-charge-"
    domain = f"{target.label}.{PLATFORM_DOMAIN}"
    if Doctor.objects.filter(user__username__startswith=prefix).count() < DOCTORS:
        with transaction.atomic():
            Doctor.objects.filter(user__username__startswith=prefix).delete()
            user_model.objects.filter(username__startswith=prefix).delete()
            password = make_password(PASSWORD)
            group = Group.objects.get(name=INSURED_DOCTOR)
            for start in range(0, DOCTORS, BATCH):
                users = user_model.objects.bulk_create(
                    user_model(
                        username=f"{prefix}{i:05d}@{domain}",
                        email=f"{prefix}{i:05d}@{domain}",
                        first_name=rng.choice(["Alice", "Bruno", "Chloé", "David", "Emma"]),
                        last_name=f"Nom{i:05d}",
                        password=password,
                    )
                    for i in range(start, min(start + BATCH, DOCTORS))
                )
                user_model.groups.through.objects.bulk_create(
                    user_model.groups.through(user_id=u.pk, group_id=group.pk) for u in users
                )
                doctors = Doctor.objects.bulk_create(
                    Doctor(
                        user=u,
                        rpps=f"2{u.pk:010d}",
                        specialty="Médecine générale",
                        city=rng.choice(["Lyon", "Lille", "Nantes", "Rennes", "Nice"]),
                    )
                    for u in users
                )
                profiles = WatchProfile.objects.bulk_create(
                    WatchProfile(doctor=d, city=d.city, specialty=d.specialty) for d in doctors
                )
                Scan.objects.bulk_create(
                    Scan(profile=p, status=Scan.Status.DONE, trigger=Scan.Trigger.SCHEDULED)
                    for p in profiles
                )
    doctor_ids: list[tuple[int, int]] = list(
        Doctor.objects.filter(user__username__startswith=prefix)
        .order_by("pk")
        .values_list("pk", "user_id")
    )
    handler_id = user_model.objects.get(username=target.handler).pk
    if Claim.objects.filter(reference__startswith="CHG-").count() < CLAIMS:
        with transaction.atomic():
            Claim.objects.filter(reference__startswith="CHG-").delete()
            today = timezone.localdate()
            states = [s.value for s in LadderState]
            covers = [c.value for c in CoverStatus]
            for start in range(0, CLAIMS, BATCH):
                rows = []
                for i in range(start, min(start + BATCH, CLAIMS)):
                    doctor_pk, user_pk = doctor_ids[i % len(doctor_ids)]
                    due = today + dt.timedelta(days=rng.randint(-10, 120))
                    rows.append(
                        Claim(
                            reference=f"CHG-{i:06d}",
                            doctor_id=doctor_pk,
                            opened_by_id=user_pk,
                            assigned_to_id=handler_id if rng.random() < 0.3 else None,
                            urls=[f"https://192.0.2.10/avis/{i}"],
                            source_text="Avis en ligne sur le praticien. " * 5,
                            publication_date=today - dt.timedelta(days=rng.randint(1, 300)),
                            seen_date=today - dt.timedelta(days=rng.randint(0, 10)),
                            state=rng.choice(states),
                            cover_status=rng.choice(covers),
                            next_deadline_date=None if rng.random() < 0.15 else due,
                            next_deadline_label="Prescription de l'action (3 mois)",
                        )
                    )
                Claim.objects.bulk_create(rows)
    if Alert.objects.filter(title__startswith="Avis charge").count() < ALERTS:
        with transaction.atomic():
            Alert.objects.filter(title__startswith="Avis charge").delete()
            scans = list(
                Scan.objects.filter(profile__doctor__user__username__startswith=prefix)
                .order_by("pk")
                .values_list("pk", "profile_id")
            )
            # The bench doctor sees 50 of them on the portal.
            own = WatchProfile.objects.filter(doctor__user__username=target.doctor).first()
            if own is None:
                from cover.models import Doctor as DoctorModel

                own = WatchProfile.objects.create(
                    doctor=DoctorModel.objects.get(user__username=target.doctor)
                )
            own_scan = Scan.objects.create(profile=own, status=Scan.Status.DONE)
            for start in range(0, ALERTS, BATCH * 2):
                Alert.objects.bulk_create(
                    Alert(
                        profile_id=own.pk if i < 50 else scans[i % len(scans)][1],
                        scan_id=own_scan.pk if i < 50 else scans[i % len(scans)][0],
                        kind=Alert.Kind.NEW_REVIEW,
                        url=f"https://avis.example/medecin/{i}",
                        title=f"Avis charge {i}",
                        text="Très déçu, attente interminable et accueil désagréable.",
                        rating=float(rng.randint(1, 5)),
                        band="unrated",
                    )
                    for i in range(start, min(start + BATCH * 2, ALERTS))
                )


def seed() -> list[Target]:
    from django.core.management import call_command
    from django.db import connection
    from django_tenants.utils import tenant_context

    from tenants.services import platform_ensure

    # Every schema: the public one, then each insurer's (indexes added since the seed).
    call_command("migrate_schemas", interactive=False, verbosity=0)
    connection.set_schema_to_public()  # type: ignore[attr-defined]
    platform_ensure(domain=PLATFORM_DOMAIN)
    targets = []
    for label in (EMPTY, BIG):
        target = Target(
            label=label,
            host=f"{label}.{PLATFORM_DOMAIN}",
            handler=f"gestionnaire@{label}.{PLATFORM_DOMAIN}",
            doctor=f"medecin@{label}.{PLATFORM_DOMAIN}",
        )
        started = time.perf_counter()
        insurer = _insurer(label)
        with tenant_context(insurer):
            _people(target)
            if label == BIG:
                _bulk(target)
            _site_opened()
            # Fresh statistics, as autovacuum keeps them after bulk loads: without them the
            # planner guesses a dozen unassigned claims out of 10,000 and scans them all.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
            target.counts = _counts()
        print(
            f"seed {label:6}: {target.counts} ({time.perf_counter() - started:.1f} s)", flush=True
        )
        targets.append(target)
    return targets


def _site_opened() -> None:
    """The bench insurers' public sites are open (their go-live checklist is seed data here,
    like the bulk claims): the public pages measured are the real ones, not « Bientôt »."""
    try:
        from cover.models import SiteOpening
    except ImportError:  # a tree from before the go-live checklist
        return
    from django.utils import timezone
    from wagtail.models import Site

    site = Site.objects.filter(is_default_site=True).first()
    if site is not None:
        SiteOpening.objects.update_or_create(site=site, defaults={"opened_at": timezone.now()})


def _counts() -> dict[str, int]:
    from cleanup.models import Alert
    from cover.claims.models import Claim
    from cover.models import Doctor

    return {
        "doctors": Doctor.objects.count(),
        "claims": Claim.objects.count(),
        "alerts": Alert.objects.count(),
    }


def totp_token(*, username: str, schema: str) -> str:
    """The current code of the user's authenticator, computed by django-otp."""
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice
    from django_tenants.utils import schema_context

    with schema_context(schema):
        device = TOTPDevice.objects.get(user__username=username, confirmed=True)
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        totp.time = time.time()
        return f"{totp.token():0{device.digits}d}"


def totp_ensure(*, username: str, schema: str) -> None:
    from django.contrib.auth import get_user_model
    from django_tenants.utils import schema_context

    with schema_context(schema):
        user = get_user_model().objects.get(username=username)
        try:
            from tenants.two_factor import totp_device_set
        except ImportError:  # no staff second factor in this tree
            return
        from saas.totp_code import DEMO_TOTP_SECRET, secret_key_bytes

        totp_device_set(user=user, key_hex=secret_key_bytes(secret=DEMO_TOTP_SECRET).hex())


def queries_profile(target: Target) -> None:
    """Queries per admin page, in process (Django's test client, production settings, a staff
    session that passed the second factor): count, SQL time and the slowest statement."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django_tenants.utils import tenant_context

    from tenants.models import Insurer

    insurer = Insurer.objects.get(schema_name=f"bench_{target.label}")
    client = Client(HTTP_HOST=target.host, HTTP_X_FORWARDED_PROTO="https")
    with tenant_context(insurer):
        user = get_user_model().objects.get(username=target.handler)
        client.force_login(user)
        try:
            from django_otp import DEVICE_ID_SESSION_KEY
            from django_otp.plugins.otp_totp.models import TOTPDevice

            device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
            if device is not None:
                session = client.session
                session[DEVICE_ID_SESSION_KEY] = device.persistent_id
                session.save()
        except ImportError:
            pass
    for name, path in (
        ("admin queue", "/admin/sinistres/"),
        ("admin claim page", f"/admin/sinistres/{target.claim_pk}/"),
    ):
        client.get(path)  # warm caches
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(path)
            wall = (time.perf_counter() - started) * 1000
        times = [(float(q["time"]) * 1000, q["sql"]) for q in captured.captured_queries]
        slowest = max(times, default=(0.0, ""))
        print(
            f"  {target.label:6} {name:17} HTTP {response.status_code} {wall:6.0f} ms, "
            f"{len(times)} queries, {sum(t for t, _ in times):.0f} ms SQL; slowest "
            f"{slowest[0]:.1f} ms: {slowest[1][:140]}",
            flush=True,
        )


# --------------------------------------------------------------------------- gunicorn


def collectstatic(env: dict[str, str]) -> None:
    # Every run: incremental, and a manifest left by an older checkout lacks new files.
    print("collectstatic…", flush=True)
    subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=REPO,
        env=env,
        check=True,
    )


def gunicorn_start(env: dict[str, str], *, workers: int) -> tuple[subprocess.Popen, int]:
    port = _closed_port()
    proc = subprocess.Popen(  # noqa: S603
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "saas.wsgi:application",
            "--bind",
            f"{LOOPBACK}:{port}",
            "--workers",
            str(workers),
            "--timeout",
            "60",
            "--backlog",
            "2048",
            "--no-control-socket",  # the default socket path is shared by every gunicorn here
            "--preload",  # as the Dockerfile: the app (and its language model) loaded once
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(VAR / "gunicorn.log", "w"),  # noqa: SIM115
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited ({proc.returncode}); see {VAR / 'gunicorn.log'}")
        try:
            with socket.create_connection((LOOPBACK, port), timeout=0.5):
                return proc, port
        except OSError:
            time.sleep(0.3)
    raise SystemExit("gunicorn did not start in 60 s")


def gunicorn_stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


class MemorySampler(threading.Thread):
    """Peak resident memory of the gunicorn master plus its workers."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0
        self.peak_worker = 0
        self._halt = threading.Event()

    def run(self) -> None:
        import psutil

        master = psutil.Process(self.pid)
        while not self._halt.is_set():
            try:
                procs = [master, *master.children(recursive=True)]
                rss = [p.memory_info().rss for p in procs]
            except psutil.Error:
                rss = []
            if rss:
                self.peak = max(self.peak, sum(rss))
                self.peak_worker = max(self.peak_worker, max(rss[1:] or [0]))
            self._halt.wait(0.25)

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=2)


# --------------------------------------------------------------------------- HTTP


class Session:
    """A logged-in browser: cookies kept by hand (they are Secure, the socket is plain HTTP
    behind a pretend TLS proxy: ``X-Forwarded-Proto: https``)."""

    def __init__(self, *, port: int, host: str) -> None:
        import httpx

        self.host = host
        self.cookies: dict[str, str] = {}
        self.client = httpx.Client(
            base_url=f"http://{LOOPBACK}:{port}",
            follow_redirects=False,
            trust_env=False,
            timeout=60.0,
        )

    def headers(self) -> dict[str, str]:
        headers = {"Host": self.host, "X-Forwarded-Proto": "https"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return headers

    def request(self, method: str, path: str, data: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
        headers = self.headers()
        if method == "POST":
            headers["Origin"] = f"https://{self.host}"
            headers["Referer"] = f"https://{self.host}{path}"
        response = self.client.request(method, path, data=data, headers=headers)
        for raw in response.headers.get_list("set-cookie"):
            cookie = http.cookies.SimpleCookie()
            cookie.load(raw)
            for name, morsel in cookie.items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return response

    def form_post(self, path: str, fields: dict[str, str]):  # type: ignore[no-untyped-def]
        page = self.request("GET", path)
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        if match is None:
            raise SystemExit(f"no CSRF token on {self.host}{path} (HTTP {page.status_code})")
        return self.request("POST", path, {"csrfmiddlewaretoken": match.group(1), **fields})


def _local(location: str) -> str:
    parts = urlsplit(location)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def login(*, port: int, target: Target, staff: bool) -> Session:
    session = Session(port=port, host=target.host)
    username = target.handler if staff else target.doctor
    path = "/admin/login/" if staff else "/compte/connexion/"
    response = session.form_post(path, {"username": username, "password": PASSWORD})
    if response.status_code != 302:
        raise SystemExit(f"login refused for {username} (HTTP {response.status_code})")
    location = _local(response.headers["location"])
    for _hop in range(5):  # the landing page may send staff on to the second factor
        if "/compte/double-authentification/" in location:
            break
        landing = session.request("GET", location)
        if landing.status_code not in (301, 302):
            break
        location = _local(landing.headers["location"])
    if "/compte/double-authentification/" in location:
        for _attempt in range(3):
            code = totp_token(username=username, schema=f"bench_{target.label}")
            answer = session.form_post(location, {"code": code})
            if answer.status_code == 302:
                break
            time.sleep(31 - time.time() % 30)  # a code is used once: wait for the next step
        else:
            raise SystemExit(f"second factor refused for {username}")
    check = session.request("GET", "/admin/sinistres/" if staff else "/portail/")
    if check.status_code != 200:
        raise SystemExit(f"{username} is not logged in (HTTP {check.status_code})")
    return session


@dataclass
class Route:
    name: str
    path: str
    session: Session | None
    host: str = ""


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    error_samples: dict[str, str] = field(default_factory=dict)
    elapsed: float = 0.0


async def _run(
    *, port: int, routes: list[Route], users: int, duration: float, think: float
) -> Results:
    import httpx

    results = Results()
    limits = httpx.Limits(max_connections=users, max_keepalive_connections=users)
    timeout = httpx.Timeout(30.0)
    async with httpx.AsyncClient(
        base_url=f"http://{LOOPBACK}:{port}", limits=limits, timeout=timeout, trust_env=False
    ) as client:
        assert client.base_url.host == LOOPBACK
        stop_at = time.monotonic() + duration

        async def user(index: int) -> None:
            rng = random.Random(index)  # noqa: S311
            step = index
            if think:
                await asyncio.sleep(rng.uniform(0, think))
            while time.monotonic() < stop_at:
                route = routes[step % len(routes)]
                step += 1
                headers = (
                    route.session.headers()
                    if route.session
                    else {"Host": route.host, "X-Forwarded-Proto": "https"}
                )
                started = time.perf_counter()
                try:
                    response = await client.get(route.path, headers=headers)
                    ok = response.status_code == 200
                    problem = f"HTTP {response.status_code} {response.headers.get('location', '')}"
                except httpx.HTTPError as exc:
                    ok, problem = False, f"{type(exc).__name__}: {exc}"
                elapsed = time.perf_counter() - started
                if ok:
                    results.latencies[route.name].append(elapsed)
                else:
                    results.errors[route.name] += 1
                    results.error_samples.setdefault(route.name, problem)
                if think:
                    await asyncio.sleep(min(rng.expovariate(1 / think), think * 5))

        started = time.monotonic()
        await asyncio.gather(*(user(i) for i in range(users)))
        results.elapsed = time.monotonic() - started
    return results


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] * 1000


def report(label: str, target: Target, results: Results, routes: list[Route]) -> None:
    counts = ", ".join(f"{k} {v:,}".replace(",", " ") for k, v in target.counts.items())
    print(f"\n== {label} ({counts}) — {results.elapsed:.1f} s")
    print(
        f"{'route':22} {'req':>6} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'err':>4}"
    )
    total = 0
    for route in routes:
        values = results.latencies.get(route.name, [])
        errors = results.errors.get(route.name, 0)
        total += len(values) + errors
        print(
            f"{route.name:22} {len(values) + errors:6d} {len(values) / results.elapsed:7.1f} "
            f"{_pct(values, 0.50):7.0f} {_pct(values, 0.95):7.0f} {_pct(values, 0.99):7.0f} "
            f"{errors:4d}"
        )
    everything = [v for values in results.latencies.values() for v in values]
    print(
        f"{'all':22} {total:6d} {len(everything) / results.elapsed:7.1f} "
        f"{_pct(everything, 0.50):7.0f} {_pct(everything, 0.95):7.0f} "
        f"{_pct(everything, 0.99):7.0f} {sum(results.errors.values()):4d}"
    )
    for name, sample in results.error_samples.items():
        print(f"  first error on {name}: {sample}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=30.0, help="seconds per insurer")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--think", type=float, default=1.0, help="mean think time (s); 0 = none")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (Dockerfile: 3)")
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--seed-only", action="store_true")
    parser.add_argument("--reset", action="store_true", help="drop the bench database first")
    args = parser.parse_args()

    from saas.embedded import services_env_ensure, services_stop

    started = services_env_ensure()
    try:
        _bench(args)
    finally:
        services_stop(started)  # only the embedded servers this run started


def _bench(args: argparse.Namespace) -> None:
    os.environ["DATABASE_URL"] = _database_url(reset=args.reset)
    env = production_env()
    os.environ.update(env)
    # Before Django is set up in this process: the static storage reads its manifest once.
    collectstatic(env)
    import django

    django.setup()
    targets = seed()
    for target in targets:
        totp_ensure(username=target.handler, schema=f"bench_{target.label}")
    print("queries per page (in process):")
    for target in targets:
        queries_profile(target)
    if args.seed_only:
        return
    proc, port = gunicorn_start(env, workers=args.workers)
    sampler = MemorySampler(proc.pid)
    sampler.start()
    try:
        print(
            f"\ngunicorn {args.workers} sync workers, production settings, 127.0.0.1:{port}; "
            f"{args.users} users, think {args.think:g} s, {args.duration:g} s per insurer; "
            f"load {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs",
            flush=True,
        )
        for target in targets:
            if args.skip_baseline and target.label == EMPTY:
                continue
            staff = login(port=port, target=target, staff=True)
            doctor = login(port=port, target=target, staff=False)
            routes = [
                Route("public /", "/", None, target.host),
                Route("public /formules/", "/formules/", None, target.host),
                Route("portal /portail/", "/portail/", doctor),
                Route("portal claims", "/portail/sinistres/", doctor),
                Route("admin queue", "/admin/sinistres/", staff),
                Route("admin claim page", f"/admin/sinistres/{target.claim_pk}/", staff),
            ]
            asyncio.run(
                _run(port=port, routes=routes, users=min(args.users, 10), duration=3, think=0)
            )  # warm-up, not counted
            results = asyncio.run(
                _run(
                    port=port,
                    routes=routes,
                    users=args.users,
                    duration=args.duration,
                    think=args.think,
                )
            )
            report(f"insurer {target.label}", target, results, routes)
            print(f"  load average now {os.getloadavg()[0]:.1f}", flush=True)
    finally:
        try:
            sampler.stop()
        finally:
            gunicorn_stop(proc)
    print(
        f"\ngunicorn peak RSS: {sampler.peak / 2**20:.0f} MiB total (master + {args.workers} "
        f"workers), {sampler.peak_worker / 2**20:.0f} MiB largest worker"
    )


if __name__ == "__main__":
    main()
