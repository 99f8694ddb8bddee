"""Several `forge hub --store postgresql://…` processes on one database, with real agents and
workers split across them: every hub shows every node, the job queue hands each job out
once whichever hub a worker asks, and one hub's SIGKILL loses nothing it acknowledged."""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import threading
import time
import urllib.request

import pytest

import pg_server
import store_backends
from conftest import ADMIN, LiveHub, free_port, http, wait_until

pytestmark = pytest.mark.skipif(not store_backends.PG_ON, reason="no PostgreSQL (apt-get install postgresql)")

QUEUE_ENV = {"FORGE_HUB_ALLOW_TEST_JOBS": "1", "FORGE_WORKER_TYPES": "sleep",
             "FORGE_HUB_RECLAIM_INTERVAL_S": "0.5"}
MANY_JOBS = int(os.environ.get("FORGE_E2E_JOBS", "2000"))


@pytest.fixture
def pg_url(tmp_path):
    with store_backends.fresh_url("postgresql", tmp_path) as url:
        yield url


def two_hubs(live_hub, pg_url: str, env: dict | None = None) -> tuple[LiveHub, LiveHub]:
    return live_hub("--store", pg_url, env=env), live_hub("--store", pg_url, env=env)


def fleet_events_seen(hub: LiveHub, node_id: str, timeout: float) -> bool:
    """Whether the hub's fleet SSE stream carries an event about `node_id` within `timeout`."""
    deadline = time.monotonic() + timeout
    with urllib.request.urlopen(hub.url + "/api/fleet/events", timeout=timeout) as stream:
        event = None
        while time.monotonic() < deadline:
            line = stream.readline().decode().strip()
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event == "fleet":
                if any(n["id"] == node_id for n in json.loads(line[6:])["nodes"]):
                    return True
    return False


def test_every_hub_shows_every_node_within_two_seconds(live_hub, pg_url):
    a, b = two_hubs(live_hub, pg_url)
    on_a, on_b = ["a1", "a2"], ["b1", "b2"]
    for node in on_a:
        a.start_agent(node)
    for node in on_b:
        b.start_agent(node, token=a.token(node))  # tokens made on one hub work on every hub
    for own, other, nodes in ((a, b, on_a), (b, a, on_b)):
        wait_until(lambda: set(nodes) <= set(own.fleet()), 30, what=f"{nodes} on their own hub")
        wait_until(lambda: set(nodes) <= set(other.fleet()), 2, what=f"{nodes} on the other hub within 2 s")
    assert fleet_events_seen(b, "a1", timeout=15), "hub B's fleet stream never spoke of a node pushing to hub A"
    # An agent's first sample may carry no CPU figure (too short a window after priming), so
    # hub B is given until a later push of a1's reaches it through hub A.
    wait_until(lambda: b.fleet()["a1"]["cpu"] is not None, 15, what="a1's CPU figure on hub B")
    assert b.fleet()["a1"]["status"] == "online"
    st, snap = http("GET", b.url + "/api/nodes/a1/snapshot?points=5")
    assert st == 200 and snap["samples"], snap
    with urllib.request.urlopen(a.url + "/metrics", timeout=10) as r:
        metrics = r.read().decode()
    assert all(f'forge_node_up{{node="{n}"}} 1' in metrics for n in on_a + on_b), metrics


@pytest.mark.slow
def test_jobs_over_workers_on_two_hubs_are_each_done_exactly_once(live_hub, pg_url):
    """About as long as test_queue_e2e's 2,000 jobs; FORGE_E2E_JOBS=200 runs a quick version."""
    a, b = two_hubs(live_hub, pg_url, env={**QUEUE_ENV, "FORGE_HUB_LEASE_S": "120"})
    workers = {"w1": a, "w2": a, "w3": b, "w4": b}
    for w, hub in workers.items():
        hub.start_agent(w, "--jobs", "always", "--push-interval", "30", token=a.token(w))
    time.sleep(2)  # the workers on both hubs are long-polling: the submit must wake those on B
    st, body = http("POST", a.url + "/api/jobs", {"jobs": [{"type": "sleep", "payload": {"seconds": 0}}
                                                          for _ in range(MANY_JOBS)]}, token=ADMIN, timeout=60)
    assert st == 201, body
    ids = body["ids"]
    wait_until(lambda: http("GET", b.url + "/api/jobs?limit=1")[1]["counts"]["succeeded"] == MANY_JOBS,
               timeout=600, interval=1, what=f"all {MANY_JOBS} jobs to succeed")

    async def attempts(store):
        return [(await store.jobs.job(i))["attempts"] for i in ids]
    every = store_backends.query_store(pg_url, attempts)
    assert [i for i, atts in zip(ids, every) if len(atts) != 1] == [], "a job was claimed more than once"
    by_worker = {w: sum(1 for atts in every if atts[0]["worker_id"] == w) for w in workers}
    assert by_worker["w1"] + by_worker["w2"] > 0 and by_worker["w3"] + by_worker["w4"] > 0, by_worker


