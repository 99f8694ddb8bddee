"""What each alert metric reads from a sample, and whether a rule's condition holds (pure)."""
from __future__ import annotations

import math
from typing import Callable

from .schema import METRICS, OPS, SEVERITIES, Rule, RuleIn

# Metrics the engine computes itself instead of reading from one sample.
SPECIAL = ("offline", "reboot", "disk_fill_hours")


def _get(sample: dict, *path: str) -> object:
    v: object = sample
    for p in path:
        if not isinstance(v, dict):
            return None
        v = v.get(p)
    return v


def _num(v: object) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        return None
    return float(v)


def _max(values) -> float | None:
    nums = [n for n in (_num(v) for v in values) if n is not None]
    return max(nums) if nums else None


def disk_percent(sample: dict, identity: dict) -> float | None:
    mounts = _get(sample, "disk", "mounts")
    return _max(m.get("percent") for m in mounts if isinstance(m, dict)) if isinstance(mounts, list) else None


def temperature(sample: dict, identity: dict) -> float | None:
    """The hottest sensor: the CPU package, any core, any GPU (schema 2)."""
    values: list[object] = [_get(sample, "cpu", "package_temp_c")]
    cores = _get(sample, "cpu", "temp_c")
    if isinstance(cores, list):
        values += cores
    gpus = sample.get("gpus")
    if isinstance(gpus, list):
        values += [g.get("temp_c") for g in gpus if isinstance(g, dict)]
    return _max(values)


def load_per_core(sample: dict, identity: dict) -> float | None:
    load = sample.get("load")
    cores = identity.get("cores") if isinstance(identity, dict) else None
    if not isinstance(load, list) or not load or _num(load[0]) is None:
        return None
    n = cores if isinstance(cores, int) and cores > 0 else 1
    return float(load[0]) / n


def gpu_util(sample: dict, identity: dict) -> float | None:
    gpus = sample.get("gpus")
    return _max(g.get("util_percent") for g in gpus if isinstance(g, dict)) if isinstance(gpus, list) else None


def _path(*path: str) -> Callable[[dict, dict], float | None]:
    return lambda sample, identity: _num(_get(sample, *path))


READERS: dict[str, Callable[[dict, dict], float | None]] = {
    "cpu": _path("cpu", "percent"),
    "memory": _path("memory", "percent"),
    "swap": _path("swap", "percent"),
    "disk": disk_percent,
    "temperature": temperature,
    "load": load_per_core,
    "net_rx": _path("net", "rx_bps"),
    "net_tx": _path("net", "tx_bps"),
    "gpu": gpu_util,
    "battery": _path("battery", "percent"),
}
assert set(READERS) | set(SPECIAL) == set(METRICS)

UNITS = {"offline": "s", "cpu": "%", "memory": "%", "swap": "%", "disk": "%", "temperature": "°C",
         "load": "per core", "net_rx": "B/s", "net_tx": "B/s", "gpu": "%", "battery": "%",
         "reboot": "", "disk_fill_hours": "h"}


def holds(rule: Rule, value: float | None) -> bool | None:
    """Whether the condition holds; None when the value is unknown (the alert keeps its state)."""
    if value is None:
        return None
    return value > rule.threshold if rule.op == ">" else value < rule.threshold


def resolve_hold_s(rule: Rule) -> float:
    """How long the condition must be false before an alert resolves (hysteresis)."""
    return min(rule.for_s, 60.0)


class RuleError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def check_rule(r: RuleIn, known_nodes: set[str], known_channels: set[int]) -> None:
    """Raise RuleError naming the first bad field."""
    if not r.name.strip() or len(r.name) > 120:
        raise RuleError("name", "'name' must be 1-120 characters")
    if r.metric not in METRICS:
        raise RuleError("metric", f"'metric' must be one of {', '.join(METRICS)}; got {r.metric!r}")
    if r.op not in OPS:
        raise RuleError("op", f"'op' must be '>' or '<'; got {r.op!r}")
    if not math.isfinite(r.threshold):
        raise RuleError("threshold", "'threshold' must be a finite number")
    if not math.isfinite(r.for_s) or r.for_s < 0 or r.for_s > 30 * 86400:
        raise RuleError("for_s", f"'for_s' must be between 0 and 2592000 seconds; got {r.for_s}")
    if r.severity not in SEVERITIES:
        raise RuleError("severity", f"'severity' must be one of {', '.join(SEVERITIES)}; got {r.severity!r}")
    if not r.nodes:
        raise RuleError("nodes", "'nodes' must be [\"*\"] or a list of node ids")
    unknown = [n for n in r.nodes if n != "*" and n not in known_nodes]
    if unknown:
        raise RuleError("nodes", f"'nodes' names nodes this hub does not know: {', '.join(map(repr, unknown[:5]))}")
    missing = [c for c in r.channels if c not in known_channels]
    if missing:
        raise RuleError("channels", f"'channels' names channels that do not exist: {missing[:5]}")
