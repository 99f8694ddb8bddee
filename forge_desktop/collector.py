"""Machine metrics: the sample of docs/SAMPLES.md, one per ``sample()`` call.

Schema 1 is the fixed part below; schema 2 adds the sections of the extra
probes (``Probe``: top processes, GPUs, per-disk and per-interface rates, fans,
containers; forge_desktop/platform/). ``Collector()`` on this machine has them
all and stamps its samples ``schema_version`` 2; a collector given no extra
probes (``probes=()``, a replayed psutil without ``probes=``, or
``FORGE_SAMPLE_SCHEMA=1`` in the environment) stays schema 1.

One probe per metric family (cpu, cpu_freq, cpu_temp, memory, swap, disk_io,
disk_usage, net, load, uptime, battery). A probe that raises is disabled and
logged once; its part of the sample is ``null`` from then on and the others go on.
A missing source is ``null``, never ``0``.

Nothing here blocks: CPU use and I/O rates are deltas between successive calls
(CPU is primed at construction, so the first sample has CPU figures; the first
sample's disk and network rates are ``null``). CPU use is computed from
``cpu_times(percpu=True)`` deltas the collector keeps itself rather than with
``psutil.cpu_percent(interval=None)``: psutil keeps that state per calling
thread and shares it with every other caller in the process, so a collector
primed on one thread and sampled on another (or a second caller such as the
idle policy) would read meaningless figures. One ``cpu_times`` read also gives
both the total and the per-core figures.

The psutil module is a constructor argument so that recorded outputs of other
operating systems (tests/fixtures/platform/) can be replayed on any machine.
"""

from __future__ import annotations

import logging
import os
import platform as stdlib_platform
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Protocol, TypeVar

import forge_desktop
from forge_desktop import platform as forge_platform

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
SCHEMA_VERSION_EXTENDED = 2
INTERVAL_SLACK_S = 0.5

PSEUDO_FSTYPES = frozenset({
    "autofs", "binfmt_misc", "bpf", "cgroup", "cgroup2", "configfs", "debugfs", "devfs",
    "devpts", "devtmpfs", "efivarfs", "fuse.gvfsd-fuse", "fuse.portal", "fusectl",
    "hugetlbfs", "mqueue", "nsfs", "nullfs", "overlay", "proc", "pstore", "ramfs",
    "rpc_pipefs", "securityfs", "squashfs", "sysfs", "tmpfs", "tracefs", "iso9660",
    "udf", "nfsd",
})
SKIPPED_MOUNT_PREFIXES = (
    "/snap/", "/var/snap/", "/var/lib/docker/", "/var/lib/containers/",
    "/System/Volumes/", "/private/var/vm",
)
SKIPPED_DEVICE_PREFIXES = ("/dev/loop",)
PARTITIONS_TTL_S = 60.0

T = TypeVar("T")


@dataclass(frozen=True)
class HostInfo:
    """What the OS says about itself; a dataclass so tests can describe another OS."""

    hostname: str
    system: str
    release: str
    version: str
    machine: str
    mac_release: str = ""

    @classmethod
    def current(cls) -> HostInfo:
        uname = stdlib_platform.uname()
        mac_release = stdlib_platform.mac_ver()[0] if uname.system == "Darwin" else ""
        return cls(
            hostname=socket.gethostname() or uname.node,
            system=uname.system,
            release=uname.release,
            version=uname.version,
            machine=uname.machine,
            mac_release=mac_release,
        )

    @property
    def os_version(self) -> str:
        """The version a person recognises: kernel release on Linux, 10.0.22631 on Windows, 14.1 on macOS."""
        if self.system == "Windows":
            return self.version or self.release
        if self.system == "Darwin":
            return self.mac_release or self.release
        return self.release


def busy_and_total(times: Any) -> tuple[float, float]:
    """Busy and total seconds of a ``cpu_times`` tuple, as psutil counts them.

    Linux counts guest time inside user/nice, so it is taken out of the total;
    iowait is time the CPU did nothing, so it is not busy.
    """
    total = sum(times) - getattr(times, "guest", 0.0) - getattr(times, "guest_nice", 0.0)
    busy = total - times.idle - getattr(times, "iowait", 0.0)
    return busy, total


def _percent(busy: float, total: float) -> float | None:
    if total <= 0:
        return None
    return round(min(100.0, max(0.0, busy / total * 100.0)), 1)


