"""The agent as a real process against a real hub process: live within 10 s, and a hub
outage loses nothing and doubles nothing (on-disk buffer, dedupe on the hub)."""
from __future__ import annotations

import json
import subprocess
import sys
import time

from conftest import http, wait_until

from forge_desktop.agent import Agent, Backoff
from forge_desktop.buffer import SampleBuffer
from forge_desktop.client import HubClient


def stored_samples(h, node_id: str) -> list[dict]:
    """Every raw sample the hub holds for a node, oldest first."""
    return h.read_store(lambda store: store.samples.series(node_id, resolution="1s", points=10**6))


def test_agent_node_is_live_with_metrics_within_10_s(live_hub):
    h = live_hub()
    t0 = time.monotonic()
    h.start_agent("alpha", "--jobs", "never")
    node = wait_until(lambda: (h.fleet().get("alpha") or {}).get("cpu") is not None and h.fleet()["alpha"],
                      15, what="agent's node with a CPU figure")
    assert time.monotonic() - t0 < 10, h.log("agent-alpha")
    assert node["status"] == "online"
    latest = node["latest"]
    assert latest["schema_version"] == 1
    assert len(latest["cpu"]["per_core"]) == node["cores"]
    assert "✓ pushed  cpu=" in h.log("agent-alpha")


def test_hub_outage_is_buffered_and_flushed_without_gaps_or_duplicates(live_hub):
    h = live_hub()
    h.start_agent("beta", "--jobs", "never", "--push-interval", "1")
    wait_until(lambda: "beta" in h.fleet(), 15, what="first push")
    h.stop_hub()
    outage_start = time.time()
    time.sleep(6)
    buffer = h.home / "forge" / "buffer-beta.ndjson"
    assert buffer.exists() and len(buffer.read_text().splitlines()) >= 3
    h.start_hub()
    wait_until(lambda: not buffer.exists(), 40, what="buffer flushed after the hub came back")
    time.sleep(1.5)
    h.stop("agent-beta")
    ts = [round(s["ts"] * 1000) for s in stored_samples(h, "beta")]
    assert len(ts) == len(set(ts))
    during = [t for t in ts if outage_start * 1000 <= t <= (outage_start + 6) * 1000]
    assert len(during) >= 5, "samples taken during the outage reached the hub"
    gaps = [b - a for a, b in zip(ts, ts[1:])]
    assert max(gaps) < 2500, f"a gap of {max(gaps)} ms in 1 s samples"
    assert "buffering" in h.log("agent-beta")


