"""Quitting with windows open exits cleanly: every kind of window the desktop app opens,
each drawing from a real hub, then the process ends the way a user's quit ends it (the
interpreter's exit, PySide6's cleanup). A crash there is invisible in the window but
shows as a killed process (SIGSEGV, exit 139) and, on macOS, a crash report."""
from __future__ import annotations

import os
import subprocess
import sys
import time

from conftest import ADMIN, http, wait_until

SCRIPT = r"""
import sys, time
from PySide6.QtWidgets import QApplication
import forge_desktop.ui
app = QApplication([])
from forge_desktop.ui.fleet_window import FleetWindow
from forge_desktop.ui.jobs.job_window import JobWindow
from forge_desktop.ui.jobs.list_window import JobsWindow
from forge_desktop.ui.node_window import NodeWindow
url, node, job = sys.argv[1], sys.argv[2], int(sys.argv[3])
windows = [FleetWindow(url, None), NodeWindow(url, None, node), JobsWindow(url, None), JobWindow(url, None, job)]
for w in windows:
    w.show()
deadline = time.monotonic() + 3
while time.monotonic() < deadline:
    app.processEvents()
    time.sleep(0.01)
print("windows open:", ", ".join(type(w).__name__ for w in windows if w.isVisible()), flush=True)
"""


def test_quitting_with_every_window_open_exits_cleanly(live_hub, tmp_path):
    hub = live_hub()
    hub.start_agent("exit-box")
    wait_until(lambda: "exit-box" in hub.fleet(), 30, what="exit-box in the fleet")
    st, job = http("POST", hub.url + "/api/jobs",
                   {"type": "mps", "payload": {"model": "Maximize\n obj: x\nSubject To\n c1: x <= 4\nEnd\n", "format": "lp"}}, token=ADMIN)
    assert st == 201, job
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONFAULTHANDLER="1")
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", SCRIPT, hub.url, "exit-box", str(job["id"])],
                          capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path)
    assert "windows open: FleetWindow, NodeWindow, JobsWindow, JobWindow" in done.stdout, done.stderr[-3000:]
    assert done.returncode == 0, f"exit code {done.returncode} after {time.monotonic() - started:.1f} s:\n" \
                                 f"{done.stderr[-3000:]}"
