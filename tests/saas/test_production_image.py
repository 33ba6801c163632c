"""The production image holds no development tools, and production code never needs them.

``.dockerignore`` leaves ``devtools/`` (the local Stripe stand-in), ``tests/`` and ``bench/`` out of
the image. Here a subprocess blocks those packages with a meta path finder, as if they were
absent, loads Django with the production settings, runs the system checks, imports every module
of the apps, and checks that the demo seed says clearly what it misses.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.saas.production_env import REPO, production_env

pytestmark = pytest.mark.django_db

ABSENT = ("devtools", "tests", "bench")
APPS = ("saas", "tenants", "cover", "evidence", "cleanup", "outbox", "mailing", "common")

PROBE = """
import importlib, importlib.abc, pkgutil, sys

ABSENT = {absent!r}


class Absent(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ABSENT:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None


sys.meta_path.insert(0, Absent())
sys.path = [p for p in sys.path if p not in ("", ".")] + [{repo!r}]
import django
from django.core.management import call_command
from django.core.management.base import CommandError

django.setup()
call_command("check")
print("CHECK-OK")
for app in {apps!r}:
    package = importlib.import_module(app)
    for info in pkgutil.walk_packages(package.__path__, prefix=app + "."):
        importlib.import_module(info.name)
print("IMPORTS-OK", sorted(m for m in sys.modules if m.split(".")[0] in ABSENT))
from saas.demo import platform_billing_demo_seed
from tenants.billing import BillingError
try:
    platform_billing_demo_seed(assignments={{}})
except BillingError as error:
    print("BILLING-DEMO:", error)
try:
    call_command("demo_seed")
except CommandError as error:
    print("DEMO-SEED:", error)
"""


def test_production_settings_run_without_devtools_tests_or_bench(tmp_path: Path):
    script = PROBE.format(absent=ABSENT, repo=str(REPO), apps=APPS)
    env = production_env(tmp_path, PYTHONPATH="")

    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "CHECK-OK" in result.stdout
    assert "IMPORTS-OK []" in result.stdout
    # The dev-only demo helpers fail with a clear French message, nothing half done.
    assert "BILLING-DEMO: La démonstration de facturation a besoin des outils" in result.stdout
    assert "DEMO-SEED: Les données de démonstration ont besoin des outils" in result.stdout


def _run_probe_prefix(tmp_path: Path, *, blocked: bool) -> subprocess.CompletedProcess[str]:
    script = PROBE.split("import django", 1)[0].format(absent=ABSENT, repo=str(REPO), apps=APPS)
    if not blocked:
        script = script.replace("sys.meta_path.insert(0, Absent())", "")
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", script + "import devtools.stripe_standin\n"],
        cwd=tmp_path,
        env=production_env(tmp_path, PYTHONPATH=""),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_blocker_really_hides_devtools(tmp_path: Path):
    # The probe above would prove nothing if the finder let devtools through, or if devtools
    # could not be imported from that path anyway.
    blocked = _run_probe_prefix(tmp_path, blocked=True)
    open_ = _run_probe_prefix(tmp_path, blocked=False)

    assert blocked.returncode == 1
    assert "ModuleNotFoundError: No module named 'devtools'" in blocked.stderr
    assert open_.returncode == 0, open_.stderr


def test_the_docker_context_leaves_the_dev_packages_out():
    ignored = {
        line.strip().rstrip("/")
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }

    assert {"devtools", "tests", "bench", "var", ".venv", ".git"} <= ignored
    assert (REPO / "devtools" / "stripe_standin" / "server.py").exists()


def test_no_app_module_imports_devtools_at_import_time():
    offenders = []
    for app in APPS:
        for path in sorted((REPO / app).rglob("*.py")):
            tree = ast.parse(path.read_text("utf-8"))
            for node in tree.body:  # module level only: lazy imports in functions are allowed
                names = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module]
                if any(name.split(".")[0] in ABSENT for name in names):
                    offenders.append(str(path.relative_to(REPO)))

    assert offenders == []
