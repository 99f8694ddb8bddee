"""Alert rules, channels, alert history and node maintenance windows."""
from __future__ import annotations

import math
import time
from typing import Awaitable, Callable

import msgspec
from aiohttp import web

from ..alerts.rules import RuleError, check_rule
from ..alerts.schema import (Alert, AlertList, ChannelIn, ChannelList, ChannelView, Deleted, MaintenanceIn,
                             MaintenanceReply, Rule, RuleIn, RuleList, TestReply)
from ..alerts.sealing import mask, parses
from ..store.alerts import AlertStore, ChannelRow
from ..auth import access, require_admin
from ..errors import ApiError, bad_request, not_found, read_object
from ..events import encode
from ..openapi import ID_PARAM, NODE_PARAM, SSE, described, query_param
from ..state import HubState, hub_state
from .fleet import require_viewer

routes = web.RouteTableDef()

ALERT_STATES = ("firing", "paused", "resolved")
MAX_ALERTS = 1000


def _convert(body: dict, type_: type):
    try:
        return msgspec.convert(body, type_)
    except msgspec.ValidationError as e:
        text = str(e)
        field = text.rsplit("$.", 1)[1].split("[")[0].strip("`") if "$." in text else None
        if field is None and "`" in text:  # "Object contains unknown field `x`", "missing required field `x`"
            field = text.split("`")[1]
        raise ApiError(400, "invalid_field", f"{field}: {text}" if field else text) from None


def _rule_json(r: Rule) -> dict:
    return msgspec.to_builtins(r)


def _alert_json(a: Alert) -> dict:
    return msgspec.to_builtins(a)


def channel_json(hub: HubState, c: ChannelRow) -> dict:
    return {"id": c.id, "name": c.name, "url": mask(hub.alerts.sealer.open(c.sealed_url)),
            "last_error": c.last_error, "last_sent_at": c.last_sent_at}


async def _checked_rule(request: web.Request, hub: HubState) -> RuleIn:
    rule = _convert(await read_object(request), RuleIn)
    channels = {c.id for c in await hub.alerts.store.channels()}
    try:
        check_rule(rule, set(hub.fleet.nodes), channels)
    except RuleError as e:
        raise ApiError(400, "invalid_field", f"{e.field}: {e}") from None
    return rule


MAX_ID = 2**63 - 1  # a store's integer key


def _id(request: web.Request) -> int:
    try:
        value = int(request.match_info["id"])
    except ValueError:
        raise bad_request("the id in the path must be an integer") from None
    if not 0 <= value <= MAX_ID:
        raise bad_request(f"the id in the path must be between 0 and {MAX_ID}")
    return value


@routes.get("/api/alert-rules")
@access("viewer")
@described("Alert rules (the stock ones included)", RuleList)
async def list_rules(request: web.Request) -> web.Response:
    hub = hub_state(request)
    require_viewer(request, hub)
    return web.json_response({"rules": [_rule_json(r) for r in await hub.alerts.store.rules()]})


@routes.post("/api/alert-rules")
@access("admin")
@described("Add an alert rule", Rule, ok="201", body=RuleIn)
async def add_rule(request: web.Request) -> web.Response:
    hub = hub_state(request)
    require_admin(request, hub.config.admin_secret)
    rule = await hub.alerts.store.add_rule(await _checked_rule(request, hub), time.time())
    await hub.alerts.reload_rules()
    return web.json_response(_rule_json(rule), status=201)


@routes.put("/api/alert-rules/{id}")
@access("admin")
@described("Replace an alert rule", Rule, body=RuleIn, params=(ID_PARAM,), errors=("404",))
async def update_rule(request: web.Request) -> web.Response:
    hub = hub_state(request)
    require_admin(request, hub.config.admin_secret)
    rule_id = _id(request)
    rule = await hub.alerts.store.update_rule(rule_id, await _checked_rule(request, hub), time.time())
    if rule is None:
        raise not_found(f"no alert rule {rule_id}")
    await hub.alerts.reload_rules()
    return web.json_response(_rule_json(rule))


@routes.delete("/api/alert-rules/{id}")
@access("admin")
@described("Delete an alert rule (its open alerts resolve quietly)", Deleted, params=(ID_PARAM,), errors=("404",))
async def delete_rule(request: web.Request) -> web.Response:
    return await _delete(request, "alert rule", lambda store, rule_id: store.delete_rule(rule_id, time.time()))


@routes.get("/api/channels")
@access("admin")
@described("Notification channels, URLs masked, with each one's last error", ChannelList)
async def list_channels(request: web.Request) -> web.Response:
    hub = hub_state(request)
    require_admin(request, hub.config.admin_secret)
    return web.json_response({"channels": [channel_json(hub, c) for c in await hub.alerts.store.channels()]})


