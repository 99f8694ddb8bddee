"""The dashboard's static files, Prometheus metrics and the OpenAPI document."""
from __future__ import annotations

import math
import socket
import time
from importlib import resources
from pathlib import Path

import msgspec
from aiohttp import web

from forge_contracts import __version__, wire

from ..auth import access
from ..openapi import described, document, hidden
from ..state import hub_state
from .fleet import require_viewer

routes = web.RouteTableDef()

STATIC = Path(str(resources.files("hub").joinpath("static")))


@routes.get("/")
@access("public")
@hidden
async def index(request: web.Request) -> web.StreamResponse:
    page = STATIC / "index.html"
    if not page.exists():
        return web.Response(text="Forge hub is running; the dashboard is not installed.", content_type="text/plain")
    return web.FileResponse(page, headers={"Cache-Control": "no-cache"})


@routes.get("/api/health")
@access("public")
@described("Is this a Forge hub, which version, and its size limits", wire.Health)
async def health(request: web.Request) -> web.Response:
    c = hub_state(request).config
    limits = {"max_samples_per_push": c.max_samples_per_push, "max_sample_bytes": c.max_sample_bytes,
              "max_batch_bytes": c.max_batch_bytes, "max_clock_skew_s": c.max_clock_skew_s}
    return web.json_response({"service": "forge-hub", "version": __version__, "time": time.time(),
                              "hostname": socket.gethostname(), "limits": limits,
                              "loopback_only": c.host in ("127.0.0.1", "localhost", "::1") or c.host.startswith("127.")})


@routes.get("/api/openapi.json")
@access("public")
@described("This document", {"type": "object"})
async def openapi(request: web.Request) -> web.Response:
    return web.json_response(document(request.app.router))


@routes.get("/metrics")
@access("viewer")
@described("Prometheus text exposition (finite values only)", {"type": "string"},
           content_type="text/plain; version=0.0.4")
async def metrics(request: web.Request) -> web.Response:
    hub = hub_state(request)
    require_viewer(request, hub)
    now = time.time()
    lines = [
        "# HELP forge_node_up 1 if the node pushed within the online threshold.",
        "# TYPE forge_node_up gauge",
    ]
    rows = []
    for n in hub.fleet.nodes.values():
        s = hub.fleet.summary(n, now, full=False)
        rows.append((n.id, s))
        lines.append(f'forge_node_up{{node="{n.id}"}} {1 if s["status"] == "online" else 0}')
    for metric, key, help_ in (("forge_node_cpu_percent", "cpu", "Total CPU use in percent."),
                               ("forge_node_memory_percent", "mem", "Memory use in percent.")):
        lines += [f"# HELP {metric} {help_}", f"# TYPE {metric} gauge"]
        lines += [f'{metric}{{node="{i}"}} {s[key]!r}' for i, s in rows if _finite(s[key])]
    lines += ["# HELP forge_node_last_seen_seconds Unix time of the last push.",
              "# TYPE forge_node_last_seen_seconds gauge"]
    lines += [f'forge_node_last_seen_seconds{{node="{i}"}} {s["last_seen"]:.3f}' for i, s in rows]
    lines += _device_families(hub)
    counts = await hub.jobs.queue_counts()
    lines += ["# HELP forge_jobs Jobs in the queue by status.", "# TYPE forge_jobs gauge"]
    lines += [f'forge_jobs{{status="{k}"}} {v}' for k, v in counts.items()]
    lines += ["# HELP forge_alerts_firing 1 for each alert firing now, by rule, node and severity.",
              "# TYPE forge_alerts_firing gauge"]
    lines += [f'forge_alerts_firing{{rule="{_label(r.name)}",node="{node}",severity="{r.severity}"}} 1'
              for r, node in sorted(hub.alerts.engine.firing(), key=lambda x: (x[0].id, x[1]))]
    return web.Response(text="\n".join(lines) + "\n", headers={
        "Content-Type": "text/plain; version=0.0.4; charset=utf-8", "X-Content-Type-Options": "nosniff"})


# Schema 2 families read from each node's latest sample: (metric, field, help).
GPU_FAMILIES = (
    ("forge_node_gpu_utilization", "util_percent", "GPU utilisation in percent."),
    ("forge_node_gpu_memory_used_bytes", "mem_used", "GPU memory used in bytes."),
    ("forge_node_gpu_memory_total_bytes", "mem_total", "GPU memory in bytes."),
    ("forge_node_gpu_temperature_celsius", "temp_c", "GPU temperature in degrees Celsius."),
    ("forge_node_gpu_power_watts", "power_w", "GPU power draw in watts."),
)
# (section, list in it, label naming an entry, families of that list)
DEVICE_FAMILIES = (
    ("disk", "devices", "device", (
        ("forge_node_disk_read_bytes_per_second", "read_bps", "Bytes read per second, per disk."),
        ("forge_node_disk_write_bytes_per_second", "write_bps", "Bytes written per second, per disk."),
        ("forge_node_disk_busy_percent", "busy_percent", "Percent of the interval a disk had I/O in flight."),
    )),
    ("net", "interfaces", "interface", (
        ("forge_node_network_receive_bytes_per_second", "rx_bps", "Bytes received per second, per interface."),
        ("forge_node_network_transmit_bytes_per_second", "tx_bps", "Bytes sent per second, per interface."),
    )),
)


