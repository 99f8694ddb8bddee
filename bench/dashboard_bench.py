"""The web dashboard under a 500-node fleet, measured in a real Chromium.

    python bench/dashboard_bench.py [--nodes 500] [--runs 3] [--window-s 30] [--sse-window-s 60] [--paint-only]

Starts a real hub on a loopback port (temporary data dir) and bench/fleet_simulator.py,
which pushes every node's samples through the ingest API every 5 s with one token
per node. Then, in Debian's Chromium:

* time to first full paint of /#/fleet: navigation start to the first frame after all
  N cards are in the grid (a MutationObserver, then rAF + a task: the paint has
  happened), median of --paint-runs fresh page loads, with the page's own performance
  marks splitting it (modules loaded, GET /api/fleet, cards built, style/layout/paint);
* main-thread busy share: CDP `Performance.getMetrics` TaskDuration over a window,
  divided by the window, for the fleet page alone (all cards updating every 5 s), its
  table view, the drill-down of one node alone (live at 1 s, per-core grid open), and
  both open at once;
* bytes per minute one browser receives on the fleet SSE (and on one node's SSE),
  counted on a raw socket: the same bytes the hub writes to a browser.

Every wait is bounded; the run aborts after --budget-s.
"""
from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from loopback import free_port

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
ADMIN = "bench-admin-secret"
VIEWPORT = {"width": 1400, "height": 900}
CORE_GRID = ".cores-detail summary"  # the drill-down is measured with its per-core sparkline grid open
TABLE_VIEW = ".view-toggle button[data-view=table]"  # the fleet measured again in its table view

FULL_PAINT_JS = """
(n) => {
  window.__fullPaint = null;
  const obs = new MutationObserver(() => {
    const g = document.querySelector('.grid');
    if (g && g.children.length >= n) {
      obs.disconnect();
      requestAnimationFrame(() => setTimeout(() => { window.__fullPaint = performance.now(); }, 0));
    }
  });
  obs.observe(document, { subtree: true, childList: true });
}
"""


@dataclass
class Busy:
    task_s: float
    script_s: float
    layout_s: float
    style_s: float
    wall_s: float

    @property
    def share(self) -> float:
        return self.task_s / self.wall_s


