"""Collector tests: recorded platform shapes replayed through an injected psutil, and this machine for real."""

from __future__ import annotations

import json
import logging
import re
import time
from collections import namedtuple
from pathlib import Path
from types import ModuleType
from typing import Any

import psutil
import pytest

from forge_desktop import __version__
from forge_desktop.collector import (
    Collector,
    HostInfo,
    RateMeter,
    cpu_temperatures,
    real_mounts,
)

FIXTURES = Path(__file__).parent / "fixtures" / "platform"
API_DOC = Path(__file__).resolve().parents[1] / "docs" / "API.md"


def _tuple(name: str, fields: dict[str, Any]):
    return namedtuple(name, list(fields))(**fields)


class ReplayedPsutil(ModuleType):
    """A psutil module that answers from a fixture; ``advance()`` moves to the next recorded step.

    Functions the recorded OS lacks (a key missing from the fixture) are missing
    here too, as ``hasattr(psutil, "sensors_temperatures")`` is False on Windows.
    """

    POWER_TIME_UNKNOWN = -1
    POWER_TIME_UNLIMITED = -2

    def __init__(self, fixture: dict[str, Any]) -> None:
        super().__init__("replayed_psutil")
        self.fixture = fixture
        self.step = 0
        static = fixture["static"]
        if "cpu_freq_percpu" in static:
            self.cpu_freq = self._cpu_freq
        if "sensors_temperatures" in static:
            self.sensors_temperatures = self._sensors_temperatures
        if "getloadavg" in static:
            self.getloadavg = lambda: tuple(static["getloadavg"])
        if "sensors_battery" in static:
            self.sensors_battery = self._sensors_battery

    @property
    def now(self) -> float:
        return self._step()["ts"]

    def advance(self) -> float:
        self.step += 1
        return self.now

    def _step(self) -> dict[str, Any]:
        return self.fixture["steps"][min(self.step, len(self.fixture["steps"]) - 1)]

    def cpu_count(self, logical: bool = True) -> int | None:
        return self.fixture["static"]["cpu_count" if logical else "cpu_count_physical"]

    def cpu_times(self, percpu: bool = False):
        assert percpu, "the collector reads per-CPU times only"
        return [_tuple("scputimes", t) for t in self._step()["cpu_times_percpu"]]

    def _cpu_freq(self, percpu: bool = False):
        return [_tuple("scpufreq", f) for f in self.fixture["static"]["cpu_freq_percpu"]]

    def _sensors_temperatures(self):
        chips = self.fixture["static"]["sensors_temperatures"]
        return {chip: [_tuple("shwtemp", e) for e in entries] for chip, entries in chips.items()}

    def _sensors_battery(self):
        battery = self.fixture["static"]["sensors_battery"]
        return None if battery is None else _tuple("sbattery", battery)

    def virtual_memory(self):
        return _tuple("svmem", self.fixture["static"]["virtual_memory"])

    def swap_memory(self):
        return _tuple("sswap", self.fixture["static"]["swap_memory"])

    def disk_partitions(self, all: bool = False):  # noqa: A002 - psutil's signature
        return [_tuple("sdiskpart", p) for p in self.fixture["static"]["disk_partitions"]]

    def disk_usage(self, path: str):
        usage = self.fixture["static"]["disk_usage"].get(path)
        if usage is None or isinstance(usage, str):
            raise OSError(usage or f"no such mount {path}")
        return _tuple("sdiskusage", usage)

    def disk_io_counters(self, perdisk: bool = False, nowrap: bool = True):
        counters = self._step()["disk_io_counters"]
        return None if counters is None else _tuple("sdiskio", counters)

    def net_io_counters(self, pernic: bool = False, nowrap: bool = True):
        assert pernic, "the collector reads per-NIC counters to leave loopback out"
        return {nic: _tuple("snetio", c) for nic, c in self._step()["net_io_counters_pernic"].items()}

    def boot_time(self) -> float:
        return self.fixture["static"]["boot_time"]


