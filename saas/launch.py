"""The two README commands, after ``./egide`` has prepared the virtualenv.

``run``: embedded services (unless configured), migrations, demo data, then every process of the
Procfile together (honcho). ``test``: embedded services (unless configured), ruff, mypy, pytest;
``test --live``: the live stage (``tests/live``), which starts ``run`` itself from an empty
``var/`` on free ports and drives it over HTTP. Services this process started are stopped when
it exits; data stays under ``var/`` (or ``EGIDE_VAR_DIR``).
"""

from __future__ import annotations

import errno
import os
import signal
import socket
import subprocess
import sys
import warnings
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

# The ports ``run`` listens on: (environment variable, default, what listens there).
PORTS: tuple[tuple[str, int, str], ...] = (
    ("EGIDE_PORT", 8000, "serveur web"),
    ("EGIDE_STRIPE_PORT", 12111, "Stripe local"),
    ("EGIDE_TSA_PORT", 12112, "autorité d'horodatage locale"),
)


def _run(args: list[str], env: dict[str, str]) -> int:
    return subprocess.call(args, cwd=BASE_DIR, env=env)  # noqa: S603


def _django(args: list[str], env: dict[str, str]) -> None:
    code = _run([sys.executable, "-W", "ignore", "manage.py", *args], env)
    if code:
        raise SystemExit(code)


def port_taken(port: int) -> bool:
    """True when something already listens on ``port`` or it cannot be bound.

    Binding the wildcard address fails whenever any address (127.0.0.1 included) holds the port.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("0.0.0.0", port))  # noqa: S104 - a probe, closed at once
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return True
            raise
    return False


def ports_check(env: dict[str, str]) -> str | None:
    """A French message naming the first taken port and the variable that moves it, or None."""
    for variable, default, what in PORTS:
        raw = env.get(variable) or str(default)
        if not raw.isdigit() or not 0 < int(raw) < 65536:
            return f"{variable}={raw} n'est pas un numéro de port valide (1 à 65535)."
        port = int(raw)
        if port_taken(port):
            return (
                f"Le port {port} ({what}) est déjà utilisé par un autre programme.\n"
                f"Arrêtez ce programme, ou choisissez un autre port, par exemple :\n"
                f"  {variable}={port + 1} ./egide run"
            )
    return None


def command_run(env: dict[str, str]) -> int:
    env.setdefault("DJANGO_SETTINGS_MODULE", "saas.settings.dev")
    _django(["migrate_all", "-v", "0"], env)
    _django(["demo_seed"], env)
    print("\nÉgide démarre : Ctrl-C pour arrêter.\n", flush=True)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    honcho = subprocess.Popen(  # noqa: S603
        [str(BIN / "honcho"), "start", "-f", "Procfile"], cwd=BASE_DIR, env=env
    )

    def stop(signum, frame):  # noqa: ARG001
        # honcho stops every process of the Procfile on SIGINT / SIGTERM.
        if honcho.poll() is None:
            honcho.send_signal(signal.SIGINT)

    signal.signal(signal.SIGTERM, stop)
    try:
        return honcho.wait()
    except KeyboardInterrupt:
        stop(None, None)
        return honcho.wait()


def command_test(rest: list[str], env: dict[str, str]) -> int:
    env["DJANGO_SETTINGS_MODULE"] = "saas.settings.test"
    if "--live" in rest:
        return _run([sys.executable, "-m", "tests.live.stage", *rest], env)
    for step in (
        [str(BIN / "ruff"), "check", "."],
        [str(BIN / "ruff"), "format", "--check", "."],
        [str(BIN / "mypy")],
    ):
        if code := _run(step, env):
            print(f"Échec : {Path(step[0]).name}", flush=True)
            return code
    return _run([sys.executable, "-m", "pytest", *rest], env)


def main(argv: list[str]) -> int:
    warnings.filterwarnings("ignore")
    sys.path.insert(0, str(BASE_DIR))
    from saas import embedded

    command, rest = (argv[0] if argv else "run"), argv[1:]
    if command not in ("run", "test"):
        print(f"Commande inconnue : {command} (run | test)", file=sys.stderr)
        return 2
    if command == "test" and "--live" in rest:
        # The live stage starts its own ``run`` (embedded servers in an empty var/, free ports).
        return command_test(rest, dict(os.environ))
    if command == "run" and (taken := ports_check(dict(os.environ))):
        print(taken, file=sys.stderr)  # before anything is started
        return 1
    started = embedded.services_env_ensure()
    env = dict(os.environ)
    try:
        if command == "run":
            return command_run(env)
        return command_test(rest, env)
    finally:
        embedded.services_stop(started)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
