"""The headless agent's footprint next to two peers doing the same job, in the same run.

    python bench/agent_bench.py [--repeat 3] [--seconds 60] [--warmup 10]
    python bench/agent_bench.py --schema2-only [--probe-reads 200] [--bytes-seconds 30]

First (sample schema 2, docs/SAMPLES.md), in this process:

- the CPU each schema 2 probe costs per read (``time.thread_time``, median and p95 over
  ``--probe-reads`` reads) and per second of agent life (processes and the container
  poll run every 5 s), next to a whole schema 1 ``sample()``. Probes of what this machine
  lacks run against recorded stand-ins: AMD on the amdgpu sysfs tree of
  tests/fixtures/platform/amdgpu_sysfs.json written to a temporary folder (real file
  reads), the container poll against a Docker Engine API server on a Unix socket in
  this process answering with tests/fixtures/platform/docker_engine.json (real HTTP
  over the socket, ``--containers`` running containers). NVIDIA is not measured: the
  cost is NVML's own, which needs the board;
- bytes per sample of schema 2 against schema 1: a schema 1 and a schema 2 collector
  sample this machine side by side once a second for ``--bytes-seconds``; on the wire
  (the compact JSON the agent posts) and in the store (a real `forge hub` per schema
  gets the samples, re-timed one second apart, through the ingest API; after it
  stops, the ``samples`` table's pages from ``dbstat`` over the number of samples).

Then the side-by-side run (skipped with ``--schema2-only``):

Each run starts a real `forge hub` on loopback, creates two node tokens, then starts at once:

- `forge agent --jobs never` (metrics only),
- `forge agent --jobs idle` (the default: metrics plus the job worker, long-polling the hub),
- `forge agent --jobs never` with `FORGE_SAMPLE_SCHEMA=1` (sample schema 1: what schema 2 adds),
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
FIXTURES = ROOT / "tests" / "fixtures" / "platform"


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
            procs["agent --jobs never, schema 1"] = start(
                forge("agent", "--hub", url, "--node-id", "bench-schema1", "--token",
                      create_token(url, "bench-schema1"), "--jobs", "never"),
                dict(env, FORGE_SAMPLE_SCHEMA="1"), tmp / "agent-schema1.log")
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


# --- sample schema 2: per-probe cost and bytes per sample ------------------------------------


def cpu_ms(call, reads: int) -> tuple[float, float]:
    """Median and p95 of this thread's CPU milliseconds per call."""
    costs = []
    for _ in range(reads):
        t0 = time.thread_time()
        call()
        costs.append((time.thread_time() - t0) * 1000)
    costs.sort()
    return statistics.median(costs), costs[int(len(costs) * 0.95) - 1]


