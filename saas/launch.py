"""The two README commands, after ``./egide`` has prepared the virtualenv.

``run``: embedded services (unless configured), migrations, demo data, then web + worker +
scheduler together (honcho). ``test``: embedded services (unless configured), ruff, mypy, pytest.
Services this process started are stopped when it exits; data stays under ``var/``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _run(args: list[str], env: dict[str, str]) -> int:
    return subprocess.call(args, cwd=BASE_DIR, env=env)  # noqa: S603


def _django(args: list[str], env: dict[str, str]) -> None:
    code = _run([sys.executable, "-W", "ignore", "manage.py", *args], env)
    if code:
        raise SystemExit(code)


def main(argv: list[str]) -> int:
    warnings.filterwarnings("ignore")
    sys.path.insert(0, str(BASE_DIR))
    from saas import embedded

    command, rest = (argv[0] if argv else "run"), argv[1:]
    started = embedded.services_env_ensure()
    env = dict(os.environ)
    try:
        if command == "run":
            env.setdefault("DJANGO_SETTINGS_MODULE", "saas.settings.dev")
            _django(["migrate_all", "-v", "0"], env)
            _django(["demo_seed"], env)
            print("\nÉgide démarre : Ctrl-C pour arrêter.\n", flush=True)
            env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
            return _run([str(BIN / "honcho"), "start", "-f", "Procfile"], env)
        if command == "test":
            env["DJANGO_SETTINGS_MODULE"] = "saas.settings.test"
            for step in (
                [str(BIN / "ruff"), "check", "."],
                [str(BIN / "ruff"), "format", "--check", "."],
                [str(BIN / "mypy")],
            ):
                if code := _run(step, env):
                    print(f"Échec : {Path(step[0]).name}", flush=True)
                    return code
            return _run([sys.executable, "-m", "pytest", *rest], env)
        print(f"Commande inconnue : {command} (run | test)", file=sys.stderr)
        return 2
    finally:
        if "DATABASE_URL" in started:
            embedded.postgres_stop()
        if "REDIS_URL" in started:
            embedded.redis_stop()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
