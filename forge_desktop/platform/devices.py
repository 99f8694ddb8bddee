"""Per-disk and per-interface rates and fan speeds (sample schema 2 ``disk.devices``,
``net.interfaces``, ``sensors.fans_rpm``), from psutil.

Whole physical disks only: partitions (``sda1``, ``nvme0n1p2``, ``mmcblk0p1``,
``disk0s1``), loop, RAM and zram devices, device-mapper volumes (``dm-N``: LVM,
LUKS; their I/O is already on the disk under them), optical and floppy drives
are left out. Interfaces: loopback and virtual bridges and links (Docker,
libvirt, veth pairs, CNI plugins, Hyper-V's vEthernet, macOS's bridge/awdl/llw)
are left out, as they carry no traffic of their own. VPN tunnels (``tun``,
``wg``) stay: they are what a person looks for.
"""

from __future__ import annotations

import re
from types import ModuleType
from typing import Any

_PARTITION = re.compile(
    r"^(?:(?:sd|hd|vd|xvd)[a-z]+\d+|(?:nvme\d+n\d+|mmcblk\d+|nbd\d+|md\d+)p\d+|disk\d+s\d+)$")
LINK_STATS_TTL_S = 10.0
_SKIPPED_DISK_PREFIXES = ("loop", "ram", "zram", "dm-", "sr", "fd")
_SKIPPED_NIC_PREFIXES = (
    "docker", "br-", "veth", "virbr", "vnet", "cni", "flannel", "cali", "vxlan", "lxcbr", "lxc",
    "podman", "vmnet", "vboxnet", "ifb", "tunl0", "sit0", "gre0", "gretap0", "erspan0", "ip6tnl0",
    "vEthernet", "bridge", "awdl", "llw", "gif", "stf", "anpi", "ap1", "kube-", "cilium",
)


def is_physical_disk(name: str) -> bool:
    return not name.startswith(_SKIPPED_DISK_PREFIXES) and not _PARTITION.match(name)


def is_physical_nic(name: str) -> bool:
    lowered = name.lower()
    if lowered in ("lo", "lo0") or "loopback" in lowered:
        return False
    return not name.startswith(_SKIPPED_NIC_PREFIXES)


class _DeltaMeter:
    """Per-key per-second rates; a new key, a counter going backwards or no elapsed time give ``None``."""

    def __init__(self) -> None:
        self._previous: dict[str, tuple[float, tuple[float, ...]]] = {}

    def update(self, now: float, readings: dict[str, tuple[float | None, ...]]) -> dict[str, list[float | None]]:
        previous, self._previous = self._previous, {}
        rates: dict[str, list[float | None]] = {}
        for key, counters in readings.items():
            self._previous[key] = (now, counters)
            was = previous.get(key)
            if was is None or now <= was[0]:
                rates[key] = [None] * len(counters)
                continue
            elapsed = now - was[0]
            rates[key] = [
                None if new is None or old is None or new < old else (new - old) / elapsed
                for old, new in zip(was[1], counters)
            ]
        return rates


class DiskDevices:
    """``disk.devices``: read and write bytes/s and busy % per whole disk."""

    name = "disk_devices"
    path = ("disk", "devices")
    interval_s = 0.0

    def __init__(self, ps: ModuleType) -> None:
        self._ps = ps
        self._meter = _DeltaMeter()

    def read(self, now: float) -> list[dict[str, Any]] | None:
        counters = self._ps.disk_io_counters(perdisk=True, nowrap=True)
        if not counters:
            return None
        readings = {
            name: (c.read_bytes, c.write_bytes, getattr(c, "busy_time", None))
            for name, c in counters.items() if is_physical_disk(name)
        }
        if not readings:
            return None
        out = []
        for name, (read_bps, write_bps, busy_ms) in sorted(self._meter.update(now, readings).items()):
            busy = None if busy_ms is None else round(min(100.0, busy_ms / 10.0), 1)  # ms per s → %
            out.append({"name": name, "read_bps": _round(read_bps), "write_bps": _round(write_bps),
                        "busy_percent": busy})
        return out


class NetInterfaces:
    """``net.interfaces``: received and sent bytes/s and link state per physical interface."""

    name = "net_interfaces"
    path = ("net", "interfaces")
    interval_s = 0.0

    def __init__(self, ps: ModuleType) -> None:
        self._ps = ps
        self._meter = _DeltaMeter()
        self._stats: dict[str, Any] = {}
        self._stats_read_at: float | None = None

    def _link_stats(self, now: float) -> dict[str, Any]:
        """``net_if_stats`` (an ioctl per interface, most of this probe's cost) every 10 s."""
        stale = self._stats_read_at is None or not 0 <= now - self._stats_read_at < LINK_STATS_TTL_S
        stats_of = getattr(self._ps, "net_if_stats", None)
        if stale and stats_of is not None:
            self._stats, self._stats_read_at = stats_of(), now
        return self._stats

    def read(self, now: float) -> list[dict[str, Any]] | None:
        counters = self._ps.net_io_counters(pernic=True, nowrap=True)
        stats = self._link_stats(now)
        if any(name not in stats for name in counters) and self._stats_read_at != now:
            self._stats_read_at = None  # an interface appeared: read its link state now
            stats = self._link_stats(now)
        readings = {name: (c.bytes_recv, c.bytes_sent) for name, c in counters.items() if is_physical_nic(name)}
        if not readings:
            return None
        out = []
        for name, (rx, tx) in sorted(self._meter.update(now, readings).items()):
            st = stats.get(name)
            out.append({"name": name, "rx_bps": _round(rx), "tx_bps": _round(tx),
                        "up": None if st is None else bool(st.isup)})
        return out


class Fans:
    """``sensors.fans_rpm``: ``{"chip/label": rpm}`` where psutil reads fans (Linux, FreeBSD).

    A mapping keyed by the fan's name (DESIGN.md names the field, not its shape;
    forge_contracts accepts a list of numbers or a name → number mapping, and a
    name keeps each fan's history apart when fans come and go).
    """

    name = "fans"
    path = ("sensors", "fans_rpm")
    interval_s = 0.0

    def __init__(self, ps: ModuleType) -> None:
        self._ps = ps

    def read(self, now: float) -> dict[str, int] | None:
        sensors_fans = getattr(self._ps, "sensors_fans", None)
        chips = sensors_fans() if sensors_fans is not None else None
        out: dict[str, int] = {}
        for chip, entries in sorted((chips or {}).items()):
            for i, entry in enumerate(entries):
                label = getattr(entry, "label", "") or f"fan{i + 1}"
                out[f"{chip}/{label}"] = int(entry.current)
        return out or None


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
