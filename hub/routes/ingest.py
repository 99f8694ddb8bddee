"""POST /api/ingest/{node_id}: an agent's batch of samples."""
from __future__ import annotations

import math
import re
import time

from aiohttp import web

from forge_contracts import wire

from ..auth import access
from ..config import HubConfig
from ..errors import bad_request, read_object
from ..live import show_push
from ..openapi import NODE_PARAM, described
from ..state import hub_state
from ..store import Push
from ..validation import check_sample_size, clean_identity, clean_sample

routes = web.RouteTableDef()

NODE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def check_node_id(node_id: str) -> str:
    if not NODE_ID.match(node_id or ""):
        raise bad_request(f"node id {node_id!r} is not valid: use 1-64 letters, digits, '.', '_' or '-'",
                          "invalid_node_id")
    return node_id


def validate_batch(body: dict, now: float, config: HubConfig, body_bytes: int | None = None) -> tuple[dict, list[dict]]:
    """The identity and the samples to store; `body_bytes` (the request's size) lets a body
    smaller than one sample's limit skip measuring each sample."""
    samples = body.get("samples")
    if not isinstance(samples, list):
        raise bad_request("'samples' must be a list of sample objects")
    max_samples = config.max_samples_per_push
    if len(samples) > max_samples:
        raise bad_request(f"'samples' holds {len(samples)} samples; at most {max_samples} per push")
    cleaned = []
    for i, s in enumerate(samples):
        if not isinstance(s, dict):
            raise bad_request(f"samples[{i}] must be an object")
        ts = s.get("ts")
        if isinstance(ts, bool) or not isinstance(ts, (int, float)) or not math.isfinite(ts):
            raise bad_request(f"samples[{i}].ts must be a Unix time in seconds")
        if ts < 946684800:
            raise bad_request(f"samples[{i}].ts={ts} is not a plausible time (hub clock {now:.0f})")
        if ts > now + config.max_clock_skew_s:
            raise bad_request(f"samples[{i}].ts={ts:.3f} is {ts - now:.0f} s ahead of the hub's clock ({now:.0f}); "
                              f"at most {config.max_clock_skew_s:g} s ahead is accepted (max_clock_skew_s): "
                              "fix the machine's clock (NTP)", "clock_skew")
        v = s.get("schema_version", 1)
        if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 1000:
            raise bad_request(f"samples[{i}].schema_version must be a positive integer")
        if body_bytes is None or body_bytes > config.max_sample_bytes:
            check_sample_size(s, i, config.max_sample_bytes)
        cleaned.append(clean_sample(s, i, v))
    node = body.get("node") or {}
    if not isinstance(node, dict):
        raise bad_request("'node' must be an object describing the machine")
    return clean_identity(node), cleaned


@routes.post("/api/ingest/{node_id}")
@access("node")
@described("Push a batch of samples", wire.IngestReply, body=wire.IngestBatch, params=(NODE_PARAM,))
async def ingest(request: web.Request) -> web.Response:
    hub = hub_state(request)
    node_id = check_node_id(request.match_info["node_id"])
    await hub.tokens.require_node(request, node_id)
    body = await read_object(request, hub.config.max_batch_bytes)
    now = time.time()
    identity, samples = validate_batch(body, now, hub.config, request.content_length)
    res = await hub.samples.ingest(Push(node_id=node_id, identity=identity, samples=samples, now=now))
    show_push(hub, node_id, identity, samples, now)
    return web.json_response({"accepted": res.accepted, "duplicate": res.duplicate,
                              "live": hub.events.live(node_id)})
