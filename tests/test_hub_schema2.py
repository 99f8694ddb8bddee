"""What the hub gives back of schema 2, against one real hub process on loopback: the newest
process list in the snapshot (kept while later samples have none), GPU use and the busiest
process in fleet summaries and fleet events, samples with their processes on the node
stream, the GPU, disk and interface families of /metrics, and what it refuses: a malformed
schema 2 section is a 400 naming its path, and nothing of that batch is stored."""
from __future__ import annotations

import json
import time
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import LiveHub, http
from schema2_samples import IDENTITY, hub_now, nvml_gpus, process, push, schema1, schema2

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


# --- bad input: a malformed schema 2 section ---------------------------------------------------

def _gpus(**first) -> list[dict]:
    return [dict(GPU, **first), dict(GPU, index=1)]


GPU = {"index": 0, "name": "NVIDIA GeForce RTX 4090", "vendor": "nvidia", "util_percent": 87.0,
       "mem_used": 20401094656, "mem_total": 25757220864, "temp_c": 71.0, "power_w": 312.5}
DISK = {"name": "nvme0n1", "read_bps": 1024.0, "write_bps": 2048.0, "busy_percent": 1.5}
NIC = {"name": "eth0", "rx_bps": 1200.0, "tx_bps": 800.0, "up": True}
CONTAINER = {"id": "3f1c2a9b7d4e", "name": "postgres", "image": "postgres:16", "state": "running",
             "cpu_percent": 50.0, "mem_used": 209715200}

# (what the malformed sample carries, the field path the 400 must name), one per schema 2
# section and per way it can be malformed: the section not a list (an object), an entry not an
# object, a field of an entry of the wrong type.
MALFORMED = {
    "processes-not-a-list": (lambda s: s.update(processes=PROCS_A[0]), "samples[1].processes:"),
    "processes-a-string": (lambda s: s.update(processes="python3"), "samples[1].processes:"),
    "process-not-an-object": (lambda s: s.update(processes=[PROCS_A[0], "python3"]), "samples[1].processes[1]:"),
    "process-pid-a-string": (lambda s: s.update(processes=[dict(PROCS_A[0], pid="one")]),
                             "samples[1].processes[0].pid:"),
    "process-cpu-a-word": (lambda s: s.update(processes=[PROCS_A[0], dict(PROCS_A[1], cpu_percent="busy")]),
                           "samples[1].processes[1].cpu_percent:"),
    "process-name-a-number": (lambda s: s.update(processes=[dict(PROCS_A[0], name=7)]),
                              "samples[1].processes[0].name:"),
    "gpus-not-a-list": (lambda s: s.update(gpus=GPU), "samples[1].gpus:"),
    "gpu-not-an-object": (lambda s: s.update(gpus=[87.0]), "samples[1].gpus[0]:"),
    "gpu-util-a-word": (lambda s: s.update(gpus=_gpus(util_percent="busy")), "samples[1].gpus[0].util_percent:"),
    "gpu-util-a-list": (lambda s: s.update(gpus=_gpus(util_percent=[87.0])), "samples[1].gpus[0].util_percent:"),
    "gpu-memory-a-bool": (lambda s: s.update(gpus=[GPU, dict(GPU, index=1, mem_used=True)]),
                          "samples[1].gpus[1].mem_used:"),
    "gpu-index-a-word": (lambda s: s.update(gpus=_gpus(index="first")), "samples[1].gpus[0].index:"),
    "disk-devices-not-a-list": (lambda s: s["disk"].update(devices=DISK), "samples[1].disk.devices:"),
    "disk-device-not-an-object": (lambda s: s["disk"].update(devices=["nvme0n1"]), "samples[1].disk.devices[0]:"),
    "disk-busy-a-word": (lambda s: s["disk"].update(devices=[dict(DISK, busy_percent="idle")]),
                         "samples[1].disk.devices[0].busy_percent:"),
    "interfaces-not-a-list": (lambda s: s["net"].update(interfaces={"eth0": NIC}), "samples[1].net.interfaces:"),
    "interface-not-an-object": (lambda s: s["net"].update(interfaces=[NIC, None]),
                                "samples[1].net.interfaces[1]:"),
    "interface-rx-a-word": (lambda s: s["net"].update(interfaces=[dict(NIC, rx_bps="fast")]),
                            "samples[1].net.interfaces[0].rx_bps:"),
    "interface-up-a-word": (lambda s: s["net"].update(interfaces=[dict(NIC, up="maybe")]),
                            "samples[1].net.interfaces[0].up:"),
    "containers-not-a-list": (lambda s: s.update(containers=CONTAINER), "samples[1].containers:"),
    "container-not-an-object": (lambda s: s.update(containers=[["postgres"]]), "samples[1].containers[0]:"),
    "container-cpu-a-word": (lambda s: s.update(containers=[dict(CONTAINER, cpu_percent="high")]),
                             "samples[1].containers[0].cpu_percent:"),
    "container-state-a-number": (lambda s: s.update(containers=[dict(CONTAINER, state=1)]),
                                 "samples[1].containers[0].state:"),
    "sensors-not-an-object": (lambda s: s.update(sensors=[1130]), "samples[1].sensors:"),
    "fans-a-word": (lambda s: s.update(sensors={"fans_rpm": "fast"}), "samples[1].sensors.fans_rpm:"),
    "fan-rpm-a-word": (lambda s: s.update(sensors={"fans_rpm": {"nct6798/cpu_fan": 1130, "nct6798/sys_fan": "fast"}}),
                       'samples[1].sensors.fans_rpm["nct6798/sys_fan"]:'),
    # Past 100 fans the hub does not look for the bad one, and names the mapping.
    "fan-rpm-a-word-among-hundreds": (lambda s: s.update(sensors={"fans_rpm": {**{f"fan{i}": 900 for i in range(150)},
                                                                             "fan150": "fast"}}),
                                      "samples[1].sensors.fans_rpm[...]:"),
}


