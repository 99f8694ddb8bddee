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
    assert latest["schema_version"] == 2  # sample schema 2 (docs/SAMPLES.md) since issue 16
    assert len(latest["cpu"]["per_core"]) == node["cores"]
    assert "✓ pushed  cpu=" in h.log("agent-alpha")


def test_agent_schema2_sample_is_stored_and_served_back(live_hub):
    """A real agent's schema 2 sections (processes every 5 s, per-disk and per-interface rates)
    go through ingest and come back as sent in the node's snapshot."""
    h = live_hub()
    h.start_agent("zeta", "--jobs", "never", "--push-interval", "1")

    def with_processes():
        st, snap = http("GET", h.url + "/api/nodes/zeta/snapshot?points=60")
        return st == 200 and [s for s in snap.get("samples", []) if s.get("processes")]

    samples = wait_until(with_processes, 30, what=f"a stored sample with processes ({h.log('agent-zeta')})")
    sample = samples[-1]
    assert sample["schema_version"] == 2
    agent_pid = h.procs["agent-zeta"].pid
    procs = sample["processes"]
    assert 5 <= len(procs) <= 15
    assert all(set(p) == {"pid", "name", "user", "cpu_percent", "rss", "cmdline"} for p in procs)
    mine = [p for p in procs if p["pid"] == agent_pid]
    if mine:  # the agent is in the list only if it is among the busiest or largest
        assert "--token <redacted>" in mine[0]["cmdline"]
    assert all("fgn_" not in (p["cmdline"] or "") for p in procs), "no token leaves the machine"
    assert sample["disk"]["devices"] and sample["net"]["interfaces"]
    assert {"name", "read_bps", "write_bps", "busy_percent"} == set(sample["disk"]["devices"][0])
    st, snap = http("GET", h.url + "/api/nodes/zeta/snapshot?points=60")
    assert st == 200
    plain = [s for s in snap["samples"] if "processes" not in s]
    assert plain and all(s["schema_version"] == 2 for s in plain)


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


def test_buffer_append_after_a_torn_last_line_starts_a_fresh_line(tmp_path):
    path = tmp_path / "b.ndjson"
    path.write_text('{"ts": 1}\n{"ts": 2, "cpu": {"perc')  # a crash mid-write
    buf = SampleBuffer(path)
    buf.append([{"ts": 3}])
    got = buf.peek(10)
    assert [s.get("ts") for s in got if not s.get("_corrupt")] == [1, 3]
    assert sum(1 for s in got if s.get("_corrupt")) == 1


def test_buffer_line_that_is_json_but_not_an_object_is_skipped(tmp_path):
    path = tmp_path / "b.ndjson"
    path.write_text('{"ts": 1}\n[1, 2]\n7\n"x"\n{"ts": 2}\n')
    got = SampleBuffer(path).peek(10)
    assert [s.get("ts") for s in got if not s.get("_corrupt")] == [1, 2]
    assert len(got) == 5


def snapshot_ts(h, node: str) -> list[float]:
    st, snap = http("GET", h.url + f"/api/nodes/{node}/snapshot?points=5000")
    assert st == 200, snap
    return [s["ts"] for s in snap["samples"]]


class ListCollector(ScriptedCollector):
    def __init__(self, bad_at: set[int] = frozenset()):
        super().__init__()
        self.t = float(int(time.time()) - 2000)
        self.n = 0
        self.bad_at = bad_at

    def sample(self):
        s = super().sample()
        self.n += 1
        if self.n in self.bad_at:
            s["ts"] = "yesterday"
        return s


