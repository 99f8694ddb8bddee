"""Top processes (sample schema 2 ``processes``): the 10 busiest by CPU and the 5 largest by memory.

One pass over the process table per read, one file per process: on Linux
``/proc/PID/stat`` alone (CPU seconds, start time, RSS and the short name are
all in it), read directly because psutil's ``process_iter`` with the same
attributes opens five files per process (``stat`` twice, ``statm``, and
``/proc/stat`` for the boot time): 12 ms against 2 ms for 98 processes on the
project's VM. Elsewhere psutil's ``process_iter`` with attributes (one
``oneshot()`` per process). The name, user and command line of the 15 or fewer
chosen processes are then read through a ``psutil.Process`` kept per process
and remembered while it lives, not read for every process on the machine.

CPU is in % of one core, as ``top`` shows it, over the interval since the
previous read: the probe keeps each process's CPU seconds, keyed by
``(pid, create_time)`` so a reused pid is a new process. A process born since
the previous read is measured over its own life (it had 0 CPU seconds when it
was created), so its first figure is neither 0 nor 100. The very first read
only records the counters and returns ``None`` (no interval yet).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from types import ModuleType
from typing import Any, NamedTuple

TOP_BY_CPU = 10
TOP_BY_MEMORY = 5
CMDLINE_MAX = 200
_SECRET_FLAGS = frozenset({"--token", "--password", "--passwd", "--secret", "--api-key", "--apikey",
                           "--access-token", "--auth-token", "--admin-secret"})
_SECRET_WORDS = ("token", "secret", "password", "passwd", "apikey", "api_key", "api-key")
REDACTED = "<redacted>"
_ATTRS = ["name", "cpu_times", "memory_info", "create_time"]


class ProcessRow(NamedTuple):
    pid: int
    name: str
    cpu_s: float
    rss: int
    created: float


def linux_process_table(boot_time: float, proc_root: str = "/proc") -> list[ProcessRow]:
    """Every process from ``/proc/PID/stat``; one that exits mid-scan is skipped."""
    ticks = os.sysconf("SC_CLK_TCK")
    page = os.sysconf("SC_PAGE_SIZE")
    rows = []
    for entry in os.listdir(proc_root):
        if not entry.isdigit():
            continue
        try:
            with open(f"{proc_root}/{entry}/stat", "rb") as f:
                data = f.read()
        except OSError:
            continue
        close = data.rfind(b")")
        fields = data[close + 2:].split()
        if len(fields) < 22:
            continue
        rows.append(ProcessRow(
            pid=int(entry), name=data[data.find(b"(") + 1:close].decode(errors="replace"),
            cpu_s=(int(fields[11]) + int(fields[12])) / ticks, rss=int(fields[21]) * page,
            created=round(boot_time + int(fields[19]) / ticks, 2),
        ))
    return rows


def linux_details(pid: int, short_name: str, user_of: Callable[[int], str | None],
                  proc_root: str = "/proc") -> tuple[str, str | None, list[str]] | None:
    """(full name, user, arguments) from ``/proc/PID/status`` and ``cmdline``; ``None`` if it is gone.

    The name as psutil gives it: ``comm`` is cut at 15 characters, so a name that long is
    taken from the executable in the command line when that starts with it.
    """
    try:
        with open(f"{proc_root}/{pid}/cmdline", "rb") as f:
            raw = f.read()
        with open(f"{proc_root}/{pid}/status", "rb") as f:
            status = f.read()
    except OSError:
        return None
    args = [a.decode(errors="replace") for a in raw.rstrip(b"\0").split(b"\0")] if raw else []
    user = None
    start = status.find(b"\nUid:")
    if start >= 0:
        fields = status[start + 5:status.find(b"\n", start + 5)].split()
        user = user_of(int(fields[0])) if fields else None
    name = short_name
    if len(short_name) >= 15 and args:
        extended = os.path.basename(args[0])
        if extended.startswith(short_name):
            name = extended
    return name, user, args


def psutil_process_table(ps: ModuleType) -> list[ProcessRow]:
    rows = []
    for proc in ps.process_iter(_ATTRS, ad_value=None):
        info = proc.info
        times, memory, created = info.get("cpu_times"), info.get("memory_info"), info.get("create_time")
        if times is None or created is None:
            continue
        rows.append(ProcessRow(proc.pid, info.get("name") or "", times.user + times.system,
                               memory.rss if memory is not None else 0, created))
    return rows


def on_linux_proc(ps: ModuleType) -> bool:
    return ps.__name__ == "psutil" and Path("/proc/self/stat").exists()


def default_table(ps: ModuleType) -> Callable[[], Iterable[ProcessRow]]:
    if on_linux_proc(ps):
        boot_time = float(ps.boot_time())
        return lambda: linux_process_table(boot_time)
    return lambda: psutil_process_table(ps)


def redact(args: list[str]) -> list[str]:
    """The arguments with secret-looking values replaced: ``--token X``, ``--token=X``, ``API_KEY=X``.

    Command lines go to the hub and every dashboard; Forge's own agent is started
    with ``--token``, and so are many other tools.
    """
    out: list[str] = []
    hide_next = False
    for arg in args:
        if hide_next:
            out.append(REDACTED)
            hide_next = False
            continue
        key, eq, _ = arg.partition("=")
        if key.lower() in _SECRET_FLAGS:
            hide_next = not eq
            out.append(f"{key}={REDACTED}" if eq else arg)
        elif eq and any(word in key.lower() for word in _SECRET_WORDS):
            out.append(f"{key}={REDACTED}")
        else:
            out.append(arg)
    return out


class TopProcesses:
    """The ``processes`` probe; ``read(now)`` every ``interval_s`` seconds of sample time, every
    ``watched_interval_s`` while someone watches the node live (about 3 ms a read)."""

    name = "processes"
    path = ("processes",)
    interval_s = 5.0
    watched_interval_s = 1.0

    def __init__(self, ps: ModuleType, *, table: Callable[[], Iterable[ProcessRow]] | None = None,
                 top_cpu: int = TOP_BY_CPU, top_memory: int = TOP_BY_MEMORY) -> None:
        self._ps = ps
        self._table = table or default_table(ps)
        self._details: dict[tuple[int, float], tuple[str, str | None, str | None]] = {}
        self._linux = table is None and on_linux_proc(ps)
        self._users: dict[int, str | None] = {}
        self._top_cpu = top_cpu
        self._top_memory = top_memory
        self._previous: dict[tuple[int, float], float] = {}
        self._previous_at: float | None = None

    def read(self, now: float) -> list[dict[str, Any]] | None:
        previous, previous_at = self._previous, self._previous_at
        current: dict[tuple[int, float], float] = {}
        rows: list[tuple[ProcessRow, float | None]] = []
        for row in self._table():
            key = (row.pid, row.created)
            current[key] = row.cpu_s
            rows.append((row, self._cpu_percent(key, row.cpu_s, row.created, now, previous, previous_at)))
        self._previous, self._previous_at = current, now
        self._details = {k: v for k, v in self._details.items() if k in current}
        if previous_at is None or now <= previous_at:
            return None
        return [self._describe(row, cpu) for row, cpu in self._choose(rows)]

    @staticmethod
    def _cpu_percent(key: tuple[int, float], cpu_s: float, created: float, now: float,
                     previous: dict[tuple[int, float], float], previous_at: float | None) -> float | None:
        if previous_at is None:
            return None
        was = previous.get(key)
        since = previous_at
        if was is None:
            if created < previous_at - 1.0:
                return None  # alive at the previous read but not seen then (a race): no interval
            was, since = 0.0, created  # born since (or during) the previous scan: its whole life
        elapsed = now - since
        if elapsed <= 0.05:
            return None  # too young to measure: clock ticks are 10 ms
        return round(max(0.0, cpu_s - was) / elapsed * 100.0, 1)

    def _choose(self, rows: list[tuple[ProcessRow, float | None]]) -> list[tuple[ProcessRow, float | None]]:
        by_cpu = sorted((r for r in rows if r[1] is not None), key=lambda r: r[1], reverse=True)[: self._top_cpu]
        by_memory = sorted(rows, key=lambda r: r[0].rss, reverse=True)[: self._top_memory]
        chosen: dict[int, tuple[ProcessRow, float | None]] = {}
        for row in (*by_cpu, *by_memory):
            chosen.setdefault(row[0].pid, row)
        return list(chosen.values())

    def _describe(self, row: ProcessRow, cpu: float | None) -> dict[str, Any]:
        key = (row.pid, row.created)
        details = self._details.get(key)
        if details is None:
            details = self._details[key] = self._read_details(row)
        name, user, cmdline = details
        return {"pid": row.pid, "name": name, "user": user, "cpu_percent": cpu, "rss": row.rss, "cmdline": cmdline}

    def _user_of(self, uid: int) -> str | None:
        if uid not in self._users:
            import pwd
            try:
                self._users[uid] = pwd.getpwuid(uid).pw_name
            except KeyError:
                self._users[uid] = str(uid)  # as psutil: a uid without a passwd entry
        return self._users[uid]

    def _read_details(self, row: ProcessRow) -> tuple[str, str | None, str | None]:
        """Full name (Linux's ``stat`` cuts it at 15 characters), user and command line."""
        if self._linux:
            details = linux_details(row.pid, row.name, self._user_of)
            if details is None:
                return row.name, None, None
            name, user, args = details
            return name, user, " ".join(redact(args))[:CMDLINE_MAX] if args else None
        gone = (self._ps.NoSuchProcess, self._ps.AccessDenied, self._ps.ZombieProcess)
        name, user, cmdline = row.name, None, None
        try:
            proc = self._ps.Process(row.pid)
            with proc.oneshot():
                try:
                    user = proc.username()
                except (*gone, KeyError):  # KeyError: a uid without a passwd entry
                    user = None
                name = proc.name() or row.name
                args = proc.cmdline()
        except gone:
            return name, user, None
        if args:
            cmdline = " ".join(redact(args))[:CMDLINE_MAX]
        return name, user, cmdline
