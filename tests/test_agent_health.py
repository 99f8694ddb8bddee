"""A headless agent's health, as a supervisor sees it: real `forge agent` processes against
a real hub write their health file, and `forge agent --health` exits 0 (healthy), 1 (a
fault, or the node must rejoin) or 2 (no agent: missing, stopped or stale file)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest
from conftest import ADMIN, LiveHub, http, wait_until
from test_agent_e2e import ScriptedCollector

from forge_desktop.agent import Agent
from forge_desktop.client import HubClient
from forge_desktop.health import HealthWriter, read_health


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    h = LiveHub(tmp_path_factory.mktemp("healthhub"))
    h.start_hub()
    yield h
    h.close()


def health(h: LiveHub, node_id: str) -> subprocess.CompletedProcess:
    return subprocess.run(h.forge("agent", "--health", "--node-id", node_id), env=h.env, cwd=str(h.home),
                          capture_output=True, text=True, timeout=30)


def health_file(h: LiveHub, node_id: str):
    return h.home / "forge" / f"health-{node_id}.json"


def wait_health(h: LiveHub, node_id: str, code: int, timeout: float, what: str) -> subprocess.CompletedProcess:
    def check():
        r = health(h, node_id)
        return r if r.returncode == code else None
    return wait_until(check, timeout, interval=0.3, what=f"{what} ({health(h, node_id).stdout} "
                                                         f"{h.log('agent-' + node_id)})")


def test_agent_pushing_to_a_hub_is_healthy_and_then_stopped(hub):
    tok = hub.token("hok")
    agent = hub.start_agent("hok", "--jobs", "never", "--push-interval", "1", token=tok)
    r = wait_health(hub, "hok", 0, 20, "a healthy agent")
    assert r.stdout.startswith("healthy: node 'hok'") and "samples buffered" in r.stdout
    r = wait_until(lambda: (r := health(hub, "hok")).returncode == 0 and "last push" in r.stdout and r, 15,
                   what="a successful push in the health line")
    assert r.stderr == "" and r.stdout.count("\n") == 1, "one line, no traceback"
    state = json.loads(health_file(hub, "hok").read_text())
    assert state["healthy"] and state["connected"] and not state["needs_rejoin"] and state["fault"] is None
    assert state["pid"] == agent.pid and state["last_push"] > time.time() - 15
    assert tok not in health_file(hub, "hok").read_text(), "the token never goes in the health file"
    hub.stop("agent-hok")
    r = health(hub, "hok")
    assert r.returncode == 2 and r.stdout.startswith("stopped: the agent of node 'hok'"), r.stdout


def test_revoked_token_makes_the_agent_unhealthy_with_the_rejoin_command(hub):
    hub.start_agent("hrj", "--jobs", "never", "--push-interval", "1")
    wait_health(hub, "hrj", 0, 20, "a healthy agent")
    wait_until(lambda: "hrj" in hub.fleet(), 15, what="a first push")
    st, body = http("DELETE", hub.url + "/api/tokens/hrj", token=ADMIN)
    assert st in (200, 204), body
    r = wait_health(hub, "hrj", 1, 30, "the agent to say it must rejoin")
    assert r.stdout.startswith("unhealthy: node 'hrj' must rejoin the hub"), r.stdout
    assert f"forge join {hub.url} CODE --node-id hrj" in r.stdout
    assert r.stderr == ""
    assert json.loads(health_file(hub, "hrj").read_text())["needs_rejoin"] is True
    assert hub.procs["agent-hrj"].poll() is None, "the agent keeps running (and sampling)"
    hub.stop("agent-hrj")


def test_a_fault_shows_in_the_health_file_and_clears_on_recovery(hub, tmp_path, caplog):
    """The pusher's ENOSPC-like fault (its buffer path is a directory, the hub unreachable):
    the health file says unhealthy with the fault, the agent keeps going, and once the buffer
    can be written and the hub answers, it is healthy again."""
    tok = hub.token("hflt")
    path = tmp_path / "buf.ndjson"
    where = tmp_path / "health-hflt.json"
    agent = Agent(HubClient("http://127.0.0.1:9", tok), "hflt", path, collector=ScriptedCollector(),
                  push_interval_s=0.2, sample_interval_s=0.05, health_path=where)
    path.mkdir()
    agent.start()
    try:
        v = wait_until(lambda: (v := read_health(where, "hflt")).code == 1 and v, 10, what="the fault in the file")
        assert v.line.startswith("unhealthy: node 'hflt' agent fault since ")
        assert "IsADirectoryError" in v.line and "still sampling" in v.line
        assert json.loads(where.read_text())["fault"].startswith("IsADirectoryError")
        assert agent.alive()
        path.rmdir()
        agent.client = HubClient(hub.url, tok)
        agent.backoff.ok()
        v = wait_until(lambda: (v := read_health(where, "hflt")).code == 0 and v, 15, what="healthy again")
        assert "last push" in v.line and json.loads(where.read_text())["fault"] is None
    finally:
        agent.stop()
    assert read_health(where, "hflt").code == 2


def test_a_real_agents_fault_makes_health_exit_1(hub):
    """The same fault in a `forge agent` process: its buffer file is a directory and its hub
    does not answer, so every push's buffering fails."""
    (hub.home / "forge" / "buffer-hdir.ndjson").mkdir(parents=True)
    hub.spawn("agent-hdir", hub.forge("agent", "--hub", "http://127.0.0.1:9", "--node-id", "hdir", "--token",
                                      "fgn_not-a-real-token", "--jobs", "never", "--push-interval", "1"))
    r = wait_health(hub, "hdir", 1, 20, "the fault")
    assert r.stdout.startswith("unhealthy: node 'hdir' agent fault") and "IsADirectoryError" in r.stdout, r.stdout
    assert r.stderr == ""
    assert hub.procs["agent-hdir"].poll() is None
    hub.stop("agent-hdir")