def wait_http(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within {timeout} s")


def count_sse_bytes(host: str, port: int, path: str, seconds: float, out: dict) -> None:
    """Bytes (and events) received on one SSE connection during `seconds`, after the first event."""
    sock = socket.create_connection((host, port), timeout=5)
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: text/event-stream\r\n\r\n".encode())
    sock.settimeout(1.0)
    total = events = 0
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(65536)
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            continue
        if not chunk:
            break
        total += len(chunk)
        events += chunk.count(b"\nevent: ") + chunk.startswith(b"event: ")
    sock.close()
    out.update(bytes=total, events=events, seconds=time.monotonic() - start)


def metrics(cdp) -> dict[str, float]:
    return {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}


def busy_over(pages_cdp: list, window_s: float) -> list[Busy]:
    before = [metrics(c) for c in pages_cdp]
    time.sleep(window_s)
    after = [metrics(c) for c in pages_cdp]
    out = []
    for a, b in zip(before, after):
        d = lambda k: b.get(k, 0.0) - a.get(k, 0.0)  # noqa: E731
        out.append(Busy(task_s=d("TaskDuration"), script_s=d("ScriptDuration"), layout_s=d("LayoutDuration"),
                        style_s=d("RecalcStyleDuration"), wall_s=d("Timestamp")))
    return out


def open_page(browser, url: str, ready_selector: str, click: str | None = None):
    ctx = browser.new_context(viewport=VIEWPORT, bypass_csp=True)  # Playwright polls with eval, which the CSP forbids
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    page.wait_for_selector(ready_selector, timeout=30_000)
    if click:
        page.click(click)
    cdp = ctx.new_cdp_session(page)
    cdp.send("Performance.enable", {"timeDomain": "timeTicks"})
    return ctx, page, cdp, errors


def measure_paint(browser, url: str, n: int) -> tuple[float, float]:
    ctx = browser.new_context(viewport=VIEWPORT, bypass_csp=True)  # Playwright polls with eval, which the CSP forbids
    page = ctx.new_page()
    page.add_init_script(f"({FULL_PAINT_JS})({n})")
    page.goto(url + "/#/fleet")
    # Polled from here: wait_for_function evaluates its predicate with eval, which the page's CSP forbids.
    deadline = time.monotonic() + 30
    while (full := page.evaluate("window.__fullPaint")) is None:
        if time.monotonic() > deadline:
            raise TimeoutError("the fleet page did not paint all its cards within 30 s")
        time.sleep(0.05)
    fetch = page.evaluate("(performance.getEntriesByType('resource').find(e => e.name.endsWith('/api/fleet')) || {}).duration || 0")
    marks = page.evaluate("Object.fromEntries(performance.getEntriesByType('mark').map(m => [m.name, m.startTime]))")
    ctx.close()
    return full, fetch, marks


def fmt_phases(paints: list[tuple[float, float, dict]]) -> str:
    """Medians of the page's own marks (hub/static/js/fleet.js): where the first paint's time went."""
    steps = [("modules loaded", None, "fleet:render"), ("GET /api/fleet", "fleet:render", "fleet:data"),
             ("cards built", "fleet:data", "fleet:built")]
    out = []
    for label, a, b in steps:
        spans = [m[b] - (m[a] if a else 0) for _, _, m in paints if b in m and (a is None or a in m)]
        if spans:
            out.append(f"{label} {statistics.median(spans):.0f} ms")
    built = [full - m["fleet:built"] for full, _, m in paints if "fleet:built" in m]
    if built:
        out.append(f"style, layout and paint {statistics.median(built):.0f} ms")
    return " → ".join(out)


def fmt_busy(label: str, runs: list[Busy]) -> str:
    med = lambda f: statistics.median(f(b) for b in runs)  # noqa: E731
    return (f"{label}: busy {100 * med(lambda b: b.share):.1f} % of the main thread "
            f"(script {100 * med(lambda b: b.script_s / b.wall_s):.1f} %, style {100 * med(lambda b: b.style_s / b.wall_s):.1f} %, "
            f"layout {100 * med(lambda b: b.layout_s / b.wall_s):.1f} %; runs: "
            + ", ".join(f"{100 * b.share:.2f}" for b in runs) + ")")


def run(args: argparse.Namespace) -> int:
    from playwright.sync_api import sync_playwright

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    tmp = Path(tempfile.mkdtemp(prefix="forge-dash-bench-"))
    env = dict(os.environ, ADMIN_SECRET=ADMIN, HOME=str(tmp), FORGE_DATA_DIR=str(tmp / "forge"), PYTHONUNBUFFERED="1")
    procs: list[subprocess.Popen] = []
    deadline = time.monotonic() + args.budget_s

    def spawn(cmd: list[str], log: str, **kw) -> subprocess.Popen:
        p = subprocess.Popen(cmd, env=env, cwd=str(ROOT), start_new_session=True, **kw)
        procs.append(p)
        return p

    try:
        spawn([sys.executable, "-m", "forge_desktop.cli", "hub", "--host", "127.0.0.1", "--port", str(port),
               "--data-dir", str(tmp / "hub")], "hub", stdout=open(tmp / "hub.log", "wb"), stderr=subprocess.STDOUT)
        wait_http(url + "/api/health", 30)
        sim = spawn([sys.executable, str(ROOT / "bench" / "fleet_simulator.py"), "--hub", url, "--admin-secret", ADMIN,
                     "--nodes", str(args.nodes), "--duration-s", str(args.budget_s)], "sim",
                    stdout=subprocess.PIPE, stderr=open(tmp / "sim.log", "wb"), text=True)
        line = sim.stdout.readline()
        if not line.startswith("ready"):
            raise SystemExit(f"simulator failed: {(tmp / 'sim.log').read_text()[-2000:]}")
        print(f"{args.nodes} simulated nodes pushing every 5 s to {url}", flush=True)
        time.sleep(6)  # every node has pushed at least once more: the fleet SSE is in steady state

        sse: dict = {}
        node_sse: dict = {}
        node_id = "sim-000"
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            paints = []
            for _ in range(args.paint_runs):
                paints.append(measure_paint(browser, url, args.nodes))
            full = [p[0] for p in paints]
            print(f"first full paint of {args.nodes} cards: median {statistics.median(full):.0f} ms "
                  f"(runs: {', '.join(f'{v:.0f}' for v in full)}; GET /api/fleet median "
                  f"{statistics.median(p[1] for p in paints):.0f} ms of it)", flush=True)
            print(f"  phases (medians): {fmt_phases(paints)}", flush=True)
            if args.paint_only:
                browser.close()
                return 0

            counter = threading.Thread(target=count_sse_bytes, args=("127.0.0.1", port, "/api/fleet/events",
                                                                     args.sse_window_s, sse))
            counter.start()
            fleet_runs, table_runs, node_runs, both_runs, errors = [], [], [], [], []
            for _ in range(args.runs):
                if time.monotonic() > deadline:
                    break
                ctx, _, cdp, errs = open_page(browser, url + "/#/fleet", f".card >> nth={args.nodes - 1}")
                time.sleep(3)
                fleet_runs += busy_over([cdp], args.window_s)
                errors += errs
                ctx.close()

                ctx, _, cdp, errs = open_page(browser, url + "/#/fleet", f".card >> nth={args.nodes - 1}", click=TABLE_VIEW)
                time.sleep(3)
                table_runs += busy_over([cdp], args.window_s)
                errors += errs
                ctx.close()

                ctx, _, cdp, errs = open_page(browser, url + f"/#/node/{node_id}", ".uplot", click=CORE_GRID)
                time.sleep(3)
                node_runs += busy_over([cdp], args.window_s)
                errors += errs
                ctx.close()

                c1, _, cdp1, e1 = open_page(browser, url + "/#/fleet", f".card >> nth={args.nodes - 1}")
                c2, _, cdp2, e2 = open_page(browser, url + f"/#/node/{node_id}", ".uplot", click=CORE_GRID)
                time.sleep(3)
                f, nd = busy_over([cdp1, cdp2], args.window_s)
                both_runs.append(Busy(f.task_s + nd.task_s, f.script_s + nd.script_s, f.layout_s + nd.layout_s,
                                      f.style_s + nd.style_s, max(f.wall_s, nd.wall_s)))
                if not node_sse:
                    count_sse_bytes("127.0.0.1", port, f"/api/nodes/{node_id}/events", 20, node_sse)
                errors += e1 + e2
                c1.close()
                c2.close()
            counter.join(args.sse_window_s + 10)
            browser.close()

        print(fmt_busy(f"fleet page, {args.nodes} cards updating every 5 s", fleet_runs))
        print(fmt_busy(f"fleet table view, {args.nodes} rows (details refetched every 15 s)", table_runs))
        print(fmt_busy(f"drill-down of {node_id}, live at 1 s", node_runs))
        print(fmt_busy("both pages open at once (sum)", both_runs))
        per_min = sse["bytes"] * 60 / sse["seconds"]
        print(f"fleet SSE to one browser: {per_min / 1e6:.2f} MB/min ({sse['events']} events in {sse['seconds']:.0f} s, "
              f"{sse['bytes'] / max(1, sse['events']) / 1e3:.1f} kB per event)")
        if node_sse:
            print(f"node SSE ({node_id}, live): {node_sse['bytes'] * 60 / node_sse['seconds'] / 1e3:.0f} kB/min")
        if errors:
            print(f"page errors: {errors[:3]}")
            return 1
        return 0
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description="measure the web dashboard under a simulated fleet")
    p.add_argument("--nodes", type=int, default=500)
    p.add_argument("--runs", type=int, default=3, help="busy-share runs (each measures four windows)")
    p.add_argument("--paint-runs", type=int, default=5)
    p.add_argument("--paint-only", action="store_true", help="measure the first paint only (no busy or SSE windows)")
    p.add_argument("--window-s", type=float, default=30.0, help="length of one busy-share window")
    p.add_argument("--sse-window-s", type=float, default=60.0)
    p.add_argument("--budget-s", type=float, default=900.0, help="hard bound on the whole run")
    args = p.parse_args(argv)
    if not os.path.exists(CHROMIUM):
        print(f"needs {CHROMIUM}")
        return 2
    return run(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