def test_pusher_survives_a_buffer_it_cannot_write_and_delivers_later(live_hub, tmp_path, caplog):
    """ENOSPC-like: the buffer cannot be written (here: its path is a directory). The push loop
    keeps running, shows the fault, logs it once, holds the samples and delivers them later."""
    h = live_hub()
    tok = h.token("eps")
    path = tmp_path / "buf.ndjson"
    col = ListCollector()
    start = col.t
    agent = Agent(HubClient("http://127.0.0.1:9", tok), "eps", path, collector=col,
                  push_interval_s=0.2, sample_interval_s=0.05)
    path.mkdir()
    agent.start()
    try:
        wait_until(lambda: agent.status.fault, 10, what="the fault to show")
        time.sleep(1.0)
        assert agent.alive(), "the pusher thread died"
        assert not agent.status.healthy
        assert caplog.text.count("push failed unexpectedly") == 1, "logged once, not per push"
        path.rmdir()
        agent.client = HubClient(h.url, tok)
        agent.backoff.ok()
        wait_until(lambda: agent.status.fault is None and agent.status.connected, 15, what="recovery")
    finally:
        agent.stop()
    got = snapshot_ts(h, "eps")
    assert got == [start + 1 + i for i in range(int(col.t - start))], \
        "every sample, including those taken while the buffer failed, arrived once"


def test_a_400_drops_only_the_offending_samples(live_hub, tmp_path, caplog):
    h = live_hub()
    tok = h.token("zeta")
    col = ListCollector(bad_at={150})
    path = tmp_path / "buf.ndjson"
    SampleBuffer(path).append([col.sample() for _ in range(301)])
    agent = Agent(HubClient(h.url, tok), "zeta", path, collector=col)
    assert agent.push_once(final=True) is True
    assert len(agent.buffer) == 0
    assert len(snapshot_ts(h, "zeta")) == 300
    assert agent.status.dropped == 1
    assert "rejected 1 of 301 samples" in caplog.text


class GpuCollector(ListCollector):
    """Schema 2 samples with a GPU; the `bad_at`-th ones report its utilisation as a word."""

    def sample(self):
        s = ScriptedCollector.sample(self)
        self.n += 1
        s["schema_version"] = 2
        s["gpus"] = [{"index": 0, "name": "NVIDIA GeForce RTX 4090", "vendor": "nvidia",
                      "util_percent": "busy" if self.n in self.bad_at else 40.0}]
        return s


def test_a_400_for_a_malformed_schema_2_section_drops_only_that_sample(live_hub, tmp_path, caplog):
    """The hub names the field deep in the sample (`samples[i].gpus[0].util_percent`); the agent
    still finds the sample by its index and delivers every other one, GPUs included."""
    h = live_hub()
    tok = h.token("iota")
    col = GpuCollector(bad_at={1, 150, 151})
    sent = [col.sample() for _ in range(301)]
    path = tmp_path / "buf.ndjson"
    SampleBuffer(path).append(sent)
    agent = Agent(HubClient(h.url, tok), "iota", path, collector=col)
    assert agent.push_once(final=True) is True
    assert len(agent.buffer) == 0
    good = [s["ts"] for i, s in enumerate(sent, 1) if i not in {1, 150, 151}]
    assert snapshot_ts(h, "iota") == good
    assert agent.status.dropped == 3
    assert "rejected 3 of 301 samples" in caplog.text and "gpus[0].util_percent" in caplog.text
    st, snap = http("GET", h.url + "/api/nodes/iota/snapshot?points=1")
    assert snap["samples"][-1]["gpus"][0]["util_percent"] == 40.0


def test_agent_honours_the_hubs_max_samples_per_push(live_hub, tmp_path):
    h = live_hub(env={"FORGE_HUB_MAX_SAMPLES_PER_PUSH": "100"})
    tok = h.token("eta")
    col = ListCollector()
    path = tmp_path / "buf.ndjson"
    SampleBuffer(path).append([col.sample() for _ in range(600)])
    agent = Agent(HubClient(h.url, tok), "eta", path, collector=col)
    assert agent.push_once(final=True) is True
    assert len(snapshot_ts(h, "eta")) == 600, "none of the 600 lost to the hub's limit"
    assert agent.max_batch <= 100
    assert agent.status.dropped == 0


