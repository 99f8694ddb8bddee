"""The live picture of the fleet kept in memory: identity, status, latest sample, sparkline.

Loaded from the store at start and updated by every ingest, so `GET /api/fleet` and
the SSE summaries never scan sample tables.
"""
from __future__ import annotations

import math
from array import array
from dataclasses import dataclass, field

import msgspec

from .store import NodeRow

SPARK_POINTS = 30


class Sparkline:
    """A node's last SPARK_POINTS CPU percentages (null as NaN) in one array of doubles:
    about 0.3 KB a node, where a deque of Python floats took 1.3 KB."""
    __slots__ = ("_values",)

    def __init__(self) -> None:
        self._values = array("d")

    def append(self, value: float | None) -> None:
        self._values.append(math.nan if value is None else value)
        if len(self._values) > SPARK_POINTS:
            del self._values[0]

    def extend(self, values: list[float | None]) -> None:
        for v in values:
            self.append(v)

    def last(self, n: int) -> list[float | None]:
        return [None if math.isnan(v) else v for v in self._values[len(self._values) - n:]] if n > 0 else []


@dataclass
class NodeState:
    id: str
    name: str
    identity: dict
    first_seen: float
    last_seen: float
    # The newest sample, kept as JSON (a few hundred bytes instead of a tree of Python objects,
    # which was most of the hub's memory at thousands of nodes) and served as it is.
    latest_raw: bytes | None = None
    spark: Sparkline = field(default_factory=Sparkline)
    status: str = "online"
    jobs: dict = field(default_factory=lambda: {"running": 0, "done": 0, "failed": 0})
    unsent_points: int = 0  # spark points since the last fleet event, sent as its spark_tail
    identity_changed: bool = True
    latest_ts: float | None = None
    cpu: float | None = None
    mem: float | None = None
    gpu: float | None = None
    # The newest process list (schema 2 sends one in five samples, so the latest sample often
    # has none), as JSON like latest_raw; memory only: null after a restart until the next list.
    processes_raw: bytes | None = None
    processes_ts: float | None = None
    top_process: dict | None = None

    def set_latest(self, sample: dict | None) -> None:
        if sample is None:
            return
        self.latest_raw = msgspec.json.encode(sample)
        self.latest_ts = sample["ts"]
        self.cpu, self.mem = _cpu(sample), _mem(sample)
        self.gpu = _gpu(sample)

    def set_processes(self, ts: float, items: list) -> None:
        self.processes_raw = msgspec.json.encode(items)
        self.processes_ts = ts
        self.top_process = _top_process(items)

    def processes(self) -> dict | None:
        """`{"ts", "items"}` of the newest process list, the items spliced in as stored."""
        if self.processes_raw is None:
            return None
        return {"ts": self.processes_ts, "items": msgspec.Raw(self.processes_raw)}


def node_status(last_seen: float, now: float, degraded_s: float, offline_s: float) -> str:
    age = now - last_seen
    if age < degraded_s:
        return "online"
    if age <= offline_s:
        return "degraded"
    return "offline"


def _percent(sample: dict | None, family: str) -> float | None:
    try:
        v = float(sample[family]["percent"])  # type: ignore[index]
        return v if math.isfinite(v) else None
    except (KeyError, TypeError, ValueError):
        return None


def _cpu(sample: dict | None) -> float | None:
    return _percent(sample, "cpu")


def _mem(sample: dict | None) -> float | None:
    return _percent(sample, "memory")


def _number(v: object) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        return None
    return float(v)


def _gpu(sample: dict) -> float | None:
    """Mean utilisation over the sample's GPUs that report one; None without GPUs."""
    gpus = sample.get("gpus")
    if not isinstance(gpus, list):
        return None
    utils = [u for g in gpus if isinstance(g, dict) and (u := _number(g.get("util_percent"))) is not None]
    return round(sum(utils) / len(utils), 1) if utils else None


def _top_process(items: list) -> dict | None:
    """Name and CPU of the process with the most CPU in a list; None if none has a CPU figure."""
    best, best_cpu = None, -1.0
    for p in items:
        cpu = _number(p.get("cpu_percent")) if isinstance(p, dict) else None
        if cpu is not None and cpu > best_cpu:
            best, best_cpu = p, cpu
    if best is None:
        return None
    name = best.get("name")
    return {"name": name if isinstance(name, str) else "", "cpu_percent": best_cpu}


