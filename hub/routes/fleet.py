"""Viewer routes: the fleet, its events, and each node's history and live samples."""
from __future__ import annotations

import hmac
import time

import msgspec
from aiohttp import web

from forge_contracts import wire

from ..auth import access, is_admin, viewer_credential
from ..errors import ApiError, bad_request, not_found
from ..events import encode
from ..limits import time_param
from ..openapi import NODE_PARAM, SSE, TIME, described, query_param
from ..state import HubState, hub_state

routes = web.RouteTableDef()

RESOLUTIONS = ("1s", "1m", "1h")
MAX_POINTS = 8760  # a year of hours


def require_viewer(request: web.Request, hub: HubState) -> None:
    """Viewer routes are open unless the hub was started with a viewer token."""
    want = hub.config.viewer_token
    if not want:
        return
    tok = viewer_credential(request)
    if tok and hmac.compare_digest(tok.encode(), want.encode()) or is_admin(request, hub.config.admin_secret):
        return
    raise ApiError(401, "unauthorized", "this hub needs a viewer token to show the fleet")


def fleet_body(hub: HubState, now: float) -> dict:
    return {
        "now": now,
        "thresholds": {"degraded_s": hub.config.degraded_after_s, "offline_s": hub.config.offline_after_s},
        "nodes": [hub.fleet.summary(n, now, full=True) for n in sorted(hub.fleet.nodes.values(), key=lambda n: n.id)],
    }


@routes.get("/api/fleet")
@access("viewer")
@described("Every node: identity, status, latest sample, job counts", wire.Fleet)
async def fleet(request: web.Request) -> web.Response:
    hub = hub_state(request)
    require_viewer(request, hub)
    return web.Response(body=msgspec.json.encode(fleet_body(hub, time.time())), content_type="application/json")


@routes.get("/api/fleet/events")
@access("viewer")
@described("SSE: coalesced fleet summaries and status changes", SSE, content_type="text/event-stream")
async def fleet_events(request: web.Request) -> web.StreamResponse:
    hub = hub_state(request)
    require_viewer(request, hub)
    return await hub.events.stream(request, hub.events.fleet, [encode("hello", {"now": time.time()})])


def _node_or_404(hub: HubState, node_id: str):
    node = hub.fleet.nodes.get(node_id)
    if node is None:
        raise not_found(f"no node {node_id!r} has reported to this hub")
    return node


def _int_param(request: web.Request, name: str, default: int, lo: int, hi: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        v = int(raw)
    except ValueError:
        raise bad_request(f"'{name}' must be an integer") from None
    if not lo <= v <= hi:
        raise bad_request(f"'{name}' must be between {lo} and {hi}")
    return v


TIER_S = {"1s": 1, "1m": 60, "1h": 3600}


def _every_param(request: web.Request, resolution: str) -> int | None:
    """`every=S`: one averaged bucket per S seconds, for ranges longer than a chart has points for."""
    if "every" not in request.query:
        return None
    if resolution == "1s":
        raise bad_request("'every' thins the averaged tiers only: use it with resolution=1m or 1h")
    every = _int_param(request, "every", 0, TIER_S[resolution], 30 * 86400)
    if every % TIER_S[resolution]:
        raise bad_request(f"'every' must be a multiple of {TIER_S[resolution]} s for resolution={resolution}")
    return every


@routes.get("/api/nodes/{node_id}/snapshot")
@access("viewer")
@described("History of one node", wire.Snapshot, errors=("404",), params=(
    NODE_PARAM, query_param("points", {"type": "integer", "minimum": 1, "maximum": MAX_POINTS}),
    query_param("resolution", {"enum": ["1s", "1m", "1h"]}), query_param("since", TIME),
    query_param("every", {"type": "integer", "minimum": 60}), query_param("until", TIME)))
async def snapshot(request: web.Request) -> web.Response:
    hub = hub_state(request)
    require_viewer(request, hub)
    node = _node_or_404(hub, request.match_info["node_id"])
    resolution = request.query.get("resolution", "1s")
    if resolution not in RESOLUTIONS:
        raise bad_request(f"'resolution' must be one of {', '.join(RESOLUTIONS)}")
    points = _int_param(request, "points", 300, 1, MAX_POINTS)
    since, until = time_param(request, "since"), time_param(request, "until")
    every = _every_param(request, resolution)
    samples = await hub.samples.series_json_parts(node.id, resolution=resolution, points=points, since=since,
                                                  until=until, every_s=every)
    head = msgspec.json.encode({"node": hub.fleet.summary(node, time.time(), full=False), "resolution": resolution})
    tail = msgspec.json.encode({"processes": node.processes()})
    return await _json_around(request, head[:-1] + b',"samples":', samples, b"," + tail[1:])


async def _json_around(request: web.Request, head: bytes, middle: list[bytes], tail: bytes) -> web.StreamResponse:
    """One JSON body sent in its parts: a year of hours is ~8 MB of samples, and joining them
    into one body would copy them twice more (~8 ms each on this VM) before sending."""
    resp = web.StreamResponse(headers={"Content-Type": "application/json"})
    resp.content_length = len(head) + sum(map(len, middle)) + len(tail)
    await resp.prepare(request)
    for part in (head, *middle, tail):
        await resp.write(part)
    await resp.write_eof()
    return resp


@routes.get("/api/nodes/{node_id}/events")
@access("viewer")
@described("SSE: live samples of one node", SSE, errors=("404",), params=(NODE_PARAM,),
           content_type="text/event-stream")
async def node_events(request: web.Request) -> web.StreamResponse:
    hub = hub_state(request)
    require_viewer(request, hub)
    node = _node_or_404(hub, request.match_info["node_id"])
    subs = hub.events.nodes.setdefault(node.id, set())
    try:
        return await hub.events.stream(request, subs, [encode("hello", {"now": time.time(), "id": node.id})])
    finally:
        if not subs:
            hub.events.nodes.pop(node.id, None)
