"""The headless agent's footprint next to two peers doing the same job, in the same run.

    python bench/agent_bench.py [--repeat 3] [--seconds 60] [--warmup 10]

Each run starts a real `forge hub` on loopback, creates two node tokens, then starts at once:

- `forge agent --jobs never` (metrics only),
- `forge agent --jobs idle` (the default: metrics plus the job worker, long-polling the hub),
- Glances (`glances -q -t 1 --export csv --export-csv-file F`), 1 s refresh,
- prometheus-node-exporter on a loopback port, scraped once a second by a loop in this
  process (the scraper's cost is not counted; only the exporter process is measured).

After the warm-up, each process tree's CPU seconds (user + system, children included)
and RSS are read with psutil every second for the window. CPU is reported as a share
of one core over the window, RSS as the median of the per-second readings (and the
maximum). Medians over the runs at the end, as a markdown table. The hub is measured
too, for reference, but it is not a peer.

Glances comes from PyPI (`pip install glances`; found on PATH or with --glances),
node_exporter from Debian (`apt-get install prometheus-node-exporter`). A missing peer
is reported as missing, and the agent is still measured. Bounded: fixed windows,
temporary folders, every child terminated at the end of its run.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import psutil

ADMIN = "bench-admin-secret"
ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Reading:
    """One process tree over one window."""
    name: str
    cpu_s: float = 0.0
    window_s: float = 0.0
    rss: list[int] = field(default_factory=list)

    @property
    def cpu_pct(self) -> float:
        return 100.0 * self.cpu_s / self.window_s if self.window_s else float("nan")

    @property
    def rss_mib(self) -> float:
        return statistics.median(self.rss) / 2**20 if self.rss else float("nan")

    @property
    def rss_max_mib(self) -> float:
        return max(self.rss) / 2**20 if self.rss else float("nan")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout_s: float = 20.0) -> None:
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout_s:.0f} s")


def forge(*args: str) -> list[str]:
    return [sys.executable, "-P", "-m", "forge_desktop.cli", *args]


def create_token(url: str, node_id: str) -> str:
    req = urllib.request.Request(url + "/api/tokens", data=json.dumps({"node_id": node_id}).encode(),
                                 headers={"Authorization": f"Bearer {ADMIN}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)["token"]


def tree_cpu_rss(proc: psutil.Process) -> tuple[float, int]:
    """CPU seconds and RSS of a process and its live descendants (a vanished child counts 0)."""
    cpu, rss = 0.0, 0
    try:
        members = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return cpu, rss
    for p in members:
        try:
            with p.oneshot():
                t = p.cpu_times()
                cpu += t.user + t.system + t.children_user + t.children_system
                rss += p.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return cpu, rss


def scrape_loop(url: str, stop: threading.Event, counts: dict[str, int]) -> None:
    """A Prometheus-like scraper: GET /metrics once a second."""
    next_at = time.monotonic()
    while not stop.is_set():
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                counts["bytes"] += len(r.read())
                counts["ok"] += 1
        except OSError:
            counts["failed"] += 1
        next_at += 1.0
        stop.wait(max(0.0, next_at - time.monotonic()))


def start(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(cmd, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def stop_all(procs: dict[str, subprocess.Popen]) -> None:
    for p in procs.values():
        if p.poll() is None:
            p.terminate()
    for p in procs.values():
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)


def one_run(seconds: float, warmup: float, glances: str | None, exporter: str | None) -> dict[str, Reading]:
    with tempfile.TemporaryDirectory(prefix="forge-agent-bench-") as tmp_name:
        tmp = Path(tmp_name)
        env = dict(os.environ, ADMIN_SECRET=ADMIN, XDG_CONFIG_HOME=str(tmp / "config"),
                   XDG_DATA_HOME=str(tmp / "data"), XDG_CACHE_HOME=str(tmp / "cache"))
        env.pop("CENTRAL_URL", None)
        procs: dict[str, subprocess.Popen] = {}
        stop = threading.Event()
        scrapes = {"ok": 0, "failed": 0, "bytes": 0}
        try:
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            procs["hub"] = start(forge("hub", "--host", "127.0.0.1", "--port", str(port),
                                       "--data-dir", str(tmp / "hub")), env, tmp / "hub.log")
            wait_http(url + "/api/health")
            for mode in ("never", "idle"):
                node = f"bench-{mode}"
                procs[f"agent --jobs {mode}"] = start(
                    forge("agent", "--hub", url, "--node-id", node, "--token", create_token(url, node),
                          "--jobs", mode), env, tmp / f"agent-{mode}.log")
            if glances:
                procs["glances"] = start([glances, "-q", "-t", "1", "--export", "csv",
                                          "--export-csv-file", str(tmp / "glances.csv")], env, tmp / "glances.log")
            scraper = None
            if exporter:
                ne_port = free_port()
                procs["node_exporter"] = start([exporter, f"--web.listen-address=127.0.0.1:{ne_port}"],
                                               env, tmp / "node_exporter.log")
                wait_http(f"http://127.0.0.1:{ne_port}/metrics")
                scraper = threading.Thread(target=scrape_loop, daemon=True,
                                           args=(f"http://127.0.0.1:{ne_port}/metrics", stop, scrapes))
                scraper.start()
            time.sleep(warmup)
            for name, p in procs.items():
                if p.poll() is not None:
                    raise RuntimeError(f"{name} exited early ({p.returncode}); see its log in the run folder")
            handles = {name: psutil.Process(p.pid) for name, p in procs.items()}
            readings = {name: Reading(name) for name in procs}
            t0 = time.monotonic()
            first = {name: tree_cpu_rss(h)[0] for name, h in handles.items()}
            next_at = t0
            while True:
                next_at += 1.0
                time.sleep(max(0.0, next_at - time.monotonic()))
                now = time.monotonic()
                for name, h in handles.items():
                    cpu, rss = tree_cpu_rss(h)
                    readings[name].rss.append(rss)
                    readings[name].cpu_s = cpu - first[name]
                    readings[name].window_s = now - t0
                if now - t0 >= seconds:
                    break
            stop.set()
            if scraper:
                scraper.join(10)
                print(f"  node_exporter scrapes: {scrapes['ok']} ok, {scrapes['failed']} failed, "
                      f"{scrapes['bytes'] / max(1, scrapes['ok']) / 1024:.0f} kB each")
            if glances:
                rows = sum(1 for _ in (tmp / "glances.csv").open()) if (tmp / "glances.csv").exists() else 0
                print(f"  glances CSV rows written: {rows}")
            return readings
        finally:
            stop.set()
            stop_all(procs)


def find_glances(given: str | None) -> str | None:
    for candidate in (given, shutil.which("glances")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def find_exporter(given: str | None) -> str | None:
    for candidate in (given, shutil.which("prometheus-node-exporter"), shutil.which("node_exporter")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=60.0, help="measured window per run")
    ap.add_argument("--warmup", type=float, default=10.0, help="seconds after start before measuring")
    ap.add_argument("--glances", help="path to the glances command (default: PATH)")
    ap.add_argument("--node-exporter", help="path to node_exporter (default: PATH)")
    args = ap.parse_args(argv)
    glances, exporter = find_glances(args.glances), find_exporter(args.node_exporter)
    print(f"python {sys.version.split()[0]}, psutil {psutil.__version__}, {psutil.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.2f}; glances: {glances or 'missing'}; "
          f"node_exporter: {exporter or 'missing'}")
    runs: list[dict[str, Reading]] = []
    for i in range(args.repeat):
        print(f"run {i + 1}/{args.repeat} ({args.warmup:.0f} s warm-up, {args.seconds:.0f} s measured)", flush=True)
        readings = one_run(args.seconds, args.warmup, glances, exporter)
        for r in readings.values():
            print(f"  {r.name:<20} cpu {r.cpu_pct:5.2f} % of one core   rss {r.rss_mib:6.1f} MiB "
                  f"(max {r.rss_max_mib:.1f})", flush=True)
        runs.append(readings)
    print(f"\nmedians of {len(runs)} runs (load average at the end {os.getloadavg()[0]:.2f}):\n")
    print("| process | CPU, % of one core (runs) | RSS MiB, median (runs) | RSS max MiB |")
    print("|---|---|---|---|")
    for name in runs[0]:
        cpus = [r[name].cpu_pct for r in runs]
        rss = [r[name].rss_mib for r in runs]
        peak = max(r[name].rss_max_mib for r in runs)
        print(f"| {name} | {statistics.median(cpus):.2f} ({', '.join(f'{c:.2f}' for c in cpus)}) "
              f"| {statistics.median(rss):.1f} ({', '.join(f'{m:.1f}' for m in rss)}) | {peak:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
