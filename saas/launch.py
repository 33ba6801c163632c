"""The two README commands, after ``./egide`` has prepared the virtualenv.

``run``: embedded services (unless configured), migrations, demo data, then every process of the
Procfile together, supervised (``Supervisor``): a process that dies is restarted with a backoff
and logged, and never stops the others (a killed evidence worker used to stop the web server). ``test``: embedded services (unless configured), ruff, mypy, lint-imports, pytest;
``test --live``: the live stage (``tests/live``), which starts ``run`` itself from an empty
``var/`` on free ports and drives it over HTTP. Services this process started are stopped when
it exits; data stays under ``var/`` (or ``EGIDE_VAR_DIR``).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

# The ports ``run`` listens on: (environment variable, default, what listens there).
PORTS: tuple[tuple[str, int, str], ...] = (
    ("EGIDE_PORT", 8000, "serveur web"),
    ("EGIDE_STRIPE_PORT", 12111, "Stripe local"),
    ("EGIDE_TSA_PORT", 12112, "autorité d'horodatage locale"),
    ("EGIDE_DEMO_REVIEWS_PORT", 12113, "site d'avis de démonstration"),
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


def procfile_read(path: Path) -> list[tuple[str, str]]:
    """The ``name: command`` lines of a Procfile, in order (comments and blanks skipped)."""
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([A-Za-z0-9_-]+):\s*(.+)$", line.strip())
        if match and not line.lstrip().startswith("#"):
            entries.append((match.group(1), match.group(2)))
    return entries


class Supervisor:
    """Run every Procfile process; restart one that dies, never stop the others because of it.

    Each process runs in its own session (its children, e.g. Dramatiq's worker processes, in
    its process group), its output prefixed with its name as honcho did. A process that exits
    is restarted after a backoff (1 s, doubled up to ``BACKOFF_MAX_S``, reset once it has run
    ``STABLE_S``). ``stop()`` (Ctrl-C, SIGTERM) sends SIGTERM to every group, then SIGKILL to
    those still alive after ``STOP_GRACE_S``.
    """

    BACKOFF_MAX_S = 60.0
    STABLE_S = 60.0
    STOP_GRACE_S = 10.0

    def __init__(self, entries: list[tuple[str, str]], *, env: dict[str, str], cwd: Path) -> None:
        self.entries = entries
        self.env = env
        self.cwd = cwd
        self.processes: dict[str, subprocess.Popen] = {}
        self.started_at: dict[str, float] = {}
        self.backoff: dict[str, float] = {name: 1.0 for name, _ in entries}
        self.restart_at: dict[str, float] = {}
        self.restarts: dict[str, int] = {name: 0 for name, _ in entries}
        self.stopping = threading.Event()
        self._print_lock = threading.Lock()
        self.width = max((len(name) for name, _ in entries), default=3)

    def say(self, name: str, text: str) -> None:
        with self._print_lock:
            stamp = time.strftime("%H:%M:%S")
            print(f"{stamp} {name.ljust(self.width)} | {text}", flush=True)

    def _pump(self, name: str, stream) -> None:
        for raw in iter(stream.readline, b""):
            self.say(name, raw.decode("utf-8", errors="replace").rstrip("\n"))
        stream.close()

    def start(self, name: str) -> None:
        command = dict(self.entries)[name]
        process = subprocess.Popen(  # noqa: S603
            ["/bin/sh", "-c", f"exec {command}"],  # noqa: S607 - the Procfile's own commands
            cwd=self.cwd,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes[name] = process
        self.started_at[name] = time.monotonic()
        threading.Thread(target=self._pump, args=(name, process.stdout), daemon=True).start()
        self.say("system", f"{name} démarré (pid {process.pid})")

    def check(self) -> None:
        """Restart what died (after its backoff); called every few tenths of a second."""
        now = time.monotonic()
        for name, _command in self.entries:
            process = self.processes.get(name)
            if process is not None and process.poll() is not None:
                ran = now - self.started_at[name]
                if ran >= self.STABLE_S:
                    self.backoff[name] = 1.0
                delay = self.backoff[name]
                self.backoff[name] = min(delay * 2, self.BACKOFF_MAX_S)
                self.say(
                    "system",
                    f"{name} s'est arrêté (code {process.returncode}) : "
                    f"redémarrage dans {delay:g} s, les autres processus continuent",
                )
                del self.processes[name]
                self.restart_at[name] = now + delay
            if name not in self.processes and now >= self.restart_at.get(name, 0):
                if name in self.restart_at:
                    self.restarts[name] += 1
                self.restart_at.pop(name, None)
                self.start(name)

    def run(self) -> int:
        for name, _command in self.entries:
            self.start(name)
        while not self.stopping.wait(0.3):
            self.check()
        return self.stop_all()

    def stop_all(self) -> int:
        alive = [p for p in self.processes.values() if p.poll() is None]
        for process in alive:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + self.STOP_GRACE_S
        for process in alive:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)
        # Children that outlived their leader (a process group whose leader already exited).
        for process in self.processes.values():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
        self.say("system", "tous les processus sont arrêtés")
        return 0


def command_run(env: dict[str, str]) -> int:
    env.setdefault("DJANGO_SETTINGS_MODULE", "saas.settings.dev")
    _django(["migrate_all", "-v", "0"], env)
    _django(["demo_seed"], env)
    print("\nÉgide démarre : Ctrl-C pour arrêter.\n", flush=True)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    supervisor = Supervisor(procfile_read(BASE_DIR / "Procfile"), env=env, cwd=BASE_DIR)

    def stop(signum, frame):  # noqa: ARG001
        supervisor.stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    return supervisor.run()


def command_test(rest: list[str], env: dict[str, str]) -> int:
    env["DJANGO_SETTINGS_MODULE"] = "saas.settings.test"
    if "--live" in rest:
        return _run([sys.executable, "-m", "tests.live.stage", *rest], env)
    for step in (
        [str(BIN / "ruff"), "check", "."],
        [str(BIN / "ruff"), "format", "--check", "."],
        [str(BIN / "mypy")],
        [str(BIN / "lint-imports")],  # the layers (.importlinter, README.md "Layout")
    ):
        if code := _run(step, env):
            print(f"Échec : {Path(step[0]).name}", flush=True)
            return code
    return _run([sys.executable, "-m", "pytest", *rest], env)


def main(argv: list[str]) -> int:
    warnings.filterwarnings("ignore")
    sys.path.insert(0, str(BASE_DIR))
    from saas import embedded  # lazy: needs BASE_DIR on sys.path (set just above)

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
