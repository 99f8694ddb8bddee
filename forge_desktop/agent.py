"""The headless agent: a sample every second, a push of the pending samples every 5 s.

Two threads: the sampler never waits on the network, the pusher never delays a
sample. Failed pushes go to the on-disk buffer and are flushed, oldest first, with
exponential backoff and jitter once the hub answers again.
"""
from __future__ import annotations

import logging
import queue
import random
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .buffer import SampleBuffer
from .console import say
from .client import HubClient, HubError, HubUnreachable, NotAForgeHub

log = logging.getLogger("forge.agent")

FLUSH_CHUNK = 500


@dataclass
class AgentStatus:
    """What the tray and the CLI show: updated after every push attempt."""
    connected: bool = False
    last_push: float | None = None
    last_error: str | None = None
    buffered: int = 0
    pushed: int = 0
    cpu: float | None = None
    mem: float | None = None
    live: bool = False


@dataclass
class Backoff:
    base_s: float = 1.0
    cap_s: float = 60.0
    failures: int = 0
    not_before: float = 0.0
    rand: Callable[[], float] = field(default=random.random)

    def fail(self, now: float) -> float:
        self.failures += 1
        delay = min(self.cap_s, self.base_s * 2 ** (self.failures - 1))
        delay *= 0.8 + 0.4 * self.rand()
        self.not_before = now + delay
        return delay

    def ok(self) -> None:
        self.failures, self.not_before = 0, 0.0

    def ready(self, now: float) -> bool:
        return now >= self.not_before


class Agent:
    def __init__(self, client: HubClient, node_id: str, buffer_path: Path, *,
                 collector=None, push_interval_s: float = 5.0, sample_interval_s: float = 1.0,
                 buffer_max_bytes: int = 50 * 1024 * 1024,
                 on_push: Callable[[AgentStatus], None] | None = None, echo: bool = False,
                 clock: Callable[[], float] = time.time):
        if collector is None:
            from .collector import Collector
            collector = Collector()
        self.client = client
        self.node_id = node_id
        self.collector = collector
        self.identity = collector.identity()
        self.buffer = SampleBuffer(buffer_path, buffer_max_bytes)
        self.push_interval_s = push_interval_s
        self.sample_interval_s = sample_interval_s
        self.on_push = on_push
        self.echo = echo
        self.clock = clock  # wall time for push stamps and backoff; tests pass their own
        self.status = AgentStatus(buffered=len(self.buffer))
        self.backoff = Backoff()
        self.stop_event = threading.Event()
        self._pending: queue.Queue[dict] = queue.Queue()
        self._threads: list[threading.Thread] = []

    # --- lifecycle ----------------------------------------------------------------
    def start(self) -> None:
        for target, name in ((self._sample_loop, "forge-sampler"), (self._push_loop, "forge-pusher")):
            t = threading.Thread(target=target, name=name, daemon=True)
            t.start()
            self._threads.append(t)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop sampling, push what is pending (or buffer it): nothing is lost on quit."""
        self.stop_event.set()
        for t in self._threads:
            t.join(timeout)
        self._threads.clear()

    def run_forever(self) -> None:
        self.start()
        try:
            while not self.stop_event.wait(0.5):
                pass
        finally:
            self.stop()

    # --- sampling -------------------------------------------------------------------
    def sample_now(self) -> None:
        """Take one sample for the next push (the sampler thread's step)."""
        self._pending.put(self.collector.sample())

    def _sample_loop(self) -> None:
        next_at = time.monotonic()
        while not self.stop_event.is_set():
            try:
                self.sample_now()
            except Exception:
                log.exception("sampling failed; trying again next second")
            next_at += self.sample_interval_s
            delay = next_at - time.monotonic()
            if delay < 0:
                next_at = time.monotonic()
                delay = 0
            self.stop_event.wait(delay)

    # --- pushing --------------------------------------------------------------------
    def _drain(self) -> list[dict]:
        out = []
        while True:
            try:
                out.append(self._pending.get_nowait())
            except queue.Empty:
                return out

    def _push_loop(self) -> None:
        next_push = time.monotonic() + min(self.push_interval_s, 1.0)
        while True:
            stopping = self.stop_event.wait(max(0.0, min(next_push - time.monotonic(), 0.25)))
            if not stopping and time.monotonic() < next_push:
                continue
            self.push_once(final=stopping)
            if stopping:
                return
            interval = 1.0 if self.status.live else self.push_interval_s
            next_push = time.monotonic() + interval

    def push_once(self, final: bool = False) -> bool:
        """Push pending samples (after any buffered ones, to keep order). True when delivered."""
        batch = self._drain()
        now = self.clock()
        if len(self.buffer) or not self.backoff.ready(now):
            self.buffer.append(batch)
            ok = self._flush_buffer(now) if (self.backoff.ready(now) or final) else False
        else:
            ok = self._send(batch, now)
            if not ok:
                self.buffer.append(batch)
        self.status.buffered = len(self.buffer)
        if self.on_push:
            try:
                self.on_push(self.status)
            except Exception:
                log.exception("push listener failed")
        return ok

    def _flush_buffer(self, now: float) -> bool:
        flushed = 0
        while True:
            chunk = self.buffer.peek(FLUSH_CHUNK)
            if not chunk:
                if flushed:
                    self._say(f"↻ flushed {flushed} buffered samples")
                return True
            good = [s for s in chunk if not s.get("_corrupt")]
            if good and not self._send(good, now, quiet=True):
                return False
            self.buffer.drop(len(chunk))
            flushed += len(good)

    def _send(self, samples: list[dict], now: float, quiet: bool = False) -> bool:
        if not samples:
            return True
        try:
            answer = self.client.ingest(self.node_id, self.identity, samples)
        except (HubUnreachable, NotAForgeHub) as e:
            return self._failed(str(e), now)
        except HubError as e:
            if e.status == 400:
                log.error("hub rejected %d samples as invalid (%s); dropping them", len(samples), e.message)
                return True
            if e.status in (401, 403):
                return self._failed(f"token refused by the hub: {e.message}", now)
            return self._failed(e.message, now)
        self.backoff.ok()
        latest = max(samples, key=lambda s: s.get("ts", 0))
        self.status.connected = True
        self.status.last_error = None
        self.status.last_push = now
        self.status.pushed += len(samples)
        self.status.live = bool(isinstance(answer, dict) and answer.get("live"))
        self.status.cpu = (latest.get("cpu") or {}).get("percent")
        self.status.mem = (latest.get("memory") or {}).get("percent")
        if not quiet:
            self._say(f"✓ pushed  cpu={_pct(self.status.cpu)}  mem={_pct(self.status.mem)}")
        return True

    def _failed(self, reason: str, now: float) -> bool:
        delay = self.backoff.fail(now)
        self.status.connected = False
        self.status.last_error = reason
        self._say(f"✗ push failed ({reason}); buffering, retry in {delay:.0f} s")
        return False

    def _say(self, line: str) -> None:
        say(log, line, self.echo)


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.1f}%" if v < 10 else f"{v:.0f}%"