def test_a_refused_token_says_rejoin_and_backs_off_to_minutes(live_hub, tmp_path, caplog):
    h = live_hub()
    h.token("theta")
    agent = Agent(HubClient(h.url, "not-the-token"), "theta", tmp_path / "buf.ndjson",
                  collector=ScriptedCollector(), echo=False)
    for _ in range(3):
        agent.backoff.not_before = 0
        agent._pending.put(agent.collector.sample())
        assert agent.push_once() is False
    assert agent.status.needs_rejoin and not agent.status.healthy
    assert agent.backoff.not_before - time.time() > 240, "next try in minutes, not seconds"
    assert f"forge join {h.url} CODE --node-id theta" in caplog.text
    assert "must rejoin" in caplog.text
    assert "forge join" in agent.status.last_error
    assert len(agent.buffer) == 3, "samples are kept for when the node rejoins"


def _mount_tmpfs(where, size: str) -> bool:
    import os
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return False
    where.mkdir()
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                          capture_output=True).returncode == 0


def test_agent_on_a_full_disk_keeps_running_and_pushes_once_the_hub_is_back(live_hub, tmp_path):
    """The agent's data folder on a small tmpfs, filled up while the hub is down: the agent
    keeps sampling (in memory), stays up, says so, and delivers once the hub is back."""
    import pytest
    disk = tmp_path / "tiny"
    if not _mount_tmpfs(disk, "256k"):
        pytest.skip("needs root and tmpfs (as on CI) to make a small full disk; skipped here")
    try:
        h = live_hub()
        h.env["FORGE_DATA_DIR"] = str(disk)
        agent = h.start_agent("full", "--jobs", "never", "--push-interval", "1")
        wait_until(lambda: "full" in h.fleet(), 15, what="first push")
        h.stop_hub()
        time.sleep(2)
        import os
        fd = os.open(disk / "filler", os.O_WRONLY | os.O_CREAT)
        try:
            while os.write(fd, b"\0" * 4096):
                pass
        except OSError:
            pass
        finally:
            os.close(fd)
        full_at = time.time()
        # The buffer's last tmpfs page may still take a few samples before the first ENOSPC.
        wait_until(lambda: "No space left" in h.log("agent-full"), 30, what="the agent to hit the full disk")
        time.sleep(3)
        assert agent.poll() is None, h.log("agent-full")
        health = subprocess.run(h.forge("agent", "--health", "--node-id", "full"), env=h.env, cwd=str(h.home),
                                capture_output=True, text=True, timeout=30)
        assert health.returncode == 1 and "No space left" in health.stdout, \
            f"a supervisor sees the full disk: {health.stdout}{health.stderr}"
        h.start_hub()
        back = time.time()
        wait_until(lambda: any(t > back for t in snapshot_ts(h, "full")), 30,
                   what=f"pushes after the hub came back ({h.log('agent-full')})")
        got = snapshot_ts(h, "full")
        during = [t for t in got if full_at <= t <= back]
        assert len(during) >= 4, "samples taken while the disk was full reached the hub"
        assert agent.poll() is None
        assert h.log("agent-full").count("push failed unexpectedly") <= 2, "logged once, not every second"
        h.stop("agent-full")
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def test_a_bare_413_halves_the_batch_until_the_hub_takes_it(tmp_path):
    """Today's hub says its limit in a 400; a hub (or proxy) that only answers 413 without
    naming a limit is a small loopback server here: the agent halves until batches fit."""
    import http.server
    import threading
    received: list[float] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def _answer(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            self._answer(200, {"service": "forge-hub"})

        def do_POST(self):
            samples = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["samples"]
            if len(samples) > 70:
                self._answer(413, {"error": "payload_too_large", "message": "request body too large"})
                return
            received.extend(s["ts"] for s in samples)
            self._answer(200, {"ok": True})

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        col = ListCollector()
        path = tmp_path / "buf.ndjson"
        SampleBuffer(path).append([col.sample() for _ in range(300)])
        agent = Agent(HubClient(f"http://127.0.0.1:{server.server_address[1]}", "t"), "n", path, collector=col)
        assert agent.push_once(final=True) is True
    finally:
        server.shutdown()
        server.server_close()
    assert sorted(set(received)) == [col.t - 299 + i for i in range(300)], "every sample delivered"
    assert agent.max_batch <= 70 and agent.status.dropped == 0
