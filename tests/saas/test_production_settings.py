"""Production settings: ``check --deploy`` is clean, and they refuse to start half-configured."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.saas.production_env import REPO, production_env

pytestmark = pytest.mark.django_db


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_check_deploy_is_clean_with_production_settings(tmp_path: Path):
    result = _manage(production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output
    assert "WARNINGS" not in output


def test_production_sends_one_year_hsts_with_subdomains_and_redirects_to_https(tmp_path: Path):
    script = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, "
        "s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.DEBUG]))"
    )
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", script],
        cwd=REPO,
        env=production_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [
        31_536_000,
        True,
        True,
        True,
        True,
        False,
    ]


@pytest.mark.parametrize(
    ("overrides", "setting"),
    [
        # The development default (what an unset variable gives) and no key at all.
        ({"STRIPE_SECRET_KEY": "sk_test_egide_local_dev_key"}, "STRIPE_SECRET_KEY"),
        ({"STRIPE_SECRET_KEY": ""}, "STRIPE_SECRET_KEY"),
        ({"STRIPE_WEBHOOK_SECRET": ""}, "STRIPE_WEBHOOK_SECRET"),
        ({"EGIDE_TSA_URL": ""}, "EGIDE_TSA_URL"),
        ({"EGIDE_TSA_CERT_FILE": ""}, "EGIDE_TSA_CERT_FILE"),
    ],
)
def test_production_refuses_to_start_half_configured(tmp_path: Path, overrides, setting):
    env = production_env(tmp_path, **overrides)
    if overrides.get("STRIPE_SECRET_KEY") == "sk_test_egide_local_dev_key":
        del env["STRIPE_SECRET_KEY"]  # unset: the settings fall back to the development key

    result = _manage(env, "check")

    assert result.returncode != 0
    assert f"ImproperlyConfigured: {setting} : " in result.stderr
    # French for the operator, English after the slash.
    assert "Stripe" in result.stderr or "horodatage" in result.stderr
    assert " / " in result.stderr.splitlines()[-1]