@routes.post("/api/channels")
@access("admin")
@described("Add a channel (an Apprise URL)", ChannelView, ok="201", body=ChannelIn)
async def add_channel(request: web.Request) -> web.Response:
    hub = hub_state(request)
    require_admin(request, hub.config.admin_secret)
    ch = _convert(await read_object(request), ChannelIn)
    if not ch.name.strip() or len(ch.name) > 120:
        raise ApiError(400, "invalid_field", "name: 'name' must be 1-120 characters")
    if not parses(ch.url):
        raise ApiError(400, "invalid_field", "url: Apprise cannot parse this URL (see https://github.com/caronc/"
                                             "apprise/wiki for the services and their URL forms)")
    row = await hub.alerts.store.add_channel(ch.name.strip(), hub.alerts.sealer.seal(ch.url), time.time())
    return web.json_response(channel_json(hub, row), status=201)


@routes.delete("/api/channels/{id}")
@access("admin")
@described("Delete a channel", Deleted, params=(ID_PARAM,), errors=("404",))
async def delete_channel(request: web.Request) -> web.Response:
    return await _delete(request, "channel", lambda store, channel_id: store.delete_channel(channel_id))


async def _delete(request: web.Request, what: str,
                  remove: Callable[[AlertStore, int], Awaitable[bool]]) -> web.Response:
    """Delete a rule or a channel (admin); the engine reloads its rules, which name channels."""
    hub = hub_state(request)
    require_admin(request, hub.config.admin_secret)
    item_id = _id(request)
    if not await remove(hub.alerts.store, item_id):
        raise not_found(f"no {what} {item_id}")
    await hub.alerts.reload_rules()
    return web.json_response({"deleted": item_id})


@routes.post("/api/channels/{id}/test")
@access("admin")
@described("Send a test notification now", TestReply, params=(ID_PARAM,), errors=("404",))
async def test_channel(request: web.Request) -> web.Response:
    hub = hub_state(request)
    require_admin(request, hub.config.admin_secret)
    channel_id = _id(request)
    error = await hub.alerts.notifier.test(channel_id)
    if error == "no such channel":
        raise not_found(f"no channel {channel_id}")
    return web.json_response({"ok": error is None, "error": error})


@routes.get("/api/alerts/events")
@access("viewer")
@described("SSE: alert events only (`event: alert`)", SSE, content_type="text/event-stream")
async def alert_events(request: web.Request) -> web.StreamResponse:
    """SSE of `event: alert` only, for pages and apps that show alerts but not the fleet."""
    hub = hub_state(request)
    require_viewer(request, hub)
    return await hub.events.stream(request, hub.events.alerts, [encode("hello", {"now": time.time()})])


@routes.get("/api/alerts")
@access("viewer")
@described("Alert history, newest first", AlertList, params=(
    query_param("state", {"enum": ["firing", "paused", "resolved"]}), query_param("node", {"type": "string"}),
    query_param("limit", {"type": "integer", "minimum": 1, "maximum": 1000})))
async def list_alerts(request: web.Request) -> web.Response:
    hub = hub_state(request)
    require_viewer(request, hub)
    state = request.query.get("state") or None
    if state is not None and state not in ALERT_STATES:
        raise bad_request(f"'state' must be one of {', '.join(ALERT_STATES)}")
    raw = request.query.get("limit", "100")
    try:
        limit = int(raw)
    except ValueError:
        raise bad_request("'limit' must be an integer") from None
    if not 1 <= limit <= MAX_ALERTS:
        raise bad_request(f"'limit' must be between 1 and {MAX_ALERTS}")
    alerts = await hub.alerts.store.alerts(state, request.query.get("node") or None, limit)
    return web.json_response({"alerts": [_alert_json(a) for a in alerts]})


@routes.post("/api/nodes/{node_id}/maintenance")
@access("admin")
@described("Expect a node offline until a time (no offline alerts)", MaintenanceReply, body=MaintenanceIn,
           params=(NODE_PARAM,), errors=("404",))
async def maintenance(request: web.Request) -> web.Response:
    hub = hub_state(request)
    require_admin(request, hub.config.admin_secret)
    node_id = request.match_info["node_id"]
    if node_id not in hub.fleet.nodes:
        raise not_found(f"no node {node_id!r} has reported to this hub")
    m = _convert(await read_object(request), MaintenanceIn)
    if m.until is not None and not math.isfinite(m.until):
        raise ApiError(400, "invalid_field", "until: must be a Unix time in seconds, or null")
    await hub.alerts.store.set_maintenance(node_id, m.until, time.time())
    if m.until is None:
        hub.alerts.engine.maintenance.pop(node_id, None)
    else:
        hub.alerts.engine.maintenance[node_id] = m.until
    return web.json_response({"node": node_id, "until": m.until})
