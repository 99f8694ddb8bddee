"""How fast the worker gets out of the user's way: user input → job's child suspended, and
idleness → child resumed.

    python bench/suspend_bench.py --repeat 20

A real `forge hub` on loopback with test jobs allowed, the Worker of forge_desktop.worker in
this process with its real child process, and only the user scripted (the same stand-in
for keyboard and mouse the worker tests use). One long `sleep` job runs; each round the
user comes back (idle 0 s) and leaves again (idle 1 h). Printed: median, p95 and max of
each latency, with the worker's tick (`--tick`; 0.5 s is WorkerOptions' default, the worker
tests use 0.1 s) and the load average. The goal is both within 1 s.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from loopback import free_port, http, isolated_env, stop_process_groups, wait_for_hub

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from forge_desktop.client import HubClient  # noqa: E402
from forge_desktop.worker import Worker, WorkerOptions  # noqa: E402

ADMIN = "bench-admin-secret"


@dataclass
class ScriptedUser:
    """The IdleInputs protocol with a user the bench controls; quiet CPU, no battery."""
    idle_s: float = 3600.0

    def user_idle_seconds(self) -> float | None:
        return self.idle_s

    def on_battery(self) -> bool | None:
        return False

    def other_cpu_percent(self) -> float:
        return 0.0

    def logical_cores(self) -> int:
        return 2


def _status(pid: int) -> str:
    try:
        return psutil.Process(pid).status()
    except psutil.NoSuchProcess:
        return "gone"


def _time_until(predicate, timeout: float = 10.0) -> float:
    began = time.perf_counter()
    while not predicate():
        if time.perf_counter() - began > timeout:
            raise TimeoutError("no change within %.0f s" % timeout)
        time.sleep(0.005)
    return time.perf_counter() - began


def run(repeat: int, tick_s: float) -> tuple[list[float], list[float]]:
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = isolated_env(Path(tmp), ADMIN, FORGE_HUB_ALLOW_TEST_JOBS="1")
        hub = subprocess.Popen([sys.executable, "-m", "forge_desktop.cli", "hub", "--host", "127.0.0.1",
                                "--port", str(port), "--data-dir", tmp + "/hub"], env=env, cwd=tmp,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        worker = None
        try:
            if not wait_for_hub(url, 30):
                raise SystemExit("the hub did not start")
            token = http("POST", url + "/api/tokens", {"node_id": "desk"}, token=ADMIN)[1]["token"]
            st, job = http("POST", url + "/api/jobs", {"type": "sleep", "payload": {"seconds": 3600}}, token=ADMIN)
            assert st == 201, job
            user = ScriptedUser()
            options = WorkerOptions(mode="idle", types=["sleep"], idle_after_s=60, tick_s=tick_s,
                                    outbox=Path(tmp) / "outbox")
            os.environ["PYTHON_KEYRING_BACKEND"] = "keyrings.alt.file.PlaintextKeyring"
            worker = Worker(HubClient(url, token), "desk", options, inputs=user)
            worker.start()
            _time_until(lambda: job["id"] in worker.jobs and _status(worker.jobs[job["id"]].process.pid)
                        not in ("gone", psutil.STATUS_ZOMBIE), timeout=30)
            pid = worker.jobs[job["id"]].process.pid
            suspend, resume = [], []
            for _ in range(repeat):
                user.idle_s = 0.0
                suspend.append(_time_until(lambda: _status(pid) == psutil.STATUS_STOPPED))
                time.sleep(0.3)
                user.idle_s = 3600.0
                resume.append(_time_until(lambda: _status(pid) != psutil.STATUS_STOPPED))
                time.sleep(0.3)
            return suspend, resume
        finally:
            if worker is not None:
                worker.stop()
            stop_process_groups([hub])


def _summary(name: str, values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return (f"{name}: median {statistics.median(values) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
            f"max {ordered[-1] * 1000:.0f} ms over {len(values)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--tick", type=float, default=0.5, help="the worker's tick in seconds")
    args = parser.parse_args()
    suspend, resume = run(min(args.repeat, 200), args.tick)
    print(f"load average {os.getloadavg()[0]:.1f}, tick {args.tick} s")
    print(_summary("input → suspended", suspend))
    print(_summary("idle → resumed", resume))


if __name__ == "__main__":
    main()
