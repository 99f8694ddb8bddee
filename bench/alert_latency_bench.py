"""Time from an agent's death to its FIRING notification, with a 60 s offline rule.

    python bench/alert_latency_bench.py --repeat 3

A real `forge hub` and a real `forge agent` on loopback, a json:// channel to a loopback
HTTP receiver, and the rule `offline > 60` (for_s 0). The agent is SIGKILLed at a random
point of its 5 s push cycle; the rule's threshold is reached at last push + the node's
push interval + 60 s (docs/API.md: `offline` counts seconds overdue). Printed per run:
seconds from the kill to the notification, and how late it came after that threshold.
"""
from __future__ import annotations

import argparse
import http.server
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

from loopback import free_port

ADMIN = "bench-admin-secret"
THRESHOLD_S = 60.0
PUSH_S = 5.0


def call(url: str, method: str, path: str, body: dict | None = None) -> dict:
    req = urllib.request.Request(url + path, method=method, data=None if body is None else json.dumps(body).encode(),
                                 headers={"Authorization": f"Bearer {ADMIN}", "Content-Type": "application/json"})
    return json.loads(urllib.request.urlopen(req, timeout=10).read())


def one_run(tmp: str) -> dict:
    got: list[tuple[float, dict]] = []

    class H(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            got.append((time.time(), body))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *a):
            pass

    rx = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=rx.serve_forever, daemon=True).start()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = dict(os.environ, ADMIN_SECRET=ADMIN, HOME=tmp, XDG_CONFIG_HOME=tmp + "/config", XDG_DATA_HOME=tmp + "/data",
               PYTHON_KEYRING_BACKEND="keyrings.alt.file.PlaintextKeyring")
    forge = [sys.executable, "-P", "-m", "forge_desktop.cli"]
    hub = subprocess.Popen([*forge, "hub", "--host", "127.0.0.1", "--port", str(port), "--data-dir", tmp + "/hub"],
                           env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp)
    agent = None
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(url + "/api/health", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        ch = call(url, "POST", "/api/channels", {"name": "rx", "url": f"json://127.0.0.1:{rx.server_address[1]}/hook"})
        call(url, "POST", "/api/alert-rules", {"name": "gone", "metric": "offline", "op": ">", "threshold": THRESHOLD_S,
                                               "channels": [ch["id"]]})
        tok = call(url, "POST", "/api/tokens", {"node_id": "victim"})["token"]
        agent = subprocess.Popen([*forge, "agent", "--hub", url, "--node-id", "victim", "--token", tok, "--jobs", "never"],
                                 env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                                 cwd=tmp)
        seen: list[float] = []
        until = time.time() + 20 + random.uniform(0, PUSH_S)
        while time.time() < until:  # watch the agent's real cadence on this (shared) machine
            node = next((n for n in call(url, "GET", "/api/fleet")["nodes"] if n["id"] == "victim"), None)
            if node and (not seen or node["last_seen"] != seen[-1]):
                seen.append(node["last_seen"])
            time.sleep(0.25)
        os.killpg(agent.pid, signal.SIGKILL)
        killed = time.time()
        agent.wait(5)
        last_push = next(n for n in call(url, "GET", "/api/fleet")["nodes"] if n["id"] == "victim")["last_seen"]
        while not got and time.time() - killed < THRESHOLD_S + 30:
            time.sleep(0.05)
        if not got:
            raise SystemExit("no FIRING notification")
        fired, body = got[0]
        gaps = [b - a for a, b in zip(seen[1:], seen[2:])]  # the first gap is the agent's 1 s start
        return {"kill_to_firing_s": fired - killed,
                "after_threshold_s": fired - (last_push + PUSH_S + THRESHOLD_S), "title": body["title"],
                "gaps": gaps}
    finally:
        if agent and agent.poll() is None:
            os.killpg(agent.pid, signal.SIGKILL)
        hub.terminate()
        hub.wait(30)
        rx.shutdown()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    runs = []
    for i in range(a.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            r = one_run(tmp)
        runs.append(r)
        print(f"run {i + 1}: kill -> FIRING {r['kill_to_firing_s']:.2f} s, "
              f"{r['after_threshold_s']:+.2f} s after the threshold ({r['title']}); "
              f"push gaps before the kill {', '.join(f'{g:.1f}' for g in r['gaps'])} s", flush=True)
    print(f"median: kill -> FIRING {statistics.median(r['kill_to_firing_s'] for r in runs):.2f} s, "
          f"after the threshold {statistics.median(r['after_threshold_s'] for r in runs):+.2f} s "
          f"(max {max(r['after_threshold_s'] for r in runs):+.2f} s)")


if __name__ == "__main__":
    main()
