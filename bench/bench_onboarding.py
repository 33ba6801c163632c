"""Onboarding time: cloning the template schema vs replaying every migration, same run.

Usage: .venv/bin/python bench/bench_onboarding.py [--rounds 3]

Works on a throw-away database (``egide_bench``) on the configured or embedded PostgreSQL.
Prints, for each method, the median and max seconds per insurer and the peak Python memory
(tracemalloc) during onboarding, then the speed-up of cloning over migrating.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import tracemalloc
import warnings
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

warnings.filterwarnings("ignore")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saas.settings.test")
os.environ["EGIDE_LOG_LEVEL"] = "WARNING"

from saas.embedded import services_env_ensure  # noqa: E402

services_env_ensure()
BENCH_DB = "egide_bench"


def _bench_database_url() -> str:
    import psycopg

    parts = urlsplit(os.environ["DATABASE_URL"])
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    from urllib.parse import unquote

    conninfo = {
        "host": unquote(parts.hostname or "") or None,
        "port": parts.port,
        "user": parts.username,
        "dbname": "postgres",
    }
    if "%2F" in parts.netloc:
        conninfo["host"] = unquote(parts.netloc.split("@", 1)[1].rsplit("/", 1)[0])
    with psycopg.connect(**{k: v for k, v in conninfo.items() if v}, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
    del admin_url
    return urlunsplit(parts._replace(path=f"/{BENCH_DB}"))


os.environ["DATABASE_URL"] = _bench_database_url()

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.test.utils import override_settings  # noqa: E402

from saas.onboarding import insurer_onboard  # noqa: E402
from tenants.models import Insurer  # noqa: E402
from tenants.services import template_schema_ensure  # noqa: E402


def _onboard_rounds(label: str, rounds: int, *, clone: bool) -> tuple[list[float], int]:
    timings: list[float] = []
    tracemalloc.start()
    with override_settings(TENANT_CREATION_FAKES_MIGRATIONS=clone):
        for i in range(rounds):
            started = time.perf_counter()
            insurer_onboard(
                name=f"Bench {label} {i}",
                domain=f"bench-{label}-{i}.localhost",
                admin_email=f"admin{i}@bench.localhost",
                admin_password="bench-password-123",  # noqa: S106
                schema_name=f"bench_{label}_{i}",
            )
            timings.append(time.perf_counter() - started)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return timings, peak


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    template_schema_ensure()

    clone, clone_peak = _onboard_rounds("clone", args.rounds, clone=True)
    migrate, migrate_peak = _onboard_rounds("migrate", args.rounds, clone=False)

    print(f"rounds per method: {args.rounds}")
    for label, timings, peak in (
        ("clone template schema", clone, clone_peak),
        ("replay all migrations", migrate, migrate_peak),
    ):
        print(
            f"{label:24s} median {statistics.median(timings):6.2f} s   "
            f"max {max(timings):6.2f} s   peak memory {peak / 1_048_576:7.1f} MiB"
        )
    print(
        f"speed-up of cloning: {statistics.median(migrate) / statistics.median(clone):.1f}x "
        "(baseline: migrations, measured in this run)"
    )
    for insurer in Insurer.objects.filter(schema_name__startswith="bench_"):
        insurer.delete(force_drop=True)


if __name__ == "__main__":
    main()