def test_agent_without_hub_or_token_says_what_is_missing(tmp_path):
    env = {"HOME": str(tmp_path), "FORGE_DATA_DIR": str(tmp_path / "f"), "PATH": "/usr/bin:/bin",
           "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring"}
    r = subprocess.run([sys.executable, "-m", "forge_desktop.cli", "agent"], env=env, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 2 and "no hub URL" in r.stderr
    r = subprocess.run([sys.executable, "-m", "forge_desktop.cli", "agent", "--hub", "http://127.0.0.1:9"],
                       env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "no token" in r.stderr


def test_buffer_is_bounded_and_drops_oldest_first(tmp_path, caplog):
    buf = SampleBuffer(tmp_path / "b.ndjson", max_bytes=4000)
    for i in range(200):
        buf.append([{"ts": float(i), "pad": "x" * 20}])
    kept = buf.peek(1000)
    assert 0 < len(kept) < 200
    assert kept[-1]["ts"] == 199.0
    assert [s["ts"] for s in kept] == sorted(s["ts"] for s in kept)
    assert (tmp_path / "b.ndjson").stat().st_size <= 4000
    assert "dropped" in caplog.text


def test_buffer_skips_a_corrupt_line(tmp_path):
    path = tmp_path / "b.ndjson"
    path.write_text('{"ts": 1}\n{broken\n{"ts": 2}\n')
    buf = SampleBuffer(path)
    got = buf.peek(10)
    assert [s.get("ts") for s in got if not s.get("_corrupt")] == [1, 2]
    buf.drop(3)
    assert len(buf) == 0


def test_backoff_grows_with_jitter_and_caps():
    b = Backoff(base_s=1, cap_s=8, rand=lambda: 0.5)
    delays = [b.fail(0) for _ in range(6)]
    assert delays == [1, 2, 4, 8, 8, 8]
    b2 = Backoff(base_s=1, cap_s=8, rand=lambda: 1.0)
    assert abs(b2.fail(0) - 1.2) < 1e-9
    b.ok()
    assert b.ready(0)


class ScriptedCollector:
    """Deterministic samples with the real schema's shape (no machine needed)."""

    def __init__(self):
        self.t = float(int(time.time()) - 100)

    def identity(self):
        return {"hostname": "scripted", "os": "Linux", "cores": 1}

    def sample(self):
        self.t += 1
        return {"schema_version": 1, "ts": self.t, "cpu": {"percent": 1.0}, "memory": {"percent": 2.0}}


def test_push_order_is_kept_when_the_buffer_holds_older_samples(live_hub, tmp_path):
    h = live_hub()
    tok = h.token("gamma")
    dead = Agent(HubClient("http://127.0.0.1:9", tok), "gamma", tmp_path / "buf.ndjson",
                 collector=ScriptedCollector())
    for _ in range(3):
        dead._pending.put(dead.collector.sample())
        assert dead.push_once() is False
    assert len(dead.buffer) == 3
    live = Agent(HubClient(h.url, tok), "gamma", tmp_path / "buf.ndjson", collector=dead.collector)
    live._pending.put(live.collector.sample())
    assert live.push_once(final=True) is True
    assert len(live.buffer) == 0
    st, snap = http("GET", h.url + "/api/nodes/gamma/snapshot?points=10")
    first = dead.collector.t - 3
    assert [s["ts"] for s in snap["samples"]] == [first + i for i in range(4)]
    assert json.dumps(snap["samples"][0]["cpu"]) == '{"percent": 1.0}'


def test_hub_sigkilled_for_20_s_loses_nothing_acknowledged_and_doubles_nothing(live_hub):
    """SIGKILL the hub mid-run, restart it on the same database 20 s later: every sample the
    agent took meanwhile arrives exactly once, and none the hub had acknowledged is missing."""
    import signal
    h = live_hub()
    h.start_agent("delta", "--jobs", "never", "--push-interval", "1")
    wait_until(lambda: len(http("GET", h.url + "/api/nodes/delta/snapshot?points=5000")[1].get("samples", [])) >= 5,
               20, what="a few acknowledged samples")
    acknowledged = {s["ts"] for s in http("GET", h.url + "/api/nodes/delta/snapshot?points=5000")[1]["samples"]}
    h.stop("hub", signal.SIGKILL)
    killed_at = time.time()
    time.sleep(20)
    h.start_hub()
    buffer = h.home / "forge" / "buffer-delta.ndjson"
    wait_until(lambda: not buffer.exists(), 60, what="buffer flushed after restart")
    restarted_at = time.time()
    time.sleep(2)
    h.stop("agent-delta")
    rows = [s["ts"] for s in stored_samples(h, "delta")]
    assert len(rows) == len(set(rows)), "no sample stored twice"
    missing = {round(t, 3) for t in acknowledged} - {round(t, 3) for t in rows}
    assert not missing, f"acknowledged samples lost by the kill: {sorted(missing)[:5]}"
    during = [t for t in rows if killed_at <= t <= restarted_at]
    assert len(during) >= 18, f"only {len(during)} samples from the 20 s outage arrived"
    gaps = [b - a for a, b in zip(rows, rows[1:])]
    assert max(gaps) < 2.5, f"a {max(gaps):.1f} s hole in 1 s samples"
