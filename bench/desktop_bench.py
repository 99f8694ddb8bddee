"""Desktop app costs: the fleet window under a 500-node fleet, and the tray app's idle memory.

    python bench/desktop_bench.py                 # both, defaults below
    python bench/desktop_bench.py --nodes 500 --seconds 60 --fleet-only
    python bench/desktop_bench.py --table         # the fleet window in its table view

Goal (issue 15): the fleet window at 500 nodes uses < 10 % of one core.

1. A real `forge hub` process and a simulator process pushing one sample for each of
   N nodes every 5 s (spread evenly over the 5 s). The fleet window runs in this
   process (offscreen Qt) and we read this process's CPU time over the measured window:
   that is the GUI thread, the SSE reader thread and JSON parsing together.
2. `forge desktop` as a process reporting to that hub, then `forge desktop --embedded-hub`:
   resident memory after it has settled.

Results go to stdout as a small table; docs/PERFORMANCE.md records them.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from loopback import free_port

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ADMIN = "bench-admin-secret-0123456789abcdef"
PUSH_EVERY_S = 5.0


def post(url: str, body: dict, token: str) -> dict:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json", "Authorization": "Bearer " + token})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read() or b"null")


def wait_up(url: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/api/health", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"hub at {url} did not come up")


# --- the simulator (its own process, so its CPU is not counted) ---------------------------
def fake_sample(ts: float, cores: int, rng: random.Random) -> dict:
    per_core = [round(rng.uniform(0, 100), 1) for _ in range(cores)]
    return {"schema_version": 1, "ts": ts,
            "cpu": {"percent": round(sum(per_core) / cores, 1), "per_core": per_core, "freq_mhz": None,
                    "temp_c": None, "package_temp_c": None},
            "memory": {"total": 16 << 30, "used": 8 << 30, "available": 8 << 30, "percent": round(rng.uniform(20, 80), 1)},
            "swap": {"total": 0, "used": 0, "percent": 0.0},
            "disk": {"read_bps": rng.uniform(0, 1e6), "write_bps": rng.uniform(0, 1e6), "mounts": []},
            "net": {"rx_bps": rng.uniform(0, 1e5), "tx_bps": rng.uniform(0, 1e5)},
            "load": [1.0, 0.8, 0.6], "uptime_s": 1000.0, "battery": None}


def simulate(url: str, nodes: int) -> None:
    rng = random.Random(7)
    tokens = {f"sim-{i:03d}": post(url + "/api/tokens", {"node_id": f"sim-{i:03d}"}, ADMIN)["token"]
              for i in range(nodes)}
    identity = {"hostname": "sim", "os": "Linux", "os_version": "6.1", "arch": "x86_64", "cores": 8,
                "physical_cores": 4, "agent_version": "bench"}
    print("ready", flush=True)
    start = time.monotonic()
    rounds = 0
    while True:
        for i, (node, token) in enumerate(tokens.items()):
            due = start + rounds * PUSH_EVERY_S + i * PUSH_EVERY_S / nodes
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            try:
                post(f"{url}/api/ingest/{node}", {"node": identity, "samples": [fake_sample(time.time(), 8, rng)]},
                     token)
            except OSError as e:
                print(f"push {node} failed: {e}", file=sys.stderr, flush=True)
        rounds += 1


# --- measurements ----------------------------------------------------------------------------
FLEET_CPU_GOAL_PCT = 10.0


def measure_fleet_window(url: str, nodes: int, seconds: float, warmup: float, table: bool = False) -> dict:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import psutil
    from PySide6.QtCore import QEventLoop, QSettings, QTimer
    from PySide6.QtWidgets import QApplication
    QSettings.setPath(QSettings.NativeFormat, QSettings.UserScope, tempfile.mkdtemp(prefix="forge-bench-qsettings-"))
    from forge_desktop.ui.fleet_window import FleetWindow
    _app = QApplication.instance() or QApplication([])  # held for the window's lifetime
    proc = psutil.Process()
    win = FleetWindow(url, None)
    win.resize(1280, 900)
    win.show()
    win.set_table_view(table)
    updates = {"cards": 0}
    win.cards_updated.connect(lambda n: updates.__setitem__("cards", updates["cards"] + n))

    def run_for(s: float) -> None:
        """Spin the event loop for s seconds (QApplication.quit would close every window in Qt 6)."""
        loop = QEventLoop()
        QTimer.singleShot(int(s * 1000), loop.quit)
        loop.exec()

    t_load = time.monotonic()
    while len(win.cards) < nodes and time.monotonic() - t_load < 60:
        run_for(0.5)
    load_s = time.monotonic() - t_load
    run_for(warmup)
    updates["cards"] = 0
    c0, w0 = proc.cpu_times(), time.monotonic()
    run_for(seconds)
    c1, w1 = proc.cpu_times(), time.monotonic()
    cpu = (c1.user - c0.user + c1.system - c0.system) / (w1 - w0) * 100
    result = {"cards": len(win.cards), "load_s": load_s, "cpu_pct_one_core": cpu,
              "card_updates_per_s": updates["cards"] / (w1 - w0), "rss_mb": proc.memory_info().rss / 2**20}
    (ROOT / "artifacts").mkdir(exist_ok=True)
    win.grab().save(str(ROOT / "artifacts" / "desktop_fleet_bench.png"))
    win.close()
    run_for(0.5)
    return result


def desktop_rss(env: dict, args: list[str], settle_s: float, url_for_node: str | None) -> float:
    import psutil
    p = subprocess.Popen([sys.executable, "-m", "forge_desktop.cli", "desktop", *args], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        time.sleep(settle_s)
        if p.poll() is not None:
            raise SystemExit(f"forge desktop {' '.join(args)} exited with {p.returncode}")
        readings = []
        for _ in range(5):
            readings.append(psutil.Process(p.pid).memory_info().rss / 2**20)
            time.sleep(1)
        return sorted(readings)[len(readings) // 2]
    finally:
        os.killpg(p.pid, signal.SIGTERM)
        p.wait(20)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nodes", type=int, default=500)
    ap.add_argument("--fleet-only", action="store_true", help="skip the tray app's memory readings")
    ap.add_argument("--table", action="store_true", help="measure the fleet window in its table view")
    ap.add_argument("--seconds", type=float, default=60.0, help="measured window for the fleet window")
    ap.add_argument("--warmup", type=float, default=10.0)
    ap.add_argument("--settle", type=float, default=20.0, help="seconds before reading the tray app's RSS")
    ap.add_argument("--simulate", metavar="URL", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.simulate:
        simulate(args.simulate, args.nodes)
        return

    tmp = Path(tempfile.mkdtemp(prefix="forge-desktop-bench-"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = dict(os.environ, ADMIN_SECRET=ADMIN, HOME=str(tmp), FORGE_DATA_DIR=str(tmp / "forge"),
               XDG_CONFIG_HOME=str(tmp / "config"), XDG_DATA_HOME=str(tmp / "data"), QT_QPA_PLATFORM="offscreen",
               PYTHON_KEYRING_BACKEND="keyrings.alt.file.PlaintextKeyring", FORGE_HUB_HOST="127.0.0.1")
    procs = [subprocess.Popen([sys.executable, "-m", "forge_desktop.cli", "hub", "--host", "127.0.0.1", "--port",
                               str(port), "--data-dir", str(tmp / "hub")], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.STDOUT, start_new_session=True)]
    try:
        wait_up(url)
        sim = subprocess.Popen([sys.executable, __file__, "--simulate", url, "--nodes", str(args.nodes)], env=env,
                               stdout=subprocess.PIPE, text=True, start_new_session=True)
        procs.append(sim)
        assert sim.stdout.readline().strip() == "ready"
        time.sleep(PUSH_EVERY_S + 1)
        fleet = measure_fleet_window(url, args.nodes, args.seconds, args.warmup, args.table)
        view = "table view" if args.table else "card view"
        print(f"fleet window ({view}), {fleet['cards']} nodes pushing every {PUSH_EVERY_S:.0f} s "
              "(offscreen, 1280x900):")
        print(f"  first load to {fleet['cards']} cards   {fleet['load_s']:.1f} s")
        verdict = "ok" if fleet["cpu_pct_one_core"] < FLEET_CPU_GOAL_PCT else "OVER the goal"
        print(f"  CPU, one core          {fleet['cpu_pct_one_core']:.1f} %  (over {args.seconds:.0f} s; "
              f"goal < {FLEET_CPU_GOAL_PCT:.0f} %: {verdict})")
        print(f"  card repaints          {fleet['card_updates_per_s']:.1f} /s")
        print(f"  RSS of the window      {fleet['rss_mb']:.0f} MB")
        os.killpg(sim.pid, signal.SIGTERM)
        sim.wait(10)
        if args.fleet_only:
            return

        token = post(url + "/api/tokens", {"node_id": "bench-desk"}, ADMIN)["token"]
        plain = desktop_rss(dict(env, BEARER_TOKEN=token, NODE_ID="bench-desk", ADMIN_SECRET=""),
                            ["--hub", url], args.settle, url)
        embedded = desktop_rss(dict(env, FORGE_DESKTOP_HUB_PORT=str(free_port())), ["--embedded-hub"],
                               args.settle, None)
        print(f"tray app idle RSS (after {args.settle:.0f} s, median of 5 readings):")
        print(f"  reporting to a hub     {plain:.0f} MB")
        print(f"  with the embedded hub  {embedded:.0f} MB")
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
                p.wait(20)


if __name__ == "__main__":
    main()