def _device_families(hub) -> list[str]:
    """GPU, per-disk and per-interface gauges of schema 2 nodes, one family after another
    (each family's HELP and TYPE once). A family no node has is left out."""
    series: dict[str, list[str]] = {}
    for n in sorted(hub.fleet.nodes.values(), key=lambda n: n.id):
        latest = msgspec.json.decode(n.latest_raw) if n.latest_raw else None
        if not isinstance(latest, dict):
            continue
        seen: set[str] = set()
        for g in _objects(latest.get("gpus")):
            gpu = str(g.get("index"))
            if gpu in seen:  # two vendors' boards with the same index
                gpu = f"{g.get('vendor')}:{gpu}"
            seen.add(gpu)
            labels = f'node="{n.id}",gpu="{_label(gpu)}",name="{_label(str(g.get("name") or ""))}"'
            for metric, key, _ in GPU_FAMILIES:
                if _finite(g.get(key)):
                    series.setdefault(metric, []).append(f"{metric}{{{labels}}} {g[key]!r}")
        for section, part, label, families in DEVICE_FAMILIES:
            parent = latest.get(section)
            for d in _objects(parent.get(part) if isinstance(parent, dict) else None):
                if not isinstance(d.get("name"), str):
                    continue
                labels = f'node="{n.id}",{label}="{_label(d["name"])}"'
                for metric, key, _ in families:
                    if _finite(d.get(key)):
                        series.setdefault(metric, []).append(f"{metric}{{{labels}}} {d[key]!r}")
    lines = []
    helps = [*GPU_FAMILIES, *(f for *_, fams in DEVICE_FAMILIES for f in fams)]
    for metric, _, help_ in helps:
        if metric in series:
            lines += [f"# HELP {metric} {help_}", f"# TYPE {metric} gauge", *series[metric]]
    return lines


def _objects(value: object) -> list[dict]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _finite(v: object) -> bool:
    """Only finite numbers are exported: a gauge of NaN or +Inf breaks alerting rules."""
    return isinstance(v, (int, float)) and math.isfinite(v)


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _downloads_dir(request: web.Request) -> Path | None:
    d = hub_state(request).config.agent_downloads_dir
    return Path(d) if d and Path(d).is_dir() else None


def _os_of(name: str) -> str:
    n = name.lower()
    if n.endswith((".exe", ".msi")) or "win" in n:
        return "windows"
    if n.endswith((".dmg", ".pkg")) or "mac" in n or "darwin" in n:
        return "macos"
    return "linux"


@routes.get("/api/downloads")
@access("public")
@described("Agent builds this hub offers", wire.Downloads)
async def downloads(request: web.Request) -> web.Response:
    """Agent builds this hub offers (the folder set by --downloads), for the "Add a machine" page."""
    folder = _downloads_dir(request)
    files = []
    if folder:
        for f in sorted(folder.iterdir()):
            if f.is_file() and not f.name.startswith("."):
                files.append({"name": f.name, "size": f.stat().st_size, "os": _os_of(f.name),
                              "url": f"/downloads/{f.name}"})
    return web.json_response({"files": files})


@routes.get("/downloads/{name}")
@access("public")
@hidden
async def download(request: web.Request) -> web.StreamResponse:
    folder = _downloads_dir(request)
    name = request.match_info["name"]
    if folder is None or "/" in name or "\\" in name or name.startswith("."):
        raise web.HTTPNotFound()
    path = folder / name
    if not path.is_file():
        raise web.HTTPNotFound()
    return web.FileResponse(path, headers={"Content-Disposition": f'attachment; filename="{name}"'})


async def _revalidate_static(request: web.Request, response: web.StreamResponse) -> None:
    """Dashboard files are revalidated (ETag/Last-Modified) on each load, so an upgraded hub
    never runs old JS under a new index.html."""
    if request.path.startswith("/static/"):
        response.headers.setdefault("Cache-Control", "no-cache")


def setup_static(app: web.Application) -> None:
    app.on_response_prepare.append(_revalidate_static)
    if STATIC.exists():
        app.router.add_static("/static/", STATIC, append_version=False)
