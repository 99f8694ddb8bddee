"""The agent's health file: what a supervisor (systemd, Docker, a script) reads to see a
headless agent's failure, through `forge agent --health`.

The pusher writes `health-<node>.json` in the data folder when the health changes and
otherwise as a heartbeat about once a push interval, never per sample. A file that has not
been rewritten within `stale_after_s` means no agent is working for that node (stopped,
hung or killed). It holds states and counts only: never the token.
"""
from __future__ import annotations

import json
import logging
import os
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from forge_contracts.jobtypes.display import ago

from .atomic import replace_file

log = logging.getLogger("forge.agent")

HEALTHY, UNHEALTHY, NO_AGENT = 0, 1, 2   # `forge agent --health` exit codes
STALE_PUSH_INTERVALS = 3
FILE_SIZE = 2048   # every write is padded to this, so an in-place rewrite on a full disk fits
TEXT_MAX = 400     # fault and error texts are cut to this in the file


def health_path(data_dir: Path, node_id: str) -> Path:
    return data_dir / f"health-{node_id}.json"


@dataclass
class AgentHealth:
    """One write of the health file."""
    node_id: str
    healthy: bool
    fault: str | None
    needs_rejoin: bool
    connected: bool
    last_error: str | None
    since: float                 # when `healthy`/`fault`/`needs_rejoin` last changed
    last_push: float | None      # the last successful push
    buffered: int
    dropped: int
    pid: int
    written_at: float
    stale_after_s: float         # a reader calls the file stale when older than this
    stopped: bool = False


class HealthWriter:
    """Writes the health file from the pusher: at once when the health changes, else at most
    once per `heartbeat_s`. Never raises: a file it cannot write is logged once."""

    def __init__(self, path: Path, node_id: str, heartbeat_s: float, stale_after_s: float,
                 clock=time.time):
        self.path = path
        self.node_id = node_id
        self.heartbeat_s = heartbeat_s
        self.stale_after_s = stale_after_s
        self.clock = clock
        self._key: tuple | None = None
        self._since = clock()
        self._written_at = 0.0
        self._logged_error: str | None = None
        self._lock = threading.Lock()  # the pusher writes, and `Agent.stop` once it gave up waiting for it

    def update(self, status, stopped: bool = False) -> bool:
        """Write `status` (an AgentStatus) when it changed or the heartbeat is due. True if written."""
        with self._lock:
            return self._update(status, stopped)

    def _update(self, status, stopped: bool) -> bool:
        now = self.clock()
        key = (status.healthy, status.fault, status.needs_rejoin, status.connected, stopped)
        health_changed = self._key is None or key[:3] != self._key[:3]
        if health_changed:
            self._since = now
        # 0.8: pushes come about once a heartbeat, a few ms early or late; never skip one
        if key == self._key and now - self._written_at < 0.8 * self.heartbeat_s:
            return False
        health = AgentHealth(
            node_id=self.node_id, healthy=status.healthy, fault=_cut(status.fault),
            needs_rejoin=status.needs_rejoin, connected=status.connected, last_error=_cut(status.last_error),
            since=self._since,
            last_push=status.last_push, buffered=status.buffered, dropped=status.dropped, pid=os.getpid(),
            written_at=now, stale_after_s=self.stale_after_s, stopped=stopped)
        try:
            data = json.dumps(asdict(health), indent=1).encode()
            replace_file(self.path, data.ljust(FILE_SIZE - 1) + b"\n")
        except OSError as e:
            if str(e) != self._logged_error:
                self._logged_error = str(e)
                log.error("✗ cannot write the health file %s (%s); `forge agent --health` will call it stale",
                          self.path, e)
            return False
        self._logged_error = None
        self._key, self._written_at = key, now
        return True



@dataclass
class Verdict:
    code: int   # HEALTHY, UNHEALTHY or NO_AGENT
    line: str


def read_health(path: Path, node_id: str, now: float | None = None) -> Verdict:
    """What `forge agent --health` prints and exits with, from the health file at `path`."""
    now = time.time() if now is None else now
    try:
        raw = path.read_bytes()
        mtime = path.stat().st_mtime
        if not _parses(raw):  # caught mid in-place rewrite (full disk): read again
            time.sleep(0.05)
            raw = path.read_bytes()
    except FileNotFoundError:
        return Verdict(NO_AGENT, f"no agent: no agent has run as node {node_id!r} with this data folder "
                                 f"(no {path})")
    except OSError as e:
        return Verdict(NO_AGENT, f"no agent: cannot read {path}: {e.strerror or e}")
    try:
        h = json.loads(raw)
        if not isinstance(h, dict):
            raise ValueError("not an object")
        stale_after = float(h["stale_after_s"])
    except (ValueError, KeyError, TypeError):
        return Verdict(NO_AGENT, f"no agent: {path} is not a health file the agent wrote")
    written = mtime  # the OS's time of the last write: a file left behind ages without the agent
    age = now - written
    pid = h.get("pid")
    if h.get("stopped"):
        return Verdict(NO_AGENT, f"stopped: the agent of node {node_id!r} (pid {pid}) stopped "
                                 f"{ago(age)} ({_clock(written)})")
    if age > stale_after:
        return Verdict(NO_AGENT, f"stale: the agent of node {node_id!r} (pid {pid}) last wrote its health "
                                 f"{ago(age)} ({_clock(written)}; stale after {stale_after:.0f} s): "
                                 f"it is stopped, hung or was killed")
    buffered = h.get("buffered") or 0
    pushed = f"last push {ago(now - h['last_push'])}" if h.get("last_push") else "no push yet"
    tail = f"{pushed}, {buffered} samples buffered"
    since = f"since {_clock(h.get('since') or written)}"
    if h.get("needs_rejoin"):
        return Verdict(UNHEALTHY, f"unhealthy: node {node_id!r} must rejoin the hub ({h.get('last_error')}) "
                                  f"{since}; {tail}")
    if h.get("fault"):
        return Verdict(UNHEALTHY, f"unhealthy: node {node_id!r} agent fault {since}: {h['fault']}; {tail}; "
                                  f"still sampling and retrying")
    if not h.get("healthy", False):
        return Verdict(UNHEALTHY, f"unhealthy: node {node_id!r} {since}; {tail}")
    if not h.get("connected") and h.get("last_error"):
        return Verdict(HEALTHY, f"healthy: node {node_id!r}, hub not reachable now ({h['last_error']}): "
                                f"buffering; {tail}")
    return Verdict(HEALTHY, f"healthy: node {node_id!r} {since}; {tail}")


def _parses(raw: bytes) -> bool:
    try:
        json.loads(raw)
        return True
    except ValueError:
        return False


def _cut(text: str | None) -> str | None:
    return text if text is None or len(text) <= TEXT_MAX else text[:TEXT_MAX - 1] + "…"


def _clock(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))
