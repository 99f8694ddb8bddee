"""What the hub gives back of schema 2, against one real hub process on loopback: the newest
process list in the snapshot (kept while later samples have none), GPU use and the busiest
process in fleet summaries and fleet events, samples with their processes on the node
stream, and the GPU, disk and interface families of /metrics."""
from __future__ import annotations

import json
import time
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import LiveHub, http
from schema2_samples import hub_now, nvml_gpus, process, push, schema1, schema2

PROCS_A = [process(101, "python3", 99.5, 1 << 30, "python3 train.py --epochs 10"),
           process(102, "postgres", 12.0, 300 << 20, user="postgres"),
           process(103, "kworker/0:1", None, 0, cmdline=None)]
PROCS_B = [process(201, "ffmpeg", 180.0, 200 << 20, "ffmpeg -i in.mkv out.mp4"),
           process(202, "python3", 40.0, 2 << 30)]


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    h = LiveHub(tmp_path_factory.mktemp("schema2-hub"))
    h.start_hub()
    yield h
    h.close()


def snapshot(hub, node_id: str) -> dict:
    st, body = http("GET", f"{hub.url}/api/nodes/{node_id}/snapshot?points=50")
    assert st == 200, body
    return body


class Events:
    """An SSE stream read line by line from a real HTTP connection."""

    def __init__(self, url: str):
        self.resp = urllib.request.urlopen(url, timeout=10)

    def next(self, want: str, predicate, timeout: float = 10.0) -> dict:
        """The data of the first `want` event that satisfies `predicate`."""
        deadline, event = time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            line = self.resp.readline().decode().rstrip("\n")
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event == want:
                data = json.loads(line[6:])
                if predicate(data):
                    return data
        raise AssertionError(f"no matching {want!r} event within {timeout} s")

    def close(self) -> None:
        self.resp.close()


def test_snapshot_holds_the_newest_process_list_while_later_samples_carry_none(hub):
    tok, now = hub.token("rig"), hub_now(hub)
    push(hub, "rig", tok, [schema2(now - 9, processes=PROCS_A), schema2(now - 8), schema2(now - 7)])
    got = snapshot(hub, "rig")
    assert got["processes"] == {"ts": now - 9, "items": PROCS_A}
    assert "processes" not in got["samples"][-1]

    push(hub, "rig", tok, [schema2(now - 4, processes=PROCS_B), schema2(now - 3)])
    assert snapshot(hub, "rig")["processes"] == {"ts": now - 4, "items": PROCS_B}
    # A late batch from before (an agent flushing its buffer) does not replace a newer list.
    push(hub, "rig", tok, [schema2(now - 20, processes=PROCS_A)])
    assert snapshot(hub, "rig")["processes"]["items"] == PROCS_B


def test_schema_1_node_has_no_processes_gpu_or_top_process(hub):
    push(hub, "old", hub.token("old"), [schema1(hub_now(hub) - 1)])
    assert snapshot(hub, "old")["processes"] is None
    node = hub.fleet()["old"]
    assert node["gpu_percent"] is None and node["top_process"] is None


def test_fleet_summary_has_mean_gpu_use_and_the_busiest_process(hub):
    tok, now = hub.token("gpu"), hub_now(hub)
    gpus = nvml_gpus()
    assert [g["util_percent"] for g in gpus] == [87.0, 0.0]
    push(hub, "gpu", tok, [schema2(now - 2, gpus=gpus, processes=PROCS_A), schema2(now - 1, gpus=gpus)])
    node = hub.fleet()["gpu"]
    assert node["gpu_percent"] == 43.5
    assert node["top_process"] == {"name": "python3", "cpu_percent": 99.5}
    assert snapshot(hub, "gpu")["node"]["top_process"] == {"name": "python3", "cpu_percent": 99.5}
    # A GPU without a utilisation figure does not count as idle; a sample without GPUs has none.
    half = [dict(gpus[0], util_percent=None), gpus[1]]
    push(hub, "gpu", tok, [schema2(now, gpus=half)])
    assert hub.fleet()["gpu"]["gpu_percent"] == 0.0
    push(hub, "gpu", tok, [schema2(now + 0.5, gpus=[])])
    assert hub.fleet()["gpu"]["gpu_percent"] is None


