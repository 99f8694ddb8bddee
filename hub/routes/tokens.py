"""Admin token routes and the public join-code exchange."""
from __future__ import annotations

import time
from dataclasses import asdict

from aiohttp import web

from forge_contracts import wire

from ..auth import access, hash_secret, new_join_code, new_token, normalize_join_code, require_admin
from ..errors import ApiError, bad_request, not_found, read_object
from ..openapi import NODE_PARAM, described
from ..state import HubState, hub_state
from .ingest import check_node_id

routes = web.RouteTableDef()


@routes.post("/api/tokens")
@access("admin")
@described("Create a node token, or a one-time join code", wire.TokenCreated, ok="201", body=wire.TokenRequest)
async def create_token(request: web.Request) -> web.Response:
    hub = hub_state(request)
    require_admin(request, hub.config.admin_secret)
    body = await read_object(request)
    now = time.time()
    if body.get("join"):
        ttl = body.get("ttl_minutes", hub.config.join_ttl_minutes)
        if isinstance(ttl, bool) or not isinstance(ttl, (int, float)) or not 0 < ttl <= 7 * 24 * 60:
            raise bad_request("'ttl_minutes' must be a number of minutes between 0 and 10080")
        code = new_join_code()
        expires = now + ttl * 60
        await hub.nodes.put_join_code(hash_secret(code), now=now, expires_at=expires)
        return web.json_response({"code": code, "expires_at": expires, "ttl_minutes": ttl}, status=201)
    node_id = body.get("node_id")
    if not isinstance(node_id, str):
        raise bad_request("'node_id' is required (a string naming the machine)")
    check_node_id(node_id)
    token = new_token()
    await hub.nodes.put_token(node_id, token_hash=hash_secret(token), now=now)
    hub.tokens.forget_node(node_id)
    return web.json_response({"node_id": node_id, "token": token}, status=201)


@routes.get("/api/tokens")
@access("admin")
@described("List tokens (never the tokens themselves)", wire.TokenList)
async def list_tokens(request: web.Request) -> web.Response:
    hub = hub_state(request)
    require_admin(request, hub.config.admin_secret)
    return web.json_response({"tokens": [asdict(t) for t in await hub.nodes.list_tokens()]})


@routes.delete("/api/tokens/{node_id}")
@access("admin")
@described("Revoke a node's token", wire.Revoked, params=(NODE_PARAM,), errors=("404",))
async def revoke_token(request: web.Request) -> web.Response:
    hub = hub_state(request)
    require_admin(request, hub.config.admin_secret)
    node_id = request.match_info["node_id"]
    if not await hub.nodes.revoke_token(node_id, time.time()):
        raise not_found(f"no live token for node {node_id!r}")
    hub.tokens.forget_node(node_id)
    return web.json_response({"revoked": node_id})


def _rate_limit(hub: HubState, request: web.Request, now: float) -> None:
    if not hub.join_attempts.allow(request.remote or "?", now):
        raise ApiError(429, "rate_limited", "too many join attempts from this address; wait a minute")


@routes.post("/api/join")
@access("public")
@described("Trade a join code for a node token (rate limited)", wire.JoinReply, ok="201", body=wire.JoinRequest,
           errors=("401", "409", "410", "429"))
async def join(request: web.Request) -> web.Response:
    hub = hub_state(request)
    now = time.time()
    _rate_limit(hub, request, now)
    body = await read_object(request)
    code = body.get("code")
    if not isinstance(code, str) or not code.strip():
        raise bad_request("'code' is required: the join code shown by `forge tokens join-code`")
    node_id = body.get("node_id") or body.get("hostname")
    if not isinstance(node_id, str):
        raise bad_request("'node_id' (or 'hostname') is required")
    check_node_id(node_id)
    token = new_token()
    redeemed = await hub.nodes.redeem_join_code(hash_secret(normalize_join_code(code)), node_id=node_id,
                                                token_hash=hash_secret(token), now=now)
    outcome, node_id = redeemed.outcome, redeemed.node_id
    messages = {
        "unknown": (401, "join_code_unknown", "this join code is not known to the hub; check it or make a new one"),
        "used": (409, "join_code_used", "this join code was already used; make a new one with `forge tokens join-code`"),
        "expired": (410, "join_code_expired", "this join code has expired; make a new one with `forge tokens join-code`"),
    }
    if outcome in messages:
        raise ApiError(*messages[outcome])
    hub.tokens.forget_node(node_id)
    return web.json_response({"node_id": node_id, "token": token}, status=201)