class FleetState:
    def __init__(self, degraded_s: float, offline_s: float):
        self.degraded_s = degraded_s
        self.offline_s = offline_s
        self.nodes: dict[str, NodeState] = {}

    def load(self, rows: list[NodeRow], sparks: dict[str, list[float | None]],
             job_counts: dict[str, dict[str, int]], now: float) -> None:
        for r in rows:
            st = NodeState(id=r.id, name=r.name, identity=r.identity, first_seen=r.first_seen,
                           last_seen=r.last_seen)
            st.set_latest(r.latest)
            st.spark.extend(sparks.get(r.id, []))
            st.status = self.status(st, now)
            self.nodes[r.id] = st
        self.set_job_counts(job_counts)

    def status(self, node: NodeState, now: float) -> str:
        return node_status(node.last_seen, now, self.degraded_s, self.offline_s)

    def apply_ingest(self, node_id: str, identity: dict, samples: list[dict], now: float) -> NodeState:
        node = self.nodes.get(node_id)
        if node is None:
            node = NodeState(id=node_id, name=node_id, identity=identity or {}, first_seen=now,
                             last_seen=now)
            self.nodes[node_id] = node
        if identity and identity != node.identity:
            node.identity = identity
            node.identity_changed = True
        node.last_seen = now
        latest_ts = node.latest_ts if node.latest_ts is not None else float("-inf")
        processes_ts = node.processes_ts if node.processes_ts is not None else float("-inf")
        newest = newest_processes = None
        for s in sorted(samples, key=lambda s: s["ts"]):
            if s["ts"] > latest_ts:
                node.spark.append(_cpu(s))
                node.unsent_points = min(node.unsent_points + 1, SPARK_POINTS)
                newest = s
                latest_ts = s["ts"]
            if s["ts"] > processes_ts and isinstance(s.get("processes"), list):
                newest_processes = s
                processes_ts = s["ts"]
        node.set_latest(newest)
        if newest_processes is not None:
            node.set_processes(newest_processes["ts"], newest_processes["processes"])
        return node

    def set_job_counts(self, counts: dict[str, dict[str, int]]) -> list[str]:
        """Replace job counts; returns the ids of nodes whose counts changed."""
        changed = []
        for node_id, node in self.nodes.items():
            new = counts.get(node_id, {"running": 0, "done": 0, "failed": 0})
            if new != node.jobs:
                node.jobs = dict(new)
                changed.append(node_id)
        return changed

    def check_status(self, now: float) -> list[tuple[NodeState, str]]:
        """Nodes whose status changed since the last check, with their previous status."""
        changes = []
        for node in self.nodes.values():
            s = self.status(node, now)
            if s != node.status:
                changes.append((node, node.status))
                node.status = s
        return changes

    def event_summary(self, node: NodeState, now: float) -> dict:
        """What a fleet SSE event carries for one node: what changes, plus identity only when it
        changed, plus the CPU points since the previous event (`spark_tail`). Resets both."""
        out = {
            "id": node.id,
            "status": self.status(node, now),
            "last_seen": round(node.last_seen, 3),
            "last_sample_ts": round(node.latest_ts, 3) if node.latest_ts is not None else None,
            "cpu": node.cpu,
            "mem": node.mem,
            "gpu_percent": node.gpu,
            "top_process": node.top_process,
            "jobs": dict(node.jobs),
            "spark_tail": node.spark.last(node.unsent_points),
        }
        node.unsent_points = 0
        if node.identity_changed:
            node.identity_changed = False
            full = self.summary(node, now, full=False)
            out.update({k: full[k] for k in ("name", "hostname", "os", "os_version", "arch", "cores",
                                              "agent_version", "first_seen")})
        return out

    def summary(self, node: NodeState, now: float, *, full: bool) -> dict:
        """A node as the fleet routes show it; `full` adds the sparkline and the latest sample,
        the latter as msgspec.Raw (its stored JSON, spliced in by msgspec.json.encode)."""
        ident = node.identity
        out = {
            "id": node.id,
            "name": node.name,
            "hostname": ident.get("hostname"),
            "os": ident.get("os"),
            "os_version": ident.get("os_version"),
            "arch": ident.get("arch"),
            "cores": ident.get("cores"),
            "agent_version": ident.get("agent_version"),
            "status": self.status(node, now),
            "last_seen": node.last_seen,
            "first_seen": node.first_seen,
            "last_sample_ts": node.latest_ts,
            "cpu": node.cpu,
            "mem": node.mem,
            "gpu_percent": node.gpu,
            "top_process": node.top_process,
            "jobs": dict(node.jobs),
        }
        if full:
            out["spark"] = node.spark.last(SPARK_POINTS)
            out["latest"] = msgspec.Raw(node.latest_raw) if node.latest_raw is not None else None
        return out