def _positive(value: float | None) -> float | None:
    if value is None or value <= 0:
        return None
    return round(float(value), 1)


class RateMeter:
    """Per-second rates of monotonically growing counters.

    The first update has no previous counter, so its rates are ``None``; so is
    any rate whose counter went backwards (an interface or disk vanished, a
    counter reset) or when time did not advance.
    """

    def __init__(self) -> None:
        self._previous: tuple[float, Sequence[float]] | None = None

    def update(self, now: float, counters: Sequence[float]) -> list[float | None]:
        previous, self._previous = self._previous, (now, tuple(counters))
        if previous is None:
            return [None] * len(counters)
        then, old = previous
        elapsed = now - then
        if elapsed <= 0 or len(old) != len(counters):
            return [None] * len(counters)
        return [
            round((new - was) / elapsed, 1) if new >= was else None
            for was, new in zip(old, counters)
        ]

    def reset(self) -> None:
        self._previous = None


MIN_CPU_WINDOW_S = 0.1  # per core: below this, CPU times (10 ms ticks) give no meaningful figure


class CpuMeter:
    """CPU use in percent, total and per logical core, from ``cpu_times`` deltas."""

    def __init__(self, ps: ModuleType) -> None:
        self._ps = ps
        self._previous = self._read()

    def _read(self) -> list[tuple[float, float]]:
        return [busy_and_total(times) for times in self._ps.cpu_times(percpu=True)]

    def measure(self) -> tuple[float | None, list[float | None] | None]:
        current = self._read()
        previous, self._previous = self._previous, current
        if len(previous) != len(current):
            return None, None
        deltas = [(b1 - b0, t1 - t0) for (b0, t0), (b1, t1) in zip(previous, current)]
        if sum(d[1] for d in deltas) < MIN_CPU_WINDOW_S * max(1, len(deltas)):
            # Too little time since the last read (the agent's first sample right after priming)
            # to say anything: null, not a misleading 0 %. Keep the older read for the next call.
            self._previous = previous
            return None, None
        per_core = [_percent(busy, total) for busy, total in deltas]
        total = _percent(sum(d[0] for d in deltas), sum(d[1] for d in deltas))
        if total is None:
            return None, None
        return total, per_core


def per_core_frequencies(freqs: Sequence[Any] | None, logical: int) -> list[float | None] | None:
    """Per-core MHz; an OS that reports one frequency for the package gets it on every core."""
    if not freqs:
        return None
    values = [_positive(getattr(f, "current", None)) for f in freqs]
    if len(values) == 1 and logical > 1:
        values = values * logical
    if len(values) != logical or all(v is None for v in values):
        return None
    return values


_PACKAGE_LABEL_PREFIXES = ("Package id ", "Physical id ")
_PACKAGE_ONLY_CHIPS = (
    ("k10temp", ("Tdie", "Tctl")),
    ("zenpower", ("Tdie", "Tctl")),
    ("cpu_thermal", ()),
    ("cpu-thermal", ()),
    ("soc_thermal", ()),
)


def _label_number(label: str, prefix: str) -> int | None:
    rest = label[len(prefix):].strip()
    return int(rest) if label.startswith(prefix) and rest.isdigit() else None


def cpu_temperatures(
    sensors: dict[str, Sequence[Any]],
    logical: int,
    topology: Sequence[tuple[int, int]] | None,
) -> tuple[list[float | None] | None, float | None]:
    """(per logical CPU °C, package °C) from ``psutil.sensors_temperatures()``.

    Intel's coretemp labels sensors "Package id P" and "Core N", N being the
    physical core id inside package P; ``topology`` maps each logical CPU to its
    (package, core) so hyper-threads share their core's reading. Without a
    topology, logical CPUs are assumed to be numbered core-first, as Linux does.
    AMD (k10temp, zenpower) and ARM SoCs expose one die temperature only.
    """
    core_temps: dict[tuple[int, int], float | None] = {}
    package_temps: list[float] = []
    package = 0
    for entry in sensors.get("coretemp", ()):
        label = getattr(entry, "label", "") or ""
        current = _positive(getattr(entry, "current", None))
        for prefix in _PACKAGE_LABEL_PREFIXES:
            number = _label_number(label, prefix)
            if number is not None:
                package = number
                if current is not None:
                    package_temps.append(current)
        core = _label_number(label, "Core ")
        if core is not None:
            core_temps[(package, core)] = current

    per_cpu: list[float | None] | None = None
    if core_temps:
        if topology is not None and len(topology) == logical:
            per_cpu = [core_temps.get(tuple(pc)) for pc in topology]
        else:
            ordered = [core_temps[key] for key in sorted(core_temps)]
            if logical % len(ordered) == 0:
                per_cpu = [ordered[i % len(ordered)] for i in range(logical)]
        if per_cpu is not None and all(v is None for v in per_cpu):
            per_cpu = None

    package_temp = max(package_temps) if package_temps else None
    if package_temp is None:
        package_temp = _package_only_temperature(sensors)
    return per_cpu, package_temp