def replay(name: str) -> tuple[ReplayedPsutil, Collector]:
    fixture = json.loads((FIXTURES / f"{name}.json").read_text())
    ps = ReplayedPsutil(fixture)
    topology = [tuple(pc) for pc in fixture["topology"]] if fixture["topology"] else None
    return ps, Collector(ps, topology=topology)


def _doc_json_block(heading: str) -> dict[str, Any]:
    text = API_DOC.read_text()
    section = text[text.index(heading):]
    return json.loads(re.search(r"```json\n(.*?)```", section, re.S).group(1))


def _shape(value: Any) -> Any:
    """Nested key structure of a JSON value (lists by their first item)."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return [_shape(value[0])]
    return None


# --- recorded platform shapes ------------------------------------------------------


def test_intel_laptop_first_sample_has_null_rates_and_cpu_since_priming():
    ps, collector = replay("linux_intel_laptop")
    first = collector.sample(ps.now)
    assert first["disk"]["read_bps"] is None and first["disk"]["write_bps"] is None
    assert first["net"] == {"rx_bps": None, "tx_bps": None}
    # No CPU time passed since the collector was primed on the same recorded step.
    assert first["cpu"]["percent"] is None and first["cpu"]["per_core"] is None


def test_intel_laptop_full_sample():
    ps, collector = replay("linux_intel_laptop")
    collector.sample(ps.now)
    sample = collector.sample(ps.advance())

    assert sample["schema_version"] == 1 and sample["ts"] == 1002.0
    cpu = sample["cpu"]
    # core 1: iowait is idle; core 3: guest time is already inside user time.
    assert cpu["per_core"] == [50.0, 75.0, 0.0, 100.0]
    assert cpu["percent"] == pytest.approx(56.25, abs=0.06)
    assert cpu["freq_mhz"] == [2800.0, 3100.0, None, 1200.0]
    # Core ids 0 and 4 are the two physical cores; cpu2/cpu3 are their hyper-threads.
    assert cpu["temp_c"] == [55.0, 58.0, 55.0, 58.0]
    assert cpu["package_temp_c"] == 61.0

    assert sample["memory"] == {"total": 16_000_000_000, "used": 4_000_000_000,
                                "available": 12_000_000_000, "percent": 25.0}
    assert sample["swap"] == {"total": 2_000_000_000, "used": 500_000_000, "percent": 25.0}
    assert sample["disk"]["read_bps"] == 1_000_000.0
    assert sample["disk"]["write_bps"] == 500_000.0
    mounts = [(m["mount"], m["fstype"]) for m in sample["disk"]["mounts"]]
    assert mounts == [("/", "btrfs"), ("/boot/efi", "vfat")]
    assert sample["net"] == {"rx_bps": 2000.0, "tx_bps": 100.0}
    assert sample["load"] == [1.25, 0.75, 0.5]
    assert sample["uptime_s"] == 102.0
    assert sample["battery"] == {"percent": 80.5, "plugged": False, "secs_left": 3600}
    assert collector.disabled == frozenset()


def test_counter_going_backwards_gives_null_rate_not_negative():
    ps, collector = replay("linux_intel_laptop")
    collector.sample(ps.now)
    collector.sample(ps.advance())
    third = collector.sample(ps.advance())
    # The Wi-Fi interface vanished: the summed counters fell, so the rate is unknown.
    assert third["net"] == {"rx_bps": None, "tx_bps": None}
    assert third["disk"]["read_bps"] == 0.0 and third["disk"]["write_bps"] == 0.0


def test_windows_shapes_give_nulls_where_windows_has_no_source():
    ps, collector = replay("windows_laptop")
    assert not hasattr(ps, "sensors_temperatures") and not hasattr(ps, "getloadavg")
    collector.sample(ps.now)
    sample = collector.sample(ps.advance())

    assert sample["cpu"]["per_core"] == [50.0] * 4 and sample["cpu"]["percent"] == 50.0
    assert sample["cpu"]["freq_mhz"] == [2592.0] * 4
    assert sample["cpu"]["temp_c"] is None and sample["cpu"]["package_temp_c"] is None
    assert sample["load"] is None
    assert sample["disk"]["read_bps"] is None and sample["disk"]["write_bps"] is None
    assert [m["mount"] for m in sample["disk"]["mounts"]] == ["C:\\"]
    assert sample["net"] == {"rx_bps": 4000.0, "tx_bps": 1000.0}
    assert sample["battery"] == {"percent": 100.0, "plugged": True, "secs_left": None}
    assert sample["uptime_s"] == 501.0
    assert collector.disabled == frozenset()


def test_macos_shapes_skip_system_volumes_and_devfs():
    ps, collector = replay("macos_apple_silicon")
    collector.sample(ps.now)
    sample = collector.sample(ps.advance())

    assert [m["mount"] for m in sample["disk"]["mounts"]] == ["/", "/Volumes/Backup"]
    assert sample["cpu"]["per_core"] == [50.0] * 8
    assert sample["cpu"]["temp_c"] is None and sample["cpu"]["package_temp_c"] is None
    assert sample["cpu"]["freq_mhz"] == [3228.0] * 8
    assert sample["disk"]["read_bps"] == 1024.0 and sample["disk"]["write_bps"] == 2048.0
    assert sample["net"] == {"rx_bps": 200.0, "tx_bps": 100.0}
    assert sample["load"] == [2.5, 2.0, 1.5]
    assert sample["battery"] == {"percent": 64.0, "plugged": False, "secs_left": None}


def test_amd_server_package_temp_only_and_no_battery():
    ps, collector = replay("linux_amd_server")
    collector.sample(ps.now)
    sample = collector.sample(ps.advance())

    assert sample["cpu"]["temp_c"] is None
    assert sample["cpu"]["package_temp_c"] == 58.0  # Tdie, not the offset Tctl
    # The recorded CPU counters did not move: no figure rather than a fake 0 %.
    assert sample["cpu"]["percent"] is None
    assert sample["disk"]["read_bps"] is None and sample["disk"]["write_bps"] == 2000.0
    assert [m["mount"] for m in sample["disk"]["mounts"]] == ["/"]
    assert sample["battery"] is None


def test_recorded_linux_vm_replays_without_disabling_anything():
    ps, collector = replay("linux_vm_recorded")
    collector.sample(ps.now)
    sample = collector.sample(ps.advance())
    assert collector.disabled == frozenset()
    assert len(sample["cpu"]["per_core"]) == ps.cpu_count()
    assert 0.0 <= sample["cpu"]["percent"] <= 100.0
    assert sample["net"]["rx_bps"] is not None and sample["net"]["rx_bps"] >= 0


def test_failing_probe_is_disabled_and_logged_once(caplog):
    ps, collector = replay("linux_intel_laptop")

    def broken():
        raise RuntimeError("sysctl went away")

    ps.virtual_memory = broken
    with caplog.at_level(logging.WARNING, logger="forge_desktop.collector"):
        first = collector.sample(ps.now)
        second = collector.sample(ps.advance())
    assert first["memory"] is None and second["memory"] is None
    assert collector.disabled == frozenset({"memory"})
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "memory" in warnings[0].getMessage()
    assert second["cpu"]["per_core"] == [50.0, 75.0, 0.0, 100.0]
    assert second["swap"]["total"] == 2_000_000_000


# --- pure helpers ------------------------------------------------------------------


def test_two_packages_map_core_sensors_through_topology():
    shwtemp = namedtuple("shwtemp", "label current high critical")
    sensors = {"coretemp": [
        shwtemp("Package id 0", 50.0, None, None), shwtemp("Core 0", 40.0, None, None),
        shwtemp("Core 1", 41.0, None, None),
        shwtemp("Package id 1", 70.0, None, None), shwtemp("Core 0", 60.0, None, None),
        shwtemp("Core 1", 0.0, None, None),
    ]}
    topology = [(0, 0), (0, 1), (1, 0), (1, 1)]
    per_cpu, package = cpu_temperatures(sensors, 4, topology)
    assert per_cpu == [40.0, 41.0, 60.0, None]  # a 0 °C reading is a broken sensor: null
    assert package == 70.0


def test_no_temperature_sources_gives_nulls():
    assert cpu_temperatures({}, 4, None) == (None, None)
    shwtemp = namedtuple("shwtemp", "label current high critical")
    assert cpu_temperatures({"acpitz": [shwtemp("", 27.8, None, None)]}, 4, None) == (None, None)


def test_real_mounts_prefers_shortest_mountpoint_per_device():
    part = namedtuple("sdiskpart", "device mountpoint fstype opts")
    mounts = real_mounts([
        part("/dev/sda2", "/srv/data", "xfs", "rw"),
        part("/dev/sda2", "/srv", "xfs", "rw"),
        part("/dev/loop0", "/mnt/image", "ext4", "ro"),
        part("proc", "/proc", "proc", "rw"),
    ])
    assert [m.mountpoint for m in mounts] == ["/srv"]


def test_rate_meter_guards_time_and_counters():
    meter = RateMeter()
    assert meter.update(10.0, (100, 100)) == [None, None]
    assert meter.update(12.0, (300, 50)) == [100.0, None]
    assert meter.update(12.0, (400, 60)) == [None, None]  # no time passed


# --- this machine, for real --------------------------------------------------------


def test_real_sample_matches_the_documented_schema():
    # The schema 1 part; the schema 2 sections are in tests/test_collector_schema2.py.
    collector = Collector(probes=())
    collector.sample()
    time.sleep(0.2)
    sample = collector.sample()
    json.dumps(sample, allow_nan=False)

    documented = _doc_json_block("## Sample (schema_version 1)")
    if sample["battery"] is None:  # the doc allows a null battery; this VM has none
        documented["battery"] = None
    assert _shape(sample) == _shape(documented)
    assert sample["schema_version"] == documented["schema_version"]

    cpu = sample["cpu"]
    assert 0.0 <= cpu["percent"] <= 100.0
    assert len(cpu["per_core"]) == psutil.cpu_count()
    assert cpu["temp_c"] is None or len(cpu["temp_c"]) == psutil.cpu_count()
    assert 0 < sample["memory"]["used"] <= sample["memory"]["total"]
    assert sample["disk"]["read_bps"] >= 0 and sample["net"]["rx_bps"] >= 0
    mounts = sample["disk"]["mounts"]
    assert mounts and all(m["total"] > 0 for m in mounts)
    assert len({m["mount"] for m in mounts}) == len(mounts)
    assert sample["uptime_s"] > 0
    assert collector.disabled == frozenset()


def test_real_identity_matches_the_documented_keys():
    identity = Collector().identity()
    assert set(identity) == set(_doc_json_block("## Node identity"))
    assert identity["cores"] == psutil.cpu_count()
    assert identity["agent_version"] == __version__
    assert identity["hostname"]


@pytest.mark.parametrize("host, expected", [
    (HostInfo("pc", "Windows", "10", "10.0.22631", "AMD64"), "10.0.22631"),
    (HostInfo("mac", "Darwin", "23.1.0", "Darwin Kernel", "arm64", mac_release="14.1"), "14.1"),
    (HostInfo("box", "Linux", "6.1.0-18-amd64", "#1 SMP", "x86_64"), "6.1.0-18-amd64"),
])
def test_identity_os_version_per_os(host, expected):
    ps, _ = replay("macos_apple_silicon")
    identity = Collector(ps, topology=None, host=host).identity()
    assert identity["os_version"] == expected
    assert identity["os"] == host.system and identity["arch"] == host.machine
    assert identity["cores"] == 8 and identity["physical_cores"] == 8


def test_a_sample_right_after_priming_reports_cpu_null_not_zero():
    """The agent samples at once on start: a few ms of CPU ticks say nothing, so null (not 0 %)."""
    import time
    from forge_desktop.collector import Collector
    collector = Collector()
    time.sleep(0.02)
    first = collector.sample()
    assert first["cpu"]["percent"] is None and first["cpu"]["per_core"] is None
    time.sleep(0.3)
    later = collector.sample()
    assert later["cpu"]["percent"] is not None and 0.0 <= later["cpu"]["percent"] <= 100.0
