"""Schema 2 samples for the hub and dashboard tests, built from what the project already
records: the documented example of docs/SAMPLES.md (the shape agents send), GPUs as the
real collector reads them from the recorded NVML fixture, and process lists in the
collector's shape. Pushed through the real ingest API with a real node token."""
from __future__ import annotations

import copy
import json
import re
from pathlib import Path

from conftest import http

SAMPLES_DOC = Path(__file__).resolve().parents[1] / "docs" / "SAMPLES.md"
IDENTITY = {"hostname": "rig", "os": "Linux", "os_version": "6.1", "arch": "x86_64", "cores": 2,
            "agent_version": "0.1.0"}


def documented_sample() -> dict:
    """The "Example (schema_version 2)" block of docs/SAMPLES.md."""
    text = SAMPLES_DOC.read_text()
    section = text[text.index("## Example (schema_version 2)"):]
    return json.loads(re.search(r"```json\n(.*?)```", section, re.S).group(1))


def nvml_gpus() -> list[dict]:
    """The `gpus` section the collector makes from tests/fixtures/platform/nvml_two_gpus.json
    (an RTX 4090 at 87 % and a laptop board at 0 % without a power reading)."""
    from forge_desktop.collector import Collector
    from forge_desktop.platform.gpus import detect_gpus
    from test_collector_schema2 import RecordedNvml, fixture

    collector = Collector(probes=[detect_gpus(nvml=RecordedNvml(fixture("nvml_two_gpus.json")),
                                              drm_root=SAMPLES_DOC.parent / "no-drm-here")])
    try:
        collector.sample()
        return collector.sample()["gpus"]
    finally:
        collector.close()


def process(pid: int, name: str, cpu: float | None, rss: int, cmdline: str | None = None, user: str = "alice") -> dict:
    return {"pid": pid, "name": name, "user": user, "cpu_percent": cpu, "rss": rss,
            "cmdline": cmdline if cmdline is not None else name}


def schema2(ts: float, *, cpu: float = 20.0, processes: list[dict] | None = None, gpus: list[dict] | None = None,
            disks: list[dict] | None = None, interfaces: list[dict] | None = None,
            containers: list[dict] | None = None) -> dict:
    """The documented sample at `ts`; `processes` is left out unless given (one sample in five
    carries them), the other sections replace the documented ones when given ([] drops them)."""
    s = copy.deepcopy(documented_sample())
    s["ts"] = ts
    s["cpu"]["percent"] = cpu
    s["cpu"]["per_core"] = [cpu] * len(s["cpu"]["per_core"])
    del s["processes"]
    if processes is not None:
        s["processes"] = processes
    for key, value, parent in (("gpus", gpus, None), ("devices", disks, "disk"), ("interfaces", interfaces, "net"),
                               ("containers", containers, None)):
        where = s[parent] if parent else s
        if value == []:
            del where[key]
        elif value is not None:
            where[key] = value
    return s


def schema1(ts: float, cpu: float = 10.0) -> dict:
    s = schema2(ts, cpu=cpu, gpus=[], disks=[], interfaces=[], containers=[])
    s["schema_version"] = 1
    del s["sensors"]
    return s


def push(hub, node_id: str, token: str, samples: list[dict], identity: dict | None = None) -> dict:
    st, body = http("POST", f"{hub.url}/api/ingest/{node_id}",
                    {"node": identity or dict(IDENTITY, hostname=node_id), "samples": samples}, token=token)
    assert st == 200, body
    return body


def hub_now(hub) -> float:
    return http("GET", hub.url + "/api/health")[1]["time"]