def _package_only_temperature(sensors: dict[str, Sequence[Any]]) -> float | None:
    for chip, preferred in _PACKAGE_ONLY_CHIPS:
        entries = sensors.get(chip)
        if not entries:
            continue
        by_label = {getattr(e, "label", ""): _positive(getattr(e, "current", None)) for e in entries}
        for label in preferred:
            if by_label.get(label) is not None:
                return by_label[label]
        for entry in entries:
            value = _positive(getattr(entry, "current", None))
            if value is not None:
                return value
    return None


def is_real_mount(partition: Any) -> bool:
    fstype = (getattr(partition, "fstype", "") or "").lower()
    mount = getattr(partition, "mountpoint", "") or ""
    device = getattr(partition, "device", "") or ""
    opts = getattr(partition, "opts", "") or ""
    if not fstype or fstype in PSEUDO_FSTYPES or "cdrom" in opts.split(","):
        return False
    if mount.startswith(SKIPPED_MOUNT_PREFIXES) or device.startswith(SKIPPED_DEVICE_PREFIXES):
        return False
    return True


def real_mounts(partitions: Sequence[Any]) -> list[Any]:
    """Real filesystems, one per device (bind mounts and btrfs subvolumes repeat a device)."""
    by_device: dict[str, Any] = {}
    for partition in partitions:
        if not is_real_mount(partition):
            continue
        key = partition.device or partition.mountpoint
        kept = by_device.get(key)
        if kept is None or len(partition.mountpoint) < len(kept.mountpoint):
            by_device[key] = partition
    return sorted(by_device.values(), key=lambda p: p.mountpoint)


def is_loopback_nic(name: str) -> bool:
    lowered = name.lower()
    return lowered in ("lo", "lo0") or "loopback" in lowered


class Probe(Protocol):
    """A schema 2 section: ``read(now)`` puts its answer at ``path`` in the sample, ``None`` leaves it out.

    Read on every sample when ``interval_s`` is 0, else when at least
    ``interval_s`` (less half a second of sampler jitter) of sample time has
    passed since its last read; a probe may name a shorter ``watched_interval_s``
    for while someone watches the node live (``Collector.watched``). A probe that
    raises is disabled like the others.
    """

    name: str
    path: tuple[str, ...]
    interval_s: float

    def read(self, now: float) -> Any: ...


def default_probes(ps: ModuleType) -> list[Probe]:
    """The schema 2 probes of this machine; GPU backends are looked for once, here."""
    from forge_desktop.platform.containers import Containers
    from forge_desktop.platform.devices import DiskDevices, Fans, NetInterfaces
    from forge_desktop.platform.gpus import detect_gpus
    from forge_desktop.platform.processes import TopProcesses

    probes: list[Probe] = [TopProcesses(ps), DiskDevices(ps), NetInterfaces(ps), Fans(ps)]
    try:
        gpus = detect_gpus()
    except Exception as exc:  # noqa: BLE001 - a broken driver must not stop the agent
        log.warning("GPU probe disabled after error: %r", exc, exc_info=True)
    else:
        if gpus:
            probes.append(gpus)
    probes.append(Containers())
    return probes


