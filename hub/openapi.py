"""The OpenAPI 3.1 document of the hub, served at /api/openapi.json.

Kept beside the routes by hand (small and readable); a test checks that every route
the app registers is described here and nothing else is.
"""
from __future__ import annotations

from forge_desktop import __version__

from .alerts.schema import METRICS, OPS, SEVERITIES

ERROR = {"$ref": "#/components/schemas/Error"}
ADMIN = [{"admin": []}]
NODE = [{"node": []}]
VIEWER = [{"viewer": []}, {}]


def _op(summary: str, security: list | None = None, body: str | None = None, params: list | None = None,
        ok: str = "200", response: dict | None = None, stream: bool = False) -> dict:
    op: dict = {"summary": summary, "responses": {
        ok: {"description": "OK", "content": {"text/event-stream" if stream else "application/json": {
            "schema": response or {"type": "object"}}}},
        "400": {"description": "bad input", "content": {"application/json": {"schema": ERROR}}},
        "401": {"description": "missing or invalid token", "content": {"application/json": {"schema": ERROR}}},
    }}
    if security is not None:
        op["security"] = security
    if body:
        op["requestBody"] = {"required": True, "content": {"application/json": {
            "schema": {"$ref": f"#/components/schemas/{body}"}}}}
    if params:
        op["parameters"] = params
    return op


def _path(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _query(name: str, schema: dict) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema}