def test_a_killed_agents_file_goes_stale_and_a_missing_one_says_no_agent(hub):
    hub.start_agent("hkill", "--jobs", "never", "--push-interval", "1")
    wait_health(hub, "hkill", 0, 20, "a healthy agent")
    hub.stop("agent-hkill", signal.SIGKILL)
    f = health_file(hub, "hkill")
    assert health(hub, "hkill").returncode == 0, "fresh for a few push intervals after the kill"
    stale_after = json.loads(f.read_text())["stale_after_s"]
    assert 3 <= stale_after <= 20
    old = time.time() - stale_after - 1  # as if the agent had been gone that long
    os.utime(f, (old, old))
    r = health(hub, "hkill")
    assert r.returncode == 2 and r.stdout.startswith("stale: the agent of node 'hkill'"), r.stdout
    assert "stopped, hung or was killed" in r.stdout and r.stderr == ""
    r = health(hub, "nobody")
    assert r.returncode == 2 and r.stdout.startswith("no agent: no agent has run as node 'nobody'"), r.stdout
    assert r.stderr == ""
    health_file(hub, "junk").write_text('{"healthy": tr')
    r = health(hub, "junk")
    assert r.returncode == 2 and "is not a health file the agent wrote" in r.stdout and r.stderr == "", r


class _Status:
    healthy, fault, needs_rejoin, connected, last_error = True, None, False, True, None
    last_push, buffered, dropped = 1.0, 0, 0


def test_health_is_written_on_change_and_otherwise_once_a_heartbeat(tmp_path):
    now = [1000.0]
    w = HealthWriter(tmp_path / "h.json", "n", heartbeat_s=5, stale_after_s=25, clock=lambda: now[0])
    s = _Status()
    writes = []
    for _ in range(50):  # 50 pushes 0.2 s apart, nothing changes
        writes.append(w.update(s))
        now[0] += 0.2
    # the first write, then one a heartbeat: at 0, 4 and 8 s (a push a little early is not skipped)
    assert sum(writes) == 3
    s.fault, s.healthy = "OSError: [Errno 28] No space left on device", False
    assert w.update(s) is True, "a change is written at once"
    h = json.loads((tmp_path / "h.json").read_text())
    assert h["fault"].startswith("OSError") and h["since"] == now[0]
    assert (tmp_path / "h.json").stat().st_size == 2048, "padded, so a full disk can rewrite it in place"