def _stored(hub, node_id: str) -> list[dict]:
    """Every raw sample the hub's store holds for the node, read through the store itself."""
    return hub.read_store(lambda store: store.samples.series(node_id, resolution="1s", points=10**6))


@pytest.mark.parametrize("case", MALFORMED)
def test_a_malformed_schema_2_section_is_a_400_naming_it_and_nothing_of_the_batch_is_stored(hub, case):
    malform, path = MALFORMED[case]
    node_id, now = f"bad-{case}", hub_now(hub)
    tok = hub.token(node_id)
    push(hub, node_id, tok, [schema2(now - 10, processes=PROCS_A)])
    before = snapshot(hub, node_id), hub.fleet()[node_id], _stored(hub, node_id)

    bad = schema2(now - 2)
    malform(bad)
    batch = [schema2(now - 3, processes=PROCS_B, gpus=_gpus()), bad, schema2(now - 1)]
    st, err = http("POST", f"{hub.url}/api/ingest/{node_id}",
                   {"node": dict(IDENTITY, hostname=node_id), "samples": batch}, token=tok)
    assert st == 400, err
    assert set(err) == {"error", "message"} and err["error"] == "invalid_sample", err
    assert err["message"].startswith(path), err["message"]

    after = snapshot(hub, node_id), hub.fleet()[node_id], _stored(hub, node_id)
    assert after[0] == before[0], "the snapshot (samples and process list) is unchanged"
    assert after[1]["last_sample_ts"] == before[1]["last_sample_ts"] == now - 10
    assert after[2] == before[2] and len(after[2]) == 1, "no sample of the refused batch reached the store"

    # The agent drops the bad sample and resends the rest: accepted, in full.
    assert push(hub, node_id, tok, [batch[0], batch[2]])["accepted"] == 2
    assert [s["ts"] for s in _stored(hub, node_id)] == [now - 10, now - 3, now - 1]
    assert snapshot(hub, node_id)["processes"] == {"ts": now - 3, "items": PROCS_B}


def test_numeric_strings_in_schema_2_sections_are_stored_as_numbers(hub):
    """As docs/SAMPLES.md says for every field the schema names: "12.5" is the number 12.5, and
    "nan" is an unknown reading (null), in a GPU, process, disk, interface or container alike."""
    node_id, now = "numeric-strings", hub_now(hub)
    sent = schema2(now, gpus=_gpus(util_percent="12.5", temp_c="nan"),
                   processes=[dict(PROCS_A[0], pid="101", cpu_percent="99.5")],
                   disks=[dict(DISK, busy_percent="1.5")], interfaces=[dict(NIC, rx_bps="1200")],
                   containers=[dict(CONTAINER, cpu_percent="50")])
    push(hub, node_id, hub.token(node_id), [sent])
    [got] = _stored(hub, node_id)
    assert got["gpus"][0] == dict(GPU, util_percent=12.5, temp_c=None) and got["gpus"][1] == dict(GPU, index=1)
    assert got["processes"] == [dict(PROCS_A[0], pid=101, cpu_percent=99.5)]
    assert got["disk"]["devices"] == [dict(DISK, busy_percent=1.5)]
    assert got["net"]["interfaces"] == [dict(NIC, rx_bps=1200.0)]
    assert got["containers"] == [dict(CONTAINER, cpu_percent=50.0)]
    assert hub.fleet()[node_id]["gpu_percent"] == 49.8  # the mean of 12.5 and 87.0, to 0.1 as the fleet shows it
