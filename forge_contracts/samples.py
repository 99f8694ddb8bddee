"""Metric samples, schema 1 and schema 2 (docs/SAMPLES.md).

The Structs type the fields the hub reads or the dashboard draws. They are lenient on
purpose: every field is optional, numbers may arrive as numeric strings, and fields
they do not name (from a newer agent) are ignored here and kept by the hub as sent.
"""
from __future__ import annotations

import msgspec

Number = float | None
Count = int | None


class _Part(msgspec.Struct, omit_defaults=True):
    pass


class Cpu(_Part):
    percent: Number = None
    per_core: list[Number] | None = None
    freq_mhz: list[Number] | None = None
    temp_c: list[Number] | None = None
    package_temp_c: Number = None


class Memory(_Part):
    total: Number = None
    used: Number = None
    available: Number = None
    percent: Number = None


class Swap(_Part):
    total: Number = None
    used: Number = None
    percent: Number = None


class Mount(_Part):
    mount: str | None = None
    fstype: str | None = None
    total: Number = None
    used: Number = None
    free: Number = None
    percent: Number = None


class DiskDevice(_Part):
    name: str | None = None
    read_bps: Number = None
    write_bps: Number = None
    busy_percent: Number = None


class Disk(_Part):
    read_bps: Number = None
    write_bps: Number = None
    mounts: list[Mount] | None = None
    devices: list[DiskDevice] | None = None


class NetInterface(_Part):
    name: str | None = None
    rx_bps: Number = None
    tx_bps: Number = None
    up: bool | None = None


class Net(_Part):
    rx_bps: Number = None
    tx_bps: Number = None
    interfaces: list[NetInterface] | None = None


class Battery(_Part):
    percent: Number = None
    plugged: bool | None = None
    secs_left: Number = None


class Process(_Part):
    pid: Count = None
    name: str | None = None
    user: str | None = None
    cpu_percent: Number = None
    rss: Number = None
    cmdline: str | None = None


class Gpu(_Part):
    index: Count = None
    name: str | None = None
    vendor: str | None = None
    util_percent: Number = None
    mem_used: Number = None
    mem_total: Number = None
    temp_c: Number = None
    power_w: Number = None


class Container(_Part):
    id: str | None = None
    name: str | None = None
    image: str | None = None
    state: str | None = None
    cpu_percent: Number = None
    mem_used: Number = None


class Sensors(_Part):
    fans_rpm: list[Number] | dict[str, Number] | None = None


class SampleV1(_Part):
    """Schema 1: what every agent sends once a second."""
    ts: float
    schema_version: int = 1
    cpu: Cpu | None = None
    memory: Memory | None = None
    swap: Swap | None = None
    disk: Disk | None = None
    net: Net | None = None
    load: list[Number] | None = None
    uptime_s: Number = None
    battery: Battery | None = None


class SampleV2(SampleV1):
    """Schema 2: schema 1 plus processes, GPUs, containers and fans, each optional."""
    processes: list[Process] | None = None
    gpus: list[Gpu] | None = None
    containers: list[Container] | None = None
    sensors: Sensors | None = None


def sample_type(schema_version: int) -> type[SampleV1]:
    """The Struct for a sample's schema; a newer schema is read as the newest one known."""
    return SampleV1 if schema_version <= 1 else SampleV2
