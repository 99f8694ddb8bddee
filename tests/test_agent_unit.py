"""The agent's pusher on an injected clock: no thread, no socket, no sleeping.

tests/test_agent_e2e.py runs the same behaviours against real hub processes in real time.
Here the test takes the samples (`Agent.sample_now`) and pushes (`Agent.push_once`) by hand,
time is a `Clock` it advances, the hub is `ScriptedIngest` (what the agent calls on its
client) and the buffer is the real on-disk one in tmp_path.
"""
from __future__ import annotations

import pytest

from forge_desktop.agent import FLUSH_CHUNK, Agent
from forge_desktop.client import HubUnreachable
from test_worker_unit import Clock


class ScriptedCollector:
    """Samples numbered 1, 2, 3... in `ts`, so order and gaps are plain to see."""

    def __init__(self) -> None:
        self.ts = 0

    def identity(self) -> dict:
        return {"hostname": "desk", "os": "Linux"}

    def sample(self) -> dict:
        self.ts += 1
        return {"ts": float(self.ts), "cpu": {"percent": 12.0}, "memory": {"percent": 40.0}}


class ScriptedIngest:
    """The hub's ingest as the agent sees it; unreachable while `down`. Every call is kept
    with the clock's time, and what was accepted in `received`."""

    def __init__(self, clock: Clock) -> None:
        self.url = "http://127.0.0.1:9"
        self.clock = clock
        self.down = False
        self.calls: list[tuple[float, int]] = []
        self.received: list[float] = []

    def ingest(self, node_id: str, identity: dict, samples: list[dict]) -> dict:
        self.calls.append((self.clock(), len(samples)))
        if self.down:
            raise HubUnreachable(f"cannot reach {self.url}: connection refused")
        self.received.extend(s["ts"] for s in samples)
        return {"accepted": len(samples), "live": False}

    def health(self) -> dict:
        if self.down:
            raise HubUnreachable(f"cannot reach {self.url}: connection refused")
        return {"service": "forge-hub"}


@pytest.fixture
def rig(tmp_path):
    clock = Clock()
    hub = ScriptedIngest(clock)
    agent = Agent(hub, "desk", tmp_path / "buffer.ndjson", collector=ScriptedCollector(), clock=clock)
    agent.backoff.rand = lambda: 0.5  # no jitter: delays of exactly 1, 2, 4 ... s
    return agent, hub, clock


def take(agent: Agent, n: int) -> None:
    for _ in range(n):
        agent.sample_now()


def test_a_push_sends_the_pending_samples_in_order_and_stamps_the_clock(rig):
    agent, hub, clock = rig
    take(agent, 5)
    assert agent.push_once() is True
    assert hub.received == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert (agent.status.connected, agent.status.pushed, agent.status.buffered) == (True, 5, 0)
    assert agent.status.last_push == clock.now and agent.status.cpu == 12.0
    assert agent.push_once() is True and hub.received == [1.0, 2.0, 3.0, 4.0, 5.0], "nothing is sent twice"


def test_a_failed_push_buffers_and_the_next_ones_wait_out_the_backoff(rig):
    agent, hub, clock = rig
    hub.down = True
    take(agent, 3)
    assert agent.push_once() is False
    assert agent.status.buffered == 3 and not agent.status.connected
    assert "connection refused" in agent.status.last_error
    attempts = len(hub.calls)

    clock.advance(0.5)  # within the first 1 s backoff: no request, the samples join the buffer
    take(agent, 2)
    assert agent.push_once() is False
    assert len(hub.calls) == attempts and agent.status.buffered == 5

    hub.down = False
    clock.advance(0.6)
    take(agent, 1)
    assert agent.push_once() is True
    assert hub.received == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], "the buffered samples go first, none twice"
    assert agent.status.buffered == 0 and len(agent.buffer) == 0


def test_retries_back_off_exponentially_on_the_clock(rig):
    agent, hub, clock = rig
    hub.down = True
    for _ in range(int(70 / 0.25)):
        take(agent, 1)
        agent.push_once()
        clock.advance(0.25)
    times = [t for t, _ in hub.calls]
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert gaps[:5] == [1.0, 2.0, 4.0, 8.0, 16.0]
    assert all(g <= agent.backoff.cap_s for g in gaps)
    assert agent.status.buffered == int(70 / 0.25), "every sample is kept"


def test_a_long_outage_is_flushed_oldest_first_in_chunks(rig):
    agent, hub, clock = rig
    hub.down = True
    for _ in range(3):
        take(agent, 450)
        agent.push_once()
        clock.advance(0.25)
    assert agent.status.buffered == 1350
    hub.down = False
    clock.advance(agent.backoff.cap_s)
    take(agent, 1)
    assert agent.push_once() is True
    assert hub.received == [float(i) for i in range(1, 1352)]
    sizes = [n for t, n in hub.calls if t == clock.now]
    assert max(sizes) <= FLUSH_CHUNK and len(sizes) >= 3


def test_final_push_ignores_the_backoff_and_a_restarted_agent_sends_the_buffer_first(rig, tmp_path):
    agent, hub, clock = rig
    hub.down = True
    take(agent, 4)
    agent.push_once()
    take(agent, 2)
    assert agent.push_once(final=True) is False, "a final push tries the hub even within the backoff"
    assert len(hub.calls) == 2 and agent.status.buffered == 6

    # The agent quits with 6 samples on disk; the next one starts on the same buffer.
    hub.down = False
    collector = ScriptedCollector()
    collector.ts = 100
    again = Agent(hub, "desk", tmp_path / "buffer.ndjson", collector=collector, clock=clock)
    assert again.status.buffered == 6
    take(again, 2)
    assert again.push_once() is True
    assert hub.received == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 101.0, 102.0]