def _place(sample: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    where = sample
    for key in path[:-1]:
        if not isinstance(where.get(key), dict):
            where[key] = {}
        where = where[key]
    where[path[-1]] = value


class Collector:
    """Samples this machine; cheap enough to call every second (see bench/collector_bench.py).

    Keeps counter state between calls, so one collector belongs to one sampling
    thread; ``identity()`` may be called from anywhere.
    """

    def __init__(
        self,
        psutil_module: ModuleType | None = None,
        *,
        topology: Sequence[tuple[int, int]] | None | Callable[[], Any] = forge_platform.cpu_topology,
        host: HostInfo | None = None,
        probes: Sequence[Probe] | None = None,
    ) -> None:
        injected = psutil_module is not None
        if psutil_module is None:
            import psutil as psutil_module
        self._ps = psutil_module
        self._host = host
        self._disabled: set[str] = set()
        self._logical = self._guard("cpu_count", lambda: self._ps.cpu_count()) or 0
        self._topology = self._guard("topology", topology) if callable(topology) else topology
        self._cpu = self._guard("cpu", lambda: CpuMeter(self._ps))
        self._disk_rate = RateMeter()
        self._net_rate = RateMeter()
        self._partitions: list[Any] = []
        self._partitions_read_at: float | None = None
        self._boot_time: float | None = None
        if probes is None:
            schema_1_only = injected or os.environ.get("FORGE_SAMPLE_SCHEMA", "").strip() == "1"
            probes = [] if schema_1_only else default_probes(self._ps)
        self._probes = list(probes)
        self._probe_read_at: dict[str, float] = {}
        self.watched = False
        """Someone follows this node live (the hub said so on a push): probes with a
        ``watched_interval_s`` read that often, so a watched process table moves every second."""

    @property
    def disabled(self) -> frozenset[str]:
        """Names of the probes switched off after they raised."""
        return frozenset(self._disabled)

    def _guard(self, name: str, probe: Callable[[], T]) -> T | None:
        if name in self._disabled:
            return None
        try:
            return probe()
        except Exception as exc:  # noqa: BLE001 - a probe must never take the agent down
            self._disabled.add(name)
            log.warning("metrics probe %r disabled after error: %r", name, exc, exc_info=True)
            return None

    def identity(self) -> dict[str, Any]:
        host = self._host or HostInfo.current()
        cores = self._guard("cpu_count", lambda: self._ps.cpu_count()) or os.cpu_count()
        physical = self._guard("cpu_count_physical", lambda: self._ps.cpu_count(logical=False))
        return {
            "hostname": host.hostname,
            "os": host.system,
            "os_version": host.os_version,
            "arch": host.machine,
            "cores": cores,
            "physical_cores": physical,
            "agent_version": forge_desktop.__version__,
        }

    def sample(self, now: float | None = None) -> dict[str, Any]:
        """One sample stamped ``now`` (Unix seconds); rates are per second of ``now`` between calls."""
        ts = time.time() if now is None else float(now)
        percent, per_core = self._guard("cpu", self._measure_cpu) or (None, None)
        temps, package_temp = self._guard("cpu_temp", self._temperatures) or (None, None)
        sample = {
            "schema_version": SCHEMA_VERSION_EXTENDED if self._probes else SCHEMA_VERSION,
            "ts": ts,
            "cpu": {
                "percent": percent,
                "per_core": per_core,
                "freq_mhz": self._guard("cpu_freq", self._frequencies),
                "temp_c": temps,
                "package_temp_c": package_temp,
            },
            "memory": self._guard("memory", self._memory),
            "swap": self._guard("swap", self._swap),
            "disk": self._disk(ts),
            "net": self._guard("net", lambda: self._net(ts)) or {"rx_bps": None, "tx_bps": None},
            "load": self._guard("load", self._load),
            "uptime_s": self._guard("uptime", lambda: self._uptime(ts)),
            "battery": self._guard("battery", self._battery),
        }
        for probe in self._probes:
            self._read_probe(probe, ts, sample)
        return sample

    def _read_probe(self, probe: Probe, now: float, sample: dict[str, Any]) -> None:
        last = self._probe_read_at.get(probe.name)
        interval = probe.interval_s
        if self.watched:
            interval = getattr(probe, "watched_interval_s", interval)
        if interval > 0 and last is not None and 0 <= now - last < interval - INTERVAL_SLACK_S:
            return
        self._probe_read_at[probe.name] = now
        value = self._guard(probe.name, lambda: probe.read(now))
        if value is not None:
            _place(sample, probe.path, value)

    def close(self) -> None:
        """Stop the probes' own threads (the container engine poller)."""
        for probe in self._probes:
            close = getattr(probe, "close", None)
            if close is not None:
                close()

    def _measure_cpu(self) -> tuple[float | None, list[float | None] | None]:
        if self._cpu is None:
            return None, None
        return self._cpu.measure()

    def _frequencies(self) -> list[float | None] | None:
        cpu_freq = getattr(self._ps, "cpu_freq", None)
        if cpu_freq is None:
            return None
        freqs = cpu_freq(percpu=True)
        if freqs is not None and not isinstance(freqs, list):
            freqs = [freqs]
        return per_core_frequencies(freqs, self._logical)

    def _temperatures(self) -> tuple[list[float | None] | None, float | None]:
        sensors_temperatures = getattr(self._ps, "sensors_temperatures", None)
        if sensors_temperatures is None:
            return None, None
        return cpu_temperatures(sensors_temperatures(), self._logical, self._topology)

    def _memory(self) -> dict[str, Any]:
        vm = self._ps.virtual_memory()
        return {"total": vm.total, "used": vm.used, "available": vm.available,
                "percent": round(float(vm.percent), 1)}

    def _swap(self) -> dict[str, Any]:
        sw = self._ps.swap_memory()
        return {"total": sw.total, "used": sw.used, "percent": round(float(sw.percent), 1)}

    def _disk(self, now: float) -> dict[str, Any]:
        read_bps, write_bps = self._guard("disk_io", lambda: self._disk_io(now)) or (None, None)
        return {
            "read_bps": read_bps,
            "write_bps": write_bps,
            "mounts": self._guard("disk_usage", lambda: self._mount_usage(now)),
        }

    def _disk_io(self, now: float) -> tuple[float | None, float | None]:
        counters = self._ps.disk_io_counters(nowrap=True)
        if counters is None:
            self._disk_rate.reset()
            return None, None
        read_bps, write_bps = self._disk_rate.update(now, (counters.read_bytes, counters.write_bytes))
        return read_bps, write_bps

    def _mount_usage(self, now: float) -> list[dict[str, Any]]:
        stale = self._partitions_read_at is None or not 0 <= now - self._partitions_read_at < PARTITIONS_TTL_S
        if stale:
            self._partitions = real_mounts(self._ps.disk_partitions(all=False))
            self._partitions_read_at = now
        mounts = []
        for partition in self._partitions:
            try:
                usage = self._ps.disk_usage(partition.mountpoint)
            except OSError:
                continue  # an empty card reader or a vanished mount: skip it, keep the others
            mounts.append({
                "mount": partition.mountpoint, "fstype": partition.fstype,
                "total": usage.total, "used": usage.used, "free": usage.free,
                "percent": round(float(usage.percent), 1),
            })
        return mounts

    def _net(self, now: float) -> dict[str, float | None]:
        per_nic = self._ps.net_io_counters(pernic=True, nowrap=True)
        nics = [c for name, c in per_nic.items() if not is_loopback_nic(name)]
        rx = sum(c.bytes_recv for c in nics)
        tx = sum(c.bytes_sent for c in nics)
        rx_bps, tx_bps = self._net_rate.update(now, (rx, tx))
        return {"rx_bps": rx_bps, "tx_bps": tx_bps}

    def _load(self) -> list[float] | None:
        getloadavg = getattr(self._ps, "getloadavg", None)
        if getloadavg is None:
            return None
        return [round(float(v), 2) for v in getloadavg()]

    def _uptime(self, now: float) -> float | None:
        if self._boot_time is None:
            self._boot_time = float(self._ps.boot_time())
        uptime = now - self._boot_time
        return round(uptime, 1) if uptime >= 0 else None

    def _battery(self) -> dict[str, Any] | None:
        sensors_battery = getattr(self._ps, "sensors_battery", None)
        battery = sensors_battery() if sensors_battery is not None else None
        if battery is None:
            return None
        secs_left = battery.secsleft
        unknown = {getattr(self._ps, "POWER_TIME_UNLIMITED", -2), getattr(self._ps, "POWER_TIME_UNKNOWN", -1)}
        if secs_left is None or secs_left in unknown or secs_left < 0:
            secs_left = None
        plugged = battery.power_plugged
        return {
            "percent": round(float(battery.percent), 1),
            "plugged": None if plugged is None else bool(plugged),
            "secs_left": secs_left,
        }
