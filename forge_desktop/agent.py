"""The headless agent: a sample every second, a push of the pending samples every 5 s.

Two threads: the sampler never waits on the network, the pusher never delays a
sample. Failed pushes go to the on-disk buffer and are flushed, oldest first, with
exponential backoff and jitter once the hub answers again.

The pusher survives anything: an unexpected error (a full disk while buffering, a
buffer line that is JSON but not a sample) is logged once, shown in `AgentStatus.fault`
and retried on the next push; samples that could not be buffered are held in memory.
Given a `health_path`, the pusher also keeps a health file there (forge_desktop/health.py)
that `forge agent --health` reads for a supervisor.
A batch the hub rejects (400) is split until only the offending samples are dropped;
a batch over the hub's size limit (413, or the limit the hub names) is cut to fit.
"""
from __future__ import annotations

import logging
import queue
import random
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .buffer import SampleBuffer
from .console import say
from .health import STALE_PUSH_INTERVALS, HealthWriter
from .client import HubClient, HubError, HubUnreachable, NotAForgeHub

log = logging.getLogger("forge.agent")

FLUSH_CHUNK = 500
HELD_MAX = 3600           # samples kept in memory while the buffer cannot be written (1 h)
AUTH_FAILURES_BEFORE_REJOIN = 3
REJOIN_RETRY_S = 300.0    # how often a refused token is tried again once we told the user to rejoin


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
    fault: str | None = None
    needs_rejoin: bool = False
    dropped: int = 0

    @property
    def healthy(self) -> bool:
        """False while the pusher hits an unexpected error or the hub refuses the token."""
        return self.fault is None and not self.needs_rejoin


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
                 clock: Callable[[], float] = time.time, health_path: Path | None = None):
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
        self.status = AgentStatus(buffered=_safe_len(self.buffer))  # an unreadable buffer is a fault, not a crash
        self.backoff = Backoff()
        self.stop_event = threading.Event()
        self.max_batch = FLUSH_CHUNK
        self._limit_asked = False
        self._held: list[dict] = []
        self._auth_failures = 0
        self._logged_fault: str | None = None
        self._pending: queue.Queue[dict] = queue.Queue()
        self._threads: list[threading.Thread] = []
        # stale after a few missed pushes, plus the time one push may block on the network
        self.health = None if health_path is None else HealthWriter(
            health_path, node_id, heartbeat_s=push_interval_s,
            stale_after_s=STALE_PUSH_INTERVALS * push_interval_s + client.timeout, clock=clock)

    # --- lifecycle ----------------------------------------------------------------
    def start(self) -> None:
        self._write_health()
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
        self._write_health(stopped=True)

    def alive(self) -> bool:
        """True while both threads run (a supervisor exits non-zero otherwise)."""
        return bool(self._threads) and all(t.is_alive() for t in self._threads)

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
        self.collector.watched = self.status.live
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
        out, self._held = self._held, []
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
            self.push_once_safely(final=stopping)
            if stopping:
                return
            interval = 1.0 if self.status.live else self.push_interval_s
            next_push = time.monotonic() + interval

    def push_once_safely(self, final: bool = False) -> bool:
        """`push_once` that never raises: an unexpected error is logged once per distinct
        error, kept in `status.fault` until a push succeeds, and the loop carries on."""
        try:
            ok = self.push_once(final)
        except Exception as e:
            fault = f"{type(e).__name__}: {e}"
            self.status.fault = fault
            if fault != self._logged_fault:
                self._logged_fault = fault
                log.exception("✗ push failed unexpectedly (%s); still sampling, retrying on the next push", fault)
            self._notify()
            return False
        if ok and self.status.fault:
            self._say("✓ recovered from: " + self.status.fault)
            self.status.fault = self._logged_fault = None
            self._notify()
        return ok

    def push_once(self, final: bool = False) -> bool:
        """Push pending samples (after any buffered ones, to keep order). True when delivered.
        Should the buffer fail (a full disk), the drained samples are held in memory (the
        newest HELD_MAX) and the error raised, so the fault shows; they go on the next push."""
        batch = self._drain()
        now = self.clock()
        placed = ok = False
        try:
            if self.backoff.ready(now) or final:
                ok = self._flush_buffer(now) and self._deliver(batch, now)
            if not ok:
                self.buffer.append(batch)
            placed = True
        finally:
            if not placed:
                self._held = (batch + self._held)[-HELD_MAX:]
            self.status.buffered = len(self._held) + _safe_len(self.buffer)
            self._notify()
        return ok

    def _write_health(self, stopped: bool = False) -> None:
        if self.health:
            try:
                self.health.update(self.status, stopped=stopped)
            except Exception:
                log.exception("health file update failed")

    def _notify(self) -> None:
        self._write_health()
        if self.on_push:
            try:
                self.on_push(self.status)
            except Exception:
                log.exception("push listener failed")

    def _flush_buffer(self, now: float) -> bool:
        flushed = 0
        while True:
            chunk = self.buffer.peek(self.max_batch)
            if not chunk:
                if flushed:
                    self._say(f"↻ flushed {flushed} buffered samples")
                return True
            good = [s for s in chunk if not s.get("_corrupt")]
            if good and not self._deliver(good, now, quiet=True):
                return False
            self.buffer.drop(len(chunk))
            flushed += len(good)
            self._write_health()  # a long flush is not a hung agent

    def _deliver(self, samples: list[dict], now: float, quiet: bool = False) -> bool:
        """Send in batches of at most `max_batch`. True when every sample was delivered or
        rejected for itself (400: split until only the bad ones are dropped); False when the
        hub is unreachable or refuses us (the caller buffers)."""
        i = 0
        while i < len(samples):
            part = samples[i:i + self.max_batch]
            verdict = self._send(part, now, quiet)
            if verdict == "ok":
                i += len(part)
            elif verdict == "too_big":
                continue  # max_batch shrank; resend from the same place
            elif verdict == "invalid":
                if not self._split(part, now, quiet):
                    return False
                i += len(part)
            else:
                return False
        return True

    def _split(self, samples: list[dict], now: float, quiet: bool) -> bool:
        """A rejected batch: drop the sample the hub names (`samples[i]`), else bisect, until
        only the offending samples are dropped. False when the hub goes away meanwhile (the
        caller keeps the whole batch; a resend of what got through is deduped by the hub)."""
        stack = [samples]
        dropped = 0
        while stack:
            part = stack.pop()
            verdict = self._send(part, now, quiet=True)
            if verdict == "ok":
                continue
            if verdict == "down":
                return False
            if len(part) == 1:
                dropped += 1
                continue
            bad = self._named_index(len(part)) if verdict == "invalid" else None
            if bad is not None:
                dropped += 1
                rest = [p for p in (part[bad + 1:], part[:bad]) if p]
            else:
                rest = [part[len(part) // 2:], part[:len(part) // 2]]
            stack.extend(rest)
        self.status.dropped += dropped
        log.error("✗ hub rejected %d of %d samples as invalid (%s); dropped those, delivered the rest",
                  dropped, len(samples), self._last_reject)
        return True

    _last_reject = ""

    def _named_index(self, n: int) -> int | None:
        m = re.search(r"samples\[(\d+)\]", self._last_reject)
        if m and int(m.group(1)) < n:
            return int(m.group(1))
        return None

    def _send(self, samples: list[dict], now: float, quiet: bool = False) -> str:
        """One POST: "ok", "invalid" (400 for the content), "too_big" (the batch was over the
        hub's limit: `max_batch` is now smaller), or "down" (unreachable, refused, 5xx)."""
        if not samples:
            return "ok"
        try:
            answer = self.client.ingest(self.node_id, self.identity, samples)
        except (HubUnreachable, NotAForgeHub) as e:
            self._failed(str(e), now)
            return "down"
        except HubError as e:
            if e.status in (400, 413) and self._learn_limit(e, len(samples)):
                return "too_big"
            if e.status == 400:
                self._last_reject = e.message
                return "invalid"
            if e.status == 413:
                self._last_reject = e.message  # a single sample over the hub's size cap
                return "invalid"
            if e.status in (401, 403):
                self._refused(e.message, now)
                return "down"
            self._failed(e.message, now)
            return "down"
        self.backoff.ok()
        if self._auth_failures:
            self._auth_failures = 0
            self.status.needs_rejoin = False
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
        return "ok"

    def _learn_limit(self, e: HubError, sent: int) -> bool:
        """True (and `max_batch` lowered) when the hub says the batch was too large: the limit
        from the error body, else from GET /api/health, else half of what was sent (413 only)."""
        limit = hub_batch_limit(e.body, e.message)
        if limit is None and not self._limit_asked:
            self._limit_asked = True
            try:
                limit = hub_batch_limit(self.client.health(), "")
            except Exception:
                limit = None
        if limit is None or limit >= sent:
            if e.status != 413 or sent <= 1:
                return False
            limit = sent // 2
        self.max_batch = max(1, min(self.max_batch, limit))
        log.warning("the hub takes at most %d samples per push; sending batches of %d", limit, self.max_batch)
        return True

    def _refused(self, message: str, now: float) -> None:
        """A refused token: after a few tries say plainly the node must rejoin, then retry
        only every few minutes (a revoked token never heals by itself)."""
        self._auth_failures += 1
        if self._auth_failures < AUTH_FAILURES_BEFORE_REJOIN:
            self._failed(f"token refused by the hub: {message}", now)
            return
        self.backoff.failures += 1
        self.backoff.not_before = now + REJOIN_RETRY_S
        self.status.connected = False
        self.status.needs_rejoin = True
        self.status.last_error = f"token refused: rejoin with `{self.rejoin_command()}`"
        if self._auth_failures == AUTH_FAILURES_BEFORE_REJOIN:
            log.error("✗ the hub refused the token of node %r %d times (%s). This machine must rejoin: make a "
                      "join code on the hub (`forge tokens join-code`), then run `%s` and restart the agent. "
                      "Retrying every %.0f min meanwhile.", self.node_id, self._auth_failures, message,
                      self.rejoin_command(), REJOIN_RETRY_S / 60)

    def rejoin_command(self) -> str:
        return f"forge join {self.client.url} CODE --node-id {self.node_id}"

    def _failed(self, reason: str, now: float) -> bool:
        delay = self.backoff.fail(now)
        self.status.connected = False
        self.status.last_error = reason
        self._say(f"✗ push failed ({reason}); buffering, retry in {delay:.0f} s")
        return False

    def _say(self, line: str) -> None:
        say(log, line, self.echo)


def hub_batch_limit(body: object, message: str) -> int | None:
    """The hub's samples-per-push limit, from a JSON body (an error or /api/health) or an
    error message ("... at most 100 per push")."""
    if isinstance(body, dict):
        for holder in (body, body.get("limits"), body.get("detail")):
            if isinstance(holder, dict):
                for key in ("max_samples_per_push", "max_samples", "limit"):
                    v = holder.get(key)
                    if isinstance(v, int) and not isinstance(v, bool) and v > 0:
                        return v
    m = re.search(r"at most (\d+)(?: samples)? per (?:push|batch|request)", message or "")
    return int(m.group(1)) if m else None


def _safe_len(buffer: SampleBuffer) -> int:
    try:
        return len(buffer)
    except OSError:
        return 0


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.1f}%" if v < 10 else f"{v:.0f}%"