def test_a_node_followed_live_on_one_hub_is_asked_for_live_samples_by_the_other(live_hub, pg_url):
    a, b = two_hubs(live_hub, pg_url)
    token = a.token("direct")

    def push() -> bool:
        st, res = http("POST", a.url + "/api/ingest/direct", {"samples": [{"ts": time.time(), "cpu": {"percent": 1}}]},
                       token=token)
        assert st == 200, res
        return res["live"]
    assert push() is False
    wait_until(lambda: "direct" in b.fleet(), 5, what="the node on hub B")
    follow = urllib.request.urlopen(b.url + "/api/nodes/direct/events", timeout=30)  # a dashboard on B
    try:
        follow.readline()
        wait_until(push, 15, interval=0.5, what="hub A to tell the agent someone follows it live")
    finally:
        follow.close()


def test_sigkill_of_one_hub_loses_no_acknowledged_sample_and_no_job(live_hub, pg_url):
    env = {**QUEUE_ENV, "FORGE_HUB_LEASE_S": "3"}
    a, b = two_hubs(live_hub, pg_url, env=env)
    a.start_agent("w1", "--jobs", "always", "--push-interval", "30")
    b.start_agent("w2", "--jobs", "always", "--push-interval", "30", token=a.token("w2"))
    st, body = http("POST", a.url + "/api/jobs", {"jobs": [{"type": "sleep", "payload": {"seconds": 0.5}}
                                                          for _ in range(30)]}, token=ADMIN)
    assert st == 201, body
    ids = body["ids"]
    token = a.token("direct")
    acknowledged: list[float] = []
    stop = threading.Event()

    def push() -> None:  # an agent that records what hub A said it stored
        while not stop.is_set():
            ts = round(time.time(), 3)
            try:
                st, res = http("POST", a.url + "/api/ingest/direct", {"samples": [{"ts": ts, "cpu": {"percent": 1}}]},
                               token=token, timeout=2)
                if st == 200 and res["accepted"] == 1:
                    acknowledged.append(ts)
            except OSError:
                pass
            time.sleep(0.02)
    pusher = threading.Thread(target=push)
    pusher.start()
    try:
        wait_until(lambda: http("GET", b.url + "/api/jobs?limit=1")[1]["counts"]["succeeded"] >= 3, 60,
                   what="the workers to be under way")
        os.killpg(a.hub.pid, signal.SIGKILL)
        a.hub.wait(5)
    finally:
        stop.set()
        pusher.join(10)
    assert 10 < len(acknowledged) < 5000
    st, snap = http("GET", f"{b.url}/api/nodes/direct/snapshot?points=5000")
    assert st == 200, snap
    stored = {s["ts"] for s in snap["samples"]}
    assert [ts for ts in acknowledged if ts not in stored] == [], "hub A acknowledged samples that are not stored"
    wait_until(lambda: http("GET", b.url + "/api/jobs?limit=1")[1]["counts"]["succeeded"] == len(ids), 120,
               interval=0.5, what="every job to succeed on the hub that survived")
    assert set(b.fleet()) >= {"w1", "w2", "direct"}


class Pusher(threading.Thread):
    """An agent that records which samples the hub said it stored (one a push, every 20 ms)."""

    def __init__(self, hub: LiveHub, node_id: str) -> None:
        super().__init__()
        self.url, self.token = f"{hub.url}/api/ingest/{node_id}", hub.token(node_id)
        self.acknowledged: list[float] = []
        self.refused: list[int] = []  # the statuses of pushes the hub did not store (0: no answer)
        self.refusals: list[dict] = []
        self.timeout = 10.0  # as the agent's
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            ts = round(time.time(), 3)
            try:
                st, res = http("POST", self.url, {"samples": [{"ts": ts, "cpu": {"percent": 1}}]}, token=self.token,
                               timeout=self.timeout)
                if st == 200 and res["accepted"] == 1:
                    self.acknowledged.append(ts)
                else:
                    self.refused.append(st)
                    self.refusals.append(res)
            except OSError:
                self.refused.append(0)
            time.sleep(0.02)

    def stop(self) -> None:
        self.halt.set()
        self.join(10)


def stored_ts(hub: LiveHub, node_id: str, points: int = 5000) -> set[float]:
    st, snap = http("GET", f"{hub.url}/api/nodes/{node_id}/snapshot?points={points}")
    if st == 404:  # the node has not pushed yet
        return set()
    assert st == 200, snap
    return {s["ts"] for s in snap["samples"]}