class FakeEngine(threading.Thread):
    """Docker Engine API answers from docker_engine.json on a Unix socket, ``running`` copies of its
    running container (the bench measures the client's side of a poll)."""

    def __init__(self, path: str, running: int) -> None:
        super().__init__(daemon=True)
        import http.server
        import re
        import socketserver
        recorded = json.loads((FIXTURES / "docker_engine.json").read_text())
        template = recorded["containers"][0]
        listed = [dict(template, Id=f"{i:064x}", Names=[f"/svc-{i}"]) for i in range(running)]
        listed += recorded["containers"][1:]
        stats = json.dumps(recorded["stats"][template["Id"]]).encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def address_string(self) -> str:
                return "unix"

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                body = (b"OK" if self.path == "/_ping" else json.dumps(listed).encode()
                        if self.path.startswith("/containers/json") else stats
                        if re.match(r"/containers/\w+/stats", self.path) else None)
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

        self.server = socketserver.ThreadingUnixStreamServer(path, Handler)
        self.server.daemon_threads = True

    def run(self) -> None:
        self.server.serve_forever()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def probe_costs(reads: int, containers: int) -> list[tuple[str, float, float, float]]:
    """(probe, median ms per read, p95 ms per read, ms per second of agent life)."""
    from forge_desktop.collector import Collector
    from forge_desktop.platform.containers import Containers, EngineClient
    from forge_desktop.platform.devices import DiskDevices, Fans, NetInterfaces
    from forge_desktop.platform.gpus import detect_gpus
    from forge_desktop.platform.processes import TopProcesses

    rows = []
    clock = iter(range(10**9))
    base = Collector(probes=())
    base.sample()
    med, p95 = cpu_ms(base.sample, reads)
    rows.append(("schema 1 sample() (reference)", med, p95, med))
    top = TopProcesses(psutil)
    top.read(time.time())
    med, p95 = cpu_ms(lambda: top.read(time.time() + next(clock)), max(20, reads // 5))
    rows.append((f"processes, {len(psutil.pids())} processes, every 5 s", med, p95, med / 5))

    def cold() -> None:
        top._details.clear()  # the 15 chosen processes all new: their user and command line read
        top.read(time.time() + next(clock))
    med, p95 = cpu_ms(cold, max(20, reads // 5))
    rows.append(("processes, every chosen process new", med, p95, med / 5))
    for probe in (DiskDevices(psutil), NetInterfaces(psutil), Fans(psutil)):
        probe.read(time.time())
        med, p95 = cpu_ms(lambda: probe.read(time.time() + next(clock)), reads)
        rows.append((f"{probe.name} ({'every sample'})", med, p95, med))
    with tempfile.TemporaryDirectory(prefix="forge-probe-bench-") as tmp_name:
        drm = Path(tmp_name) / "drm"
        for rel, text in json.loads((FIXTURES / "amdgpu_sysfs.json").read_text())["files"].items():
            (drm / rel).parent.mkdir(parents=True, exist_ok=True)
            (drm / rel).write_text(text)
        gpus = detect_gpus(nvml=None, drm_root=drm)
        med, p95 = cpu_ms(lambda: gpus.read(0.0), reads)
        rows.append(("gpus, one AMD card (recorded sysfs tree)", med, p95, med))
        med, p95 = cpu_ms(lambda: detect_gpus(drm_root=Path(tmp_name) / "none"), 5)
        rows.append(("gpus, looking for GPUs at start (none here)", med, p95, 0.0))
        engine = FakeEngine(str(Path(tmp_name) / "docker.sock"), containers)
        engine.start()
        try:
            probe = Containers([str(Path(tmp_name) / "docker.sock")])
            client = EngineClient(str(Path(tmp_name) / "docker.sock"))
            probe.poll(client)
            med, p95 = cpu_ms(lambda: probe.poll(client), max(20, reads // 5))
            rows.append((f"containers poll, {containers} running + 1 exited, every 5 s (own thread)",
                         med, p95, med / 5))
            probe._latest = (time.monotonic(), probe.poll(client))
            probe._thread = threading.current_thread()  # no poller thread: read() only copies
            med, p95 = cpu_ms(lambda: probe.read(0.0), reads)
            rows.append(("containers, the sampler's read (latest answer)", med, p95, med))
        finally:
            engine.close()
        absent = Containers([str(Path(tmp_name) / "absent.sock")])
        med, p95 = cpu_ms(absent._discover, reads)
        rows.append(("containers, looking for an engine (none), every 60 s", med, p95, med / 60))
    return rows


def sample_bytes(seconds: int) -> dict[int, list[dict]]:
    """Samples of a schema 1 and a schema 2 collector taken side by side once a second."""
    from forge_desktop.collector import Collector
    collectors = {1: Collector(probes=()), 2: Collector()}
    out: dict[int, list[dict]] = {1: [], 2: []}
    try:
        next_at = time.monotonic()
        for _ in range(seconds):
            for schema, collector in collectors.items():
                out[schema].append(collector.sample())
            next_at += 1.0
            time.sleep(max(0.0, next_at - time.monotonic()))
    finally:
        collectors[2].close()
    return out


def stored_bytes(samples: list[dict], copies: int) -> tuple[int, float, float]:
    """(samples stored, mean JSON bytes per stored row, ``samples`` table bytes per sample) in a real hub."""
    import sqlite3
    from disk_bench import call as post, start_hub, table_bytes
    with tempfile.TemporaryDirectory(prefix="forge-bytes-bench-") as tmp_name:
        data_dir = Path(tmp_name) / "hub"
        data_dir.mkdir()
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        hub = start_hub(data_dir, port)
        try:
            token = post(f"{url}/api/tokens", {"node_id": "bytes"}, ADMIN)["token"]
            start = time.time() - copies * len(samples) - 60
            retimed = [dict(s, ts=start + i + 0.123) for i, s in enumerate(samples * copies)]
            identity = {"hostname": "bytes", "os": "Linux", "cores": psutil.cpu_count()}
            for i in range(0, len(retimed), 500):
                post(f"{url}/api/ingest/bytes", {"node": identity, "samples": retimed[i:i + 500]}, token)
        finally:
            hub.terminate()
            hub.wait(20)
        db = data_dir / "forge.db"
        with sqlite3.connect(db) as c:
            c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            rows, json_bytes = c.execute("SELECT count(*), sum(length(data)) FROM samples").fetchone()
        c.close()
        return rows, json_bytes / rows, table_bytes(db)["samples"] / rows


def schema2_report(reads: int, containers: int, seconds: int) -> None:
    print(f"\nper-probe CPU on this thread ({reads} reads; python {sys.version.split()[0]}, "
          f"psutil {psutil.__version__}, load average {os.getloadavg()[0]:.2f}):\n")
    print("| probe | ms per read, median | p95 | ms per second of agent life |")
    print("|---|---|---|---|")
    for name, med, p95, per_s in probe_costs(reads, containers):
        print(f"| {name} | {med:.3f} | {p95:.3f} | {per_s:.3f} |")
    print(f"\nbytes per sample, {seconds} s of this machine side by side:\n")
    samples = sample_bytes(seconds)
    print("| schema | samples | with processes | wire: compact JSON per sample, mean | max "
          "| store: JSON per row | store: `samples` table bytes per sample |")
    print("|---|---|---|---|---|---|---|")
    for schema, taken in samples.items():
        sizes = [len(json.dumps(s, separators=(",", ":"))) for s in taken]
        rows, row_json, table = stored_bytes(taken, copies=max(1, 600 // len(taken)))
        print(f"| {schema} | {len(taken)} | {sum('processes' in s for s in taken)} | "
              f"{statistics.mean(sizes):,.0f} | {max(sizes):,} | {row_json:,.0f} | {table:,.0f} ({rows} rows) |")


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=60.0, help="measured window per run")
    ap.add_argument("--warmup", type=float, default=10.0, help="seconds after start before measuring")
    ap.add_argument("--glances", help="path to the glances command (default: PATH)")
    ap.add_argument("--node-exporter", help="path to node_exporter (default: PATH)")
    ap.add_argument("--schema2-only", action="store_true", help="only the probe costs and bytes per sample")
    ap.add_argument("--probe-reads", type=int, default=200)
    ap.add_argument("--containers", type=int, default=10, help="running containers the stand-in engine lists")
    ap.add_argument("--bytes-seconds", type=int, default=30)
    args = ap.parse_args(argv)
    schema2_report(args.probe_reads, args.containers, args.bytes_seconds)
    if args.schema2_only:
        return 0
    glances, exporter = find_glances(args.glances), find_exporter(args.node_exporter)
    print(f"python {sys.version.split()[0]}, psutil {psutil.__version__}, {psutil.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.2f}; glances: {glances or 'missing'}; "
          f"node_exporter: {exporter or 'missing'}")
    runs: list[dict[str, Reading]] = []
    for i in range(args.repeat):
        print(f"run {i + 1}/{args.repeat} ({args.warmup:.0f} s warm-up, {args.seconds:.0f} s measured)", flush=True)
        readings = one_run(args.seconds, args.warmup, glances, exporter)
        for r in readings.values():
            print(f"  {r.name:<30} cpu {r.cpu_pct:5.2f} % of one core   rss {r.rss_mib:6.1f} MiB "
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