def test_fleet_events_carry_gpu_use_and_the_busiest_process(hub):
    tok = hub.token("live-gpu")
    events = Events(hub.url + "/api/fleet/events")
    try:
        events.next("hello", lambda d: True)
        now = hub_now(hub)
        push(hub, "live-gpu", tok, [schema2(now, gpus=nvml_gpus(), processes=PROCS_B)])
        data = events.next("fleet", lambda d: any(n["id"] == "live-gpu" for n in d["nodes"]))
    finally:
        events.close()
    node = next(n for n in data["nodes"] if n["id"] == "live-gpu")
    assert node["gpu_percent"] == 43.5
    assert node["top_process"] == {"name": "ffmpeg", "cpu_percent": 180.0}


def test_node_stream_samples_carry_their_processes_as_sent(hub):
    tok = hub.token("watched")
    push(hub, "watched", tok, [schema1(hub_now(hub) - 5)])  # a node streams once it has reported
    events = Events(hub.url + "/api/nodes/watched/events")
    try:
        events.next("hello", lambda d: True)
        now = hub_now(hub)
        sent = [schema2(now - 1), schema2(now, processes=PROCS_A)]
        push(hub, "watched", tok, sent)
        first = events.next("sample", lambda d: True)
        second = events.next("sample", lambda d: True)
    finally:
        events.close()
    assert [first, second] == sent


def _families(hub) -> dict:
    req = urllib.request.urlopen(hub.url + "/metrics", timeout=10)
    return {f.name: f for f in text_string_to_metric_families(req.read().decode())}


def _values(families: dict, name: str, node: str) -> dict[tuple, float]:
    return {tuple(sorted((k, v) for k, v in s.labels.items() if k != "node")): s.value
            for s in families[name].samples if s.labels["node"] == node}


def test_metrics_export_gpus_disks_and_interfaces_with_labels(hub):
    tok, now = hub.token("metrics"), hub_now(hub)
    gpus = nvml_gpus()
    disks = [{"name": "nvme0n1", "read_bps": 1024.0, "write_bps": 2048.5, "busy_percent": 1.5},
             {"name": "sda", "read_bps": 0.0, "write_bps": 10.0, "busy_percent": None}]
    odd = 'Ethernet "2" \\ lab'  # Windows names interfaces freely: quotes and backslashes escaped
    interfaces = [{"name": "eth0", "rx_bps": 1200.0, "tx_bps": 800.0, "up": True},
                  {"name": odd, "rx_bps": 5.0, "tx_bps": None, "up": False}]
    push(hub, "metrics", tok, [schema2(now, gpus=gpus, disks=disks, interfaces=interfaces)])
    push(hub, "metrics-v1", hub.token("metrics-v1"), [schema1(now)])
    fams = _families(hub)

    rtx, a1000 = (("gpu", "0"), ("name", "NVIDIA GeForce RTX 4090")), (("gpu", "1"), ("name", "NVIDIA RTX A1000 Laptop GPU"))
    assert _values(fams, "forge_node_gpu_utilization", "metrics") == {rtx: 87.0, a1000: 0.0}
    assert _values(fams, "forge_node_gpu_memory_used_bytes", "metrics") == {rtx: 20401094656, a1000: 1048576}
    assert _values(fams, "forge_node_gpu_memory_total_bytes", "metrics")[a1000] == 4294967296
    assert _values(fams, "forge_node_gpu_temperature_celsius", "metrics") == {rtx: 71.0, a1000: 44.0}
    assert _values(fams, "forge_node_gpu_power_watts", "metrics") == {rtx: 312.5}  # the laptop board has none
    dev = lambda d: (("device", d),)  # noqa: E731
    assert _values(fams, "forge_node_disk_read_bytes_per_second", "metrics") == {dev("nvme0n1"): 1024.0, dev("sda"): 0.0}
    assert _values(fams, "forge_node_disk_write_bytes_per_second", "metrics") == {dev("nvme0n1"): 2048.5,
                                                                                  dev("sda"): 10.0}
    assert _values(fams, "forge_node_disk_busy_percent", "metrics") == {dev("nvme0n1"): 1.5}
    nic = lambda i: (("interface", i),)  # noqa: E731
    assert _values(fams, "forge_node_network_receive_bytes_per_second", "metrics") == {nic("eth0"): 1200.0,
                                                                                       nic(odd): 5.0}
    assert _values(fams, "forge_node_network_transmit_bytes_per_second", "metrics") == {nic("eth0"): 800.0}
    for f in fams.values():
        assert all(s.labels.get("node") != "metrics-v1" for s in f.samples if f.name.startswith(
            ("forge_node_gpu", "forge_node_disk", "forge_node_network"))), f.name
    assert all(f.type == "gauge" for name, f in fams.items() if name.startswith("forge_node_"))
