"""The idle policy: may this machine run a job right now, and on how many cores?

Defaults follow BOINC and HTCondor: start when nobody touched the keyboard or
mouse for 3 minutes and other processes use less than 25 % CPU, never on
battery, use at most all cores but one. Servers run ``always``; ``never`` turns
jobs off; a pause (the tray's "Pause jobs") overrides everything.

``decide()`` is a pure function of the policy, the inputs and the time, so every
rule is testable without a mouse or a battery. ``IdleGate`` adds the one piece
of memory the policy needs (see its docstring). ``SystemInputs`` reads the real
machine: the platform module for input idle time, psutil for the rest.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from datetime import time as dtime
from types import ModuleType
from typing import Protocol

from forge_desktop import platform as forge_platform
from forge_desktop.collector import busy_and_total

log = logging.getLogger(__name__)

MODES = ("idle", "always", "never")

# Decision reasons: stable codes for logic and UI; the readable text is in Decision.detail.
PAUSED = "paused"
MODE_NEVER = "mode never"
OUTSIDE_HOURS = "outside hours"
ON_BATTERY = "on battery"
MODE_ALWAYS = "mode always"
USER_ACTIVE = "user active"
CPU_BUSY = "cpu busy"
SETTLING = "settling"
IDLE = "idle"


def parse_hours(text: str) -> tuple[dtime, dtime]:
    """``"22:00-07:00"`` -> (22:00, 07:00); a window may wrap past midnight."""
    start, sep, end = text.partition("-")
    try:
        if not sep:
            raise ValueError
        window = (dtime.fromisoformat(start.strip()), dtime.fromisoformat(end.strip()))
    except ValueError:
        raise ValueError(f"hours: expected a window like '22:00-07:00', got {text!r}") from None
    if window[0] == window[1]:
        raise ValueError(f"hours: start and end are both {start.strip()}; leave hours unset to allow any time")
    return window


@dataclass(frozen=True)
class IdlePolicy:
    """Settings of the idle policy; ``dataclasses.replace`` one to change it (e.g. to pause)."""

    mode: str = "idle"
    idle_after_s: float = 180.0
    max_other_cpu_percent: float = 25.0
    run_on_battery: bool = False
    hours: tuple[dtime, dtime] | None = None
    max_cores: int | None = None
    paused: bool = False

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode: must be one of {', '.join(MODES)}, got {self.mode!r}")
        if not self.idle_after_s >= 0:
            raise ValueError(f"idle_after_s: must be 0 or more seconds, got {self.idle_after_s!r}")
        if not 0 < self.max_other_cpu_percent <= 100:
            raise ValueError(
                f"max_other_cpu_percent: must be above 0 and at most 100, got {self.max_other_cpu_percent!r}")
        if self.max_cores is not None and (isinstance(self.max_cores, bool) or self.max_cores < 1):
            raise ValueError(f"max_cores: must be a whole number of cores, at least 1, got {self.max_cores!r}")
        if self.hours is not None:
            if len(self.hours) != 2 or not all(isinstance(t, dtime) for t in self.hours):
                raise ValueError(f"hours: must be a (start, end) pair of datetime.time, got {self.hours!r}")
            if self.hours[0] == self.hours[1]:
                raise ValueError("hours: start and end are equal; leave hours unset to allow any time")


class IdleInputs(Protocol):
    """What the policy needs to know about the machine; tests supply their own."""

    def user_idle_seconds(self) -> float | None:
        """Seconds since the last keyboard/mouse input; None where no input source exists."""

    def on_battery(self) -> bool | None:
        """True when running from a battery; None where there is no battery information."""

    def other_cpu_percent(self) -> float:
        """CPU use of every process but ours, in percent of the whole machine."""

    def logical_cores(self) -> int:
        """Logical CPUs of this machine."""


@dataclass(frozen=True)
class Decision:
    run: bool
    reason: str
    cores: int
    detail: str = ""


def usable_cores(policy: IdlePolicy, logical: int) -> int:
    """All cores but one (so the machine stays responsive), or ``max_cores`` when set."""
    logical = max(1, logical)
    if policy.max_cores is not None:
        return min(policy.max_cores, logical)
    return max(1, logical - 1)


def within_hours(hours: tuple[dtime, dtime], now: float) -> bool:
    """Is local time ``now`` inside [start, end)? A window with start > end wraps past midnight."""
    start, end = hours
    moment = datetime.fromtimestamp(now).time()
    if start < end:
        return start <= moment < end
    return moment >= start or moment < end


def _stop(reason: str, detail: str) -> Decision:
    return Decision(run=False, reason=reason, cores=0, detail=detail)


def decide(policy: IdlePolicy, inputs: IdleInputs, now: float) -> Decision:
    """Whether a job may run at ``now``. Checks run in override order: pause, mode, hours, battery, user, CPU."""
    if policy.paused:
        return _stop(PAUSED, "jobs are paused")
    if policy.mode == "never":
        return _stop(MODE_NEVER, "jobs are turned off on this machine")
    if policy.hours is not None and not within_hours(policy.hours, now):
        start, end = (t.strftime("%H:%M") for t in policy.hours)
        return _stop(OUTSIDE_HOURS, f"jobs run only between {start} and {end}")
    if not policy.run_on_battery and inputs.on_battery():
        return _stop(ON_BATTERY, "running on battery")
    cores = usable_cores(policy, inputs.logical_cores())
    if policy.mode == "always":
        return Decision(True, MODE_ALWAYS, cores, "jobs run whenever allowed")
    idle = inputs.user_idle_seconds()
    if idle is not None and idle < policy.idle_after_s:
        return _stop(USER_ACTIVE, f"last input {idle:.0f}s ago, waiting for {policy.idle_after_s:.0f}s")
    other = inputs.other_cpu_percent()
    if other >= policy.max_other_cpu_percent:
        return _stop(CPU_BUSY, f"other processes use {other:.0f}% CPU (limit {policy.max_other_cpu_percent:.0f}%)")
    source = "no input source" if idle is None else f"no input for {idle:.0f}s"
    return Decision(True, IDLE, cores, f"{source}, other processes use {other:.0f}% CPU")


class IdleGate:
    """``decide()`` with hysteresis, for the worker loop.

    Input idle time carries its own memory: once the user comes back it drops
    to 0, so a suspended job resumes only after ``idle_after_s`` of no input
    again. Busy CPU has none, and a reading hovering around the limit would
    start and stop the job every second; so after other processes were seen
    busy, the gate waits ``idle_after_s`` of calm CPU before running again.
    Time is passed in (``update(inputs, now)``), never read from a clock.
    """

    def __init__(self, policy: IdlePolicy) -> None:
        self.policy = policy
        self._busy_at: float | None = None

    def update(self, inputs: IdleInputs, now: float) -> Decision:
        decision = decide(self.policy, inputs, now)
        if decision.reason == CPU_BUSY:
            self._busy_at = now
            return decision
        if decision.reason == IDLE and self._busy_at is not None:
            calm = now - self._busy_at
            if 0 <= calm < self.policy.idle_after_s:
                return _stop(SETTLING, f"CPU calm for {calm:.0f}s, waiting for {self.policy.idle_after_s:.0f}s")
        return decision


class SystemInputs:
    """The real machine: input idle time from the platform module, the rest from psutil.

    Other processes' CPU is the machine's busy share minus our own process tree's
    (this process and its children, the solvers included), both measured between
    successive calls. Before a first interval exists the CPU counts as busy
    (100 %), so the policy never starts a job on no evidence.
    """

    def __init__(
        self,
        psutil_module: ModuleType | None = None,
        *,
        idle_source: Callable[[], float | None] = forge_platform.user_idle_seconds,
        root_pid: int | None = None,
    ) -> None:
        if psutil_module is None:
            import psutil as psutil_module
        self._ps = psutil_module
        self._idle_source = idle_source
        self._root_pid = os.getpid() if root_pid is None else root_pid
        self._previous = self._snapshot()
        self._last_other: float | None = None
        self.last_system_percent: float | None = None
        self.last_own_percent: float | None = None

    def user_idle_seconds(self) -> float | None:
        try:
            return self._idle_source()
        except Exception as exc:  # noqa: BLE001 - platform sources promise not to raise; be sure
            log.debug("input idle source failed: %r", exc)
            return None

    def on_battery(self) -> bool | None:
        sensors_battery = getattr(self._ps, "sensors_battery", None)
        try:
            battery = sensors_battery() if sensors_battery is not None else None
        except Exception as exc:  # noqa: BLE001
            log.debug("battery probe failed: %r", exc)
            return None
        if battery is None or battery.power_plugged is None:
            return None
        return not battery.power_plugged

    def logical_cores(self) -> int:
        return self._ps.cpu_count() or os.cpu_count() or 1

    def other_cpu_percent(self) -> float:
        busy, total, tree = current = self._snapshot()
        busy0, total0, tree0 = self._previous
        self._previous = current
        capacity = total - total0
        if capacity <= 0:
            return 100.0 if self._last_other is None else self._last_other
        own = sum(seconds - tree0.get(key, 0.0) for key, seconds in tree.items())
        self.last_system_percent = min(100.0, max(0.0, (busy - busy0) / capacity * 100.0))
        self.last_own_percent = min(100.0, max(0.0, own / capacity * 100.0))
        self._last_other = max(0.0, self.last_system_percent - self.last_own_percent)
        return self._last_other

    def _snapshot(self) -> tuple[float, float, dict[tuple[int, float], float]]:
        """System busy/total CPU seconds (all CPUs summed) and CPU seconds per process of our tree.

        Processes are keyed by (pid, create_time) so a reused pid is not mistaken for ours.
        """
        busy, total = 0.0, 0.0
        for times in self._ps.cpu_times(percpu=True):
            b, t = busy_and_total(times)
            busy += b
            total += t
        tree: dict[tuple[int, float], float] = {}
        try:
            root = self._ps.Process(self._root_pid)
            processes = [root, *root.children(recursive=True)]
        except self._ps.Error:
            return busy, total, tree
        for process in processes:
            try:
                with process.oneshot():
                    times = process.cpu_times()
                    tree[(process.pid, process.create_time())] = times.user + times.system
            except self._ps.Error:
                continue
        return busy, total, tree