@pytest.mark.slow
def test_a_database_restart_mid_ingest_loses_no_acknowledged_sample(live_hub, tmp_path):
    """A server of its own, stopped and started under a hub that an agent and a pusher keep busy:
    while it is away pushes fail (the agent buffers), then the hub carries on by itself and
    the agent's buffered samples arrive."""
    server = pg_server.PostgresServer(free_port())
    try:
        with pg_server.fresh_database(server.base_url) as url:
            hub = live_hub("--store", url)
            hub.start_agent("steady", "--jobs", "never", "--push-interval", "1")
            pusher = Pusher(hub, "direct")
            pusher.start()
            try:
                wait_until(lambda: len(stored_ts(hub, "steady")) >= 2, 30, what="the agent's first pushes")
                away = time.time()
                server.stop("fast")
                wait_until(lambda: pusher.refused, 10, what="a push to fail while the database is away")
                st, _ = http("GET", hub.url + "/api/health")
                assert st == 200, "the hub stopped answering while the database was away"
                time.sleep(2)
                server.start()
                back = time.time()
                wait_until(lambda: pusher.acknowledged and pusher.acknowledged[-1] > back, 30,
                           what="the hub to store pushes again")
                # The agent samples every second and buffered what failed: no hole over the outage.
                wait_until(lambda: {int(t) for t in stored_ts(hub, "steady") if away - 1 <= t <= back + 1}
                           >= set(range(int(away), int(back))), 30, interval=0.5,
                           what="the agent's samples from while the database was away")
            finally:
                pusher.stop()
            # While the database was away the hub said so, promptly, in the API's error shape.
            assert pusher.refused and set(pusher.refused) == {503}, pusher.refused
            assert {r["error"] for r in pusher.refusals} == {"store_unavailable"}, pusher.refusals
            stored = stored_ts(hub, "direct")
            assert [ts for ts in pusher.acknowledged if ts not in stored] == [], \
                "the hub acknowledged samples that are not stored"
            assert any(t < away for t in pusher.acknowledged) and any(t > back for t in pusher.acknowledged)
            hub.close()
    finally:
        server.destroy()


def test_an_alert_rule_made_on_one_hub_is_evaluated_by_the_other_at_once(live_hub, pg_url):
    """Hub A makes the rule and stops; only hub B, told through the database, can fire it.
    Without the news B would take up the rule at its slow re-read (a minute), after the wait."""
    a, b = two_hubs(live_hub, pg_url)
    st, rule = http("POST", a.url + "/api/alert-rules", {"name": "hot", "metric": "cpu", "op": ">", "threshold": 50,
                                                         "for_s": 0}, token=ADMIN)
    assert st == 201, rule
    a.stop_hub()
    token = b.token("busy")

    def firing() -> list:
        st, res = http("POST", b.url + "/api/ingest/busy", {"samples": [{"ts": time.time(), "cpu": {"percent": 99}}]},
                       token=token)
        assert st == 200, res
        return http("GET", b.url + "/api/alerts?state=firing")[1]["alerts"]
    alerts = wait_until(firing, 20, interval=0.5, what="hub B to fire the rule made on hub A")
    assert [(x["node_id"], x["rule_name"]) for x in alerts] == [("busy", "hot")]


def test_hub_says_in_one_line_when_postgresql_is_unreachable(tmp_path):
    hub = LiveHub(tmp_path)
    port = free_port()  # nothing listens there
    p = subprocess.run(hub.forge("hub", "--host", "127.0.0.1", "--port", str(hub.port),
                                 "--data-dir", str(tmp_path / "hub"),
                                 "--store", f"postgresql://forge:hunter2@127.0.0.1:{port}/forge"),
                       env=hub.env, capture_output=True, text=True, timeout=60, cwd=str(tmp_path))
    assert p.returncode == 1
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"forge hub: cannot reach PostgreSQL at 127.0.0.1:{port}/forge"), \
        p.stderr
    assert "hunter2" not in p.stderr + p.stdout


def test_an_alert_seen_by_two_hubs_is_notified_once_and_resolved_once(live_hub, pg_url):
    from test_alerts_e2e import Receiver
    receiver = Receiver()
    try:
        a, b = two_hubs(live_hub, pg_url)
        b.stop_hub()  # every hub seals and opens channel URLs with the same channels.key
        shutil.copy(a.home / "hub" / "channels.key", b.home / "hub" / "channels.key")
        b.start_hub("--store", pg_url)
        st, hook = http("POST", a.url + "/api/channels", {"name": "hook", "url": f"json://127.0.0.1:{receiver.port}/h"},
                        token=ADMIN)
        assert st == 201, hook
        st, rule = http("POST", a.url + "/api/alert-rules", {"name": "gone", "metric": "offline", "op": ">",
                                                             "threshold": 5, "for_s": 0, "channels": [hook["id"]]},
                        token=ADMIN)
        assert st == 201, rule
        tok = a.token("victim")
        a.start_agent("victim", "--jobs", "never", token=tok)
        wait_until(lambda: "victim" in b.fleet(), 30, what="the node on both hubs")
        time.sleep(2)  # hub B has heard of the new rule by now (peer news, then its next tick)
        a.stop("agent-victim", signal.SIGKILL)
        wait_until(lambda: receiver.got, 40, what="a FIRING notification")
        for hub in (a, b):
            st, body = http("GET", hub.url + "/api/alerts?state=firing")
            assert [(x["node_id"], x["rule_name"]) for x in body["alerts"]] == [("victim", "gone")]
        a.start_agent("victim", "--jobs", "never", token=tok)
        wait_until(lambda: len(receiver.got) >= 2, 60, what="a RESOLVED notification")
        time.sleep(4)  # a second hub's copy would have gone out by now
        assert receiver.titles() == ["FIRING: gone on victim", "RESOLVED: gone on victim"]
    finally:
        receiver.close()
