"""Children that die with their parent: the process-watching path Windows takes, run here as
real processes (a parent, its child, and a SIGKILL of the parent)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys

import psutil

from conftest import wait_until

CHILD = """
import sys, time
from forge_desktop.lifetime import watch_parent_process
watch_parent_process(int(sys.argv[1]))
print("watching", flush=True)
time.sleep(120)
"""

PARENT = """
import subprocess, sys, os, time
child = subprocess.Popen([sys.executable, "-c", sys.argv[1], str(os.getpid())], stdout=subprocess.PIPE)
assert child.stdout.readline().strip() == b"watching"
print(child.pid, flush=True)
time.sleep(120)
"""


def test_a_child_watching_its_parent_exits_when_the_parent_is_killed():
    parent = subprocess.Popen([sys.executable, "-c", PARENT, CHILD], stdout=subprocess.PIPE)
    try:
        child = psutil.Process(int(parent.stdout.readline()))
        assert child.is_running() and child.ppid() == parent.pid
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(5)
        wait_until(lambda: not child.is_running() or child.status() == psutil.STATUS_ZOMBIE, 10,
                   what="the child to exit after its parent's kill -9")
    finally:
        if parent.poll() is None:
            parent.kill()


def test_watching_a_parent_that_is_already_gone_exits_at_once():
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait(10)
    child = subprocess.run([sys.executable, "-c", CHILD, str(gone.pid)], capture_output=True, timeout=30)
    assert child.returncode == 1 and b"watching" not in child.stdout
