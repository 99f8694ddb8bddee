"""POST /api/ingest/{node_id}: an agent's batch of samples."""
from __future__ import annotations

import math
import re
import time

from aiohttp import web

from ..errors import bad_request, read_object
from ..live import show_push
from ..state import hub_state
from ..store import Push

routes = web.RouteTableDef()

NODE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
IDENTITY_KEYS = ("hostname", "os", "os_version", "arch", "cores", "physical_cores", "agent_version")


def check_node_id(node_id: str) -> str:
    if not NODE_ID.match(node_id or ""):
        raise bad_request(f"node id {node_id!r} is not valid: use 1-64 letters, digits, '.', '_' or '-'",
                          "invalid_node_id")
    return node_id


def validate_batch(body: dict, now: float, max_samples: int) -> tuple[dict, list[dict]]:
    samples = body.get("samples")
    if not isinstance(samples, list):
        raise bad_request("'samples' must be a list of sample objects")
    if len(samples) > max_samples:
        raise bad_request(f"'samples' holds {len(samples)} samples; at most {max_samples} per push")
    for i, s in enumerate(samples):
        if not isinstance(s, dict):
            raise bad_request(f"samples[{i}] must be an object")
        ts = s.get("ts")
        if isinstance(ts, bool) or not isinstance(ts, (int, float)) or not math.isfinite(ts):
            raise bad_request(f"samples[{i}].ts must be a Unix time in seconds")
        if ts > now + 86400 or ts < 946684800:
            raise bad_request(f"samples[{i}].ts={ts} is not a plausible time (hub clock {now:.0f})")
        v = s.get("schema_version", 1)
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise bad_request(f"samples[{i}].schema_version must be a positive integer")
    node = body.get("node") or {}
    if not isinstance(node, dict):
        raise bad_request("'node' must be an object describing the machine")
    identity = {k: node[k] for k in IDENTITY_KEYS if k in node}
    for k in ("hostname", "os", "os_version", "arch", "agent_version"):
        if k in identity and not isinstance(identity[k], (str, type(None))):
            raise bad_request(f"node.{k} must be a string")
        if isinstance(identity.get(k), str):
            identity[k] = identity[k][:128]
    for k in ("cores", "physical_cores"):
        if k in identity and identity[k] is not None and (
                isinstance(identity[k], bool) or not isinstance(identity[k], int) or identity[k] < 0):
            raise bad_request(f"node.{k} must be a non-negative integer")
    return identity, samples


@routes.post("/api/ingest/{node_id}")
async def ingest(request: web.Request) -> web.Response:
    hub = hub_state(request)
    node_id = check_node_id(request.match_info["node_id"])
    await hub.tokens.require_node(request, node_id)
    body = await read_object(request)
    now = time.time()
    identity, samples = validate_batch(body, now, hub.config.max_samples_per_push)
    res = await hub.samples.ingest(Push(node_id=node_id, identity=identity, samples=samples, now=now))
    show_push(hub, node_id, identity, samples, now)
    return web.json_response({"accepted": res.accepted, "duplicate": res.duplicate,
                              "live": hub.events.live(node_id)})
