"""``./egide run``'s supervisor (``saas.launch.Supervisor``) on real processes.

A worker killed with SIGKILL is restarted (logged) and the web process keeps serving; Ctrl-C
then stops every process.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.resilience.conftest import free_port, wait_until

REPO = Path(__file__).resolve().parents[2]

RUNNER = """
import signal, sys
from pathlib import Path
from saas.launch import Supervisor, procfile_read
supervisor = Supervisor(procfile_read(Path(sys.argv[1])), env=dict(__import__("os").environ),
                        cwd=Path(sys.argv[1]).parent)
signal.signal(signal.SIGINT, lambda *a: supervisor.stopping.set())
sys.exit(supervisor.run())
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


def _pids(log: Path, name: str) -> list[int]:
    text = log.read_text(errors="replace")
    return [int(p) for p in re.findall(rf"{name} démarré \(pid (\d+)\)", text)]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310
            return response.status == 200
    except OSError:
        return False


def test_a_killed_worker_is_restarted_and_the_web_process_keeps_serving(tmp_path):
    port = free_port()
    procfile = tmp_path / "Procfile"
    procfile.write_text(
        f"web: {sys.executable} -m http.server {port} --bind 127.0.0.1 --directory {tmp_path}\n"
        f'worker: {sys.executable} -c "import time; time.sleep(600)"\n'
    )
    log = tmp_path / "run.log"
    supervisor = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", RUNNER, str(procfile)],
        cwd=REPO,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_until(lambda: _answers(f"http://127.0.0.1:{port}/"), timeout_s=20, what="web")
        wait_until(lambda: _pids(log, "worker"), timeout_s=10, what="worker démarré")
        (first_worker,) = _pids(log, "worker")
        (web,) = _pids(log, "web")
        # when the worker is killed
        os.kill(first_worker, signal.SIGKILL)
        # then it is restarted, the restart is logged, and the web process never stopped
        wait_until(lambda: len(_pids(log, "worker")) == 2, timeout_s=15, what="redémarrage")
        assert "worker s'est arrêté (code -9) : redémarrage dans 1 s" in log.read_text()
        assert _answers(f"http://127.0.0.1:{port}/")
        assert _pids(log, "web") == [web] and _alive(web)
        second_worker = _pids(log, "worker")[1]
        assert second_worker != first_worker and _alive(second_worker)
        # when Ctrl-C is pressed, everything stops
        os.killpg(supervisor.pid, signal.SIGINT)
        assert supervisor.wait(timeout=30) == 0
        time.sleep(0.5)
        assert not _alive(web) and not _alive(second_worker)
        assert not _answers(f"http://127.0.0.1:{port}/")
    finally:
        if supervisor.poll() is None:
            os.killpg(supervisor.pid, signal.SIGKILL)
            supervisor.wait(10)
        for pid in _pids(log, "web") + _pids(log, "worker"):
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
