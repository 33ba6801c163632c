"""The import contracts (``.importlinter``) that ``./egide test`` runs with ``lint-imports``.

The tree keeps them; and they are not vacuous: in a copy of the tree, an app importing a layer
above it, an app importing ``saas``, a direct ``stripe`` import and a selector importing a
service each break their contract.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGES = [
    "common",
    "saas",
    "devtools",
    "tenants",
    "cover",
    "evidence",
    "cleanup",
    "mailing",
    "outbox",
]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603
        [str(LINT_IMPORTS), "--no-cache"], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_the_tree_keeps_every_import_contract():
    result = _lint(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 4 kept, 0 broken." in result.stdout


def test_each_contract_catches_its_violation(tmp_path: Path):
    for package in PACKAGES:
        shutil.copytree(
            REPO / package,
            tmp_path / package,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "static", "templates"),
        )
    shutil.copy(REPO / ".importlinter", tmp_path / ".importlinter")
    violations = {
        "tenants/roles.py": "from cover import models as _up  # noqa\n",
        "outbox/selectors.py": "from saas import onboarding as _saas  # noqa\n",
        "cover/apps.py": "import stripe as _stripe  # noqa\n",
        "cleanup/selectors.py": "from cleanup import services as _write  # noqa\n",
    }
    for path, line in violations.items():
        with (tmp_path / path).open("a") as module:
            module.write(line)

    result = _lint(tmp_path)

    assert result.returncode != 0
    assert "Contracts: 0 kept, 4 broken." in result.stdout
    assert "tenants.roles -> cover.models" in result.stdout
    assert "outbox.selectors -> saas.onboarding" in result.stdout
    assert "cover.apps -> stripe" in result.stdout
    assert "cleanup.selectors -> cleanup.services" in result.stdout