def document() -> dict:
    job_id = {"name": "job_id", "in": "path", "required": True, "schema": {"type": "integer"}}
    paths = {
        "/api/health": {"get": _op("Is this a Forge hub, and which version")},
        "/api/ingest/{node_id}": {"post": _op("Push a batch of samples", NODE, "IngestBatch",
                                              [_path("node_id")])},
        "/api/fleet": {"get": _op("Every node: identity, status, latest sample, job counts", VIEWER)},
        "/api/fleet/events": {"get": _op("SSE: coalesced fleet summaries and status changes", VIEWER,
                                         stream=True)},
        "/api/nodes/{node_id}/snapshot": {"get": _op("History of one node", VIEWER, params=[
            _path("node_id"), _query("points", {"type": "integer", "minimum": 1, "maximum": 5000}),
            _query("resolution", {"enum": ["1s", "1m", "1h"]}), _query("since", {"type": "number"}),
            _query("until", {"type": "number"})])},
        "/api/nodes/{node_id}/events": {"get": _op("SSE: live samples of one node", VIEWER,
                                                   params=[_path("node_id")], stream=True)},
        "/api/tokens": {
            "post": _op("Create a node token, or a one-time join code", ADMIN, "TokenRequest", ok="201"),
            "get": _op("List tokens (never the tokens themselves)", ADMIN)},
        "/api/tokens/{node_id}": {"delete": _op("Revoke a node's token", ADMIN, params=[_path("node_id")])},
        "/api/join": {"post": _op("Trade a join code for a node token (rate limited)", [], "JoinRequest",
                                  ok="201")},
        "/api/jobs": {
            "post": _op("Enqueue a job, a batch or a sweep", ADMIN, "JobSubmit", ok="201"),
            "get": _op("The queue, filtered", VIEWER, params=[
                _query("status", {"enum": ["pending", "running", "succeeded", "failed", "cancelled"]}),
                _query("type", {"type": "string"}), _query("node", {"type": "string"}),
                _query("batch", {"type": "string"}), _query("limit", {"type": "integer"}),
                _query("offset", {"type": "integer"})])},
        "/api/jobs/claim": {"post": _op("Atomically claim the next job this worker can run", NODE, "Claim")},
        "/api/jobs/{job_id}": {"get": _op("One job with its attempts and result", VIEWER, params=[job_id])},
        "/api/jobs/{job_id}/progress": {"post": _op("Progress and lease extension", NODE, "Progress",
                                                    [job_id])},
        "/api/jobs/{job_id}/result": {"post": _op("Result or error of one attempt (idempotent)", NODE,
                                                  "Result", [job_id])},
        "/api/jobs/{job_id}/cancel": {"post": _op("Cancel a pending or running job", ADMIN, params=[job_id])},
        "/api/batches/{batch_id}": {"get": _op("A batch or sweep with its jobs", VIEWER,
                                               params=[_path("batch_id")])},
        "/api/workers/{worker_id}/heartbeat": {"post": _op("Worker heartbeat; renews its leases", NODE,
                                                           "Heartbeat", [_path("worker_id")])},
        "/api/alert-rules": {
            "get": _op("Alert rules (the stock ones included)", VIEWER),
            "post": _op("Add an alert rule", ADMIN, "AlertRule", ok="201")},
        "/api/alert-rules/{id}": {
            "put": _op("Replace an alert rule", ADMIN, "AlertRule", [_path("id")]),
            "delete": _op("Delete an alert rule (its open alerts resolve quietly)", ADMIN, params=[_path("id")])},
        "/api/channels": {
            "get": _op("Notification channels, URLs masked, with each one's last error", ADMIN),
            "post": _op("Add a channel (an Apprise URL)", ADMIN, "Channel", ok="201")},
        "/api/channels/{id}": {"delete": _op("Delete a channel", ADMIN, params=[_path("id")])},
        "/api/channels/{id}/test": {"post": _op("Send a test notification now", ADMIN, params=[_path("id")])},
        "/api/alerts": {"get": _op("Alert history, newest first", VIEWER, params=[
            _query("state", {"enum": ["firing", "paused", "resolved"]}), _query("node", {"type": "string"}),
            _query("limit", {"type": "integer", "minimum": 1, "maximum": 1000})])},
        "/api/alerts/events": {"get": _op("SSE: alert events only (`event: alert`)", VIEWER, stream=True)},
        "/api/nodes/{node_id}/maintenance": {"post": _op("Expect a node offline until a time (no offline alerts)",
                                                         ADMIN, "Maintenance", [_path("node_id")])},
        "/api/downloads": {"get": _op("Agent builds this hub offers")},
        "/api/openapi.json": {"get": _op("This document")},
        "/metrics": {"get": _op("Prometheus text exposition", VIEWER)},
    }
    obj = {"type": "object"}
    schemas = {
        "Error": {"type": "object", "required": ["error", "message"],
                  "properties": {"error": {"type": "string"}, "message": {"type": "string"}}},
        "IngestBatch": {"type": "object", "required": ["samples"], "properties": {
            "node": obj, "samples": {"type": "array", "maxItems": 1000, "items": {
                "type": "object", "required": ["ts"], "properties": {
                    "ts": {"type": "number"}, "schema_version": {"type": "integer", "minimum": 1}},
                "additionalProperties": True}}}},
        "TokenRequest": {"type": "object", "properties": {
            "node_id": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"},
            "join": {"type": "boolean"}, "ttl_minutes": {"type": "number"}}},
        "JoinRequest": {"type": "object", "required": ["code"], "properties": {
            "code": {"type": "string"}, "node_id": {"type": "string"}}},
        "JobSubmit": {"type": "object", "properties": {
            "type": {"enum": ["jobshop", "prodplan", "mps"]}, "payload": obj, "priority": {"type": "integer"},
            "cores": {"type": "integer"}, "max_attempts": {"type": "integer"}, "label": {"type": "string"},
            "jobs": {"type": "array", "items": obj}, "sweep": obj}},
        "Claim": {"type": "object", "properties": {
            "types": {"type": "array", "items": {"type": "string"}}, "cores": {"type": "integer"},
            "wait_s": {"type": "number", "minimum": 0, "maximum": 30,
                       "description": "long-poll: hold an empty claim open until a job arrives"}}},
        "Progress": {"type": "object", "required": ["attempt"], "properties": {
            "attempt": {"type": "integer"}, "progress": obj}},
        "Result": {"type": "object", "required": ["attempt"], "properties": {
            "attempt": {"type": "integer"}, "result": obj, "error": {"type": "string"},
            "release": {"type": "boolean"}}},
        "AlertRule": {"type": "object", "required": ["name", "metric"], "additionalProperties": False,
                      "properties": {
            "name": {"type": "string"}, "metric": {"enum": list(METRICS)}, "op": {"enum": list(OPS)},
            "threshold": {"type": "number"}, "for_s": {"type": "number", "minimum": 0},
            "nodes": {"type": "array", "items": {"type": "string"}, "description": '["*"] or node ids'},
            "severity": {"enum": list(SEVERITIES)}, "channels": {"type": "array", "items": {"type": "integer"}},
            "enabled": {"type": "boolean"}}},
        "Channel": {"type": "object", "required": ["name", "url"], "additionalProperties": False, "properties": {
            "name": {"type": "string"}, "url": {"type": "string", "description": "an Apprise URL"}}},
        "Maintenance": {"type": "object", "required": ["until"], "properties": {
            "until": {"type": ["number", "null"], "description": "Unix seconds; null ends the window"}}},
        "Heartbeat": {"type": "object", "properties": {
            "running": {"type": "array", "items": {"type": "integer"}}, "paused": {"type": "boolean"}}},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "Forge hub", "version": __version__},
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": {
            "admin": {"type": "http", "scheme": "bearer", "description": "ADMIN_SECRET"},
            "node": {"type": "http", "scheme": "bearer", "description": "a node token"},
            "viewer": {"type": "http", "scheme": "bearer", "description": "viewer token, if the hub has one"},
        }},
    }
