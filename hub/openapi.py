"""The OpenAPI 3.1 document of the hub, served at /api/openapi.json.

Paths are listed here by hand (a test checks that every route the app registers is
described and nothing else is); request and response schemas are generated from the
msgspec Structs of forge_contracts, so the document cannot drift from the payloads, and
each operation's security is read from the `@access(...)` its handler declares.
Every status a route can answer is listed; Schemathesis checks both against a live hub.
"""
from __future__ import annotations

import msgspec
from aiohttp import web

from forge_contracts import __version__
from forge_contracts import vocabulary, wire
from forge_contracts.vocabulary import JOB_STATUSES

from .alerts import schema as al
from .auth import Access, access_of

SECURITY: dict[Access, list] = {"admin": [{"admin": []}], "node": [{"node": []}],
                                "viewer": [{"viewer": []}, {}], "public": [{}]}
REFUSALS: dict[Access, tuple[str, ...]] = {"admin": ("401",), "node": ("401", "403"), "viewer": ("401",),
                                           "public": ()}

STATUS_TEXT = {
    "400": "bad input (the message names the field)",
    "401": "missing or invalid token",
    "403": "a node token used for another node",
    "404": "no such node, job or batch",
    "408": "the request body did not arrive in time",
    "409": "conflict with the job's or code's current state",
    "410": "the join code expired",
    "413": "body or one sample over the hub's limit (see /api/health)",
    "415": "the body is not sent as application/json",
    "421": "Host not in the hub's allowed_hosts",
    "429": "too many attempts from this address",
}
BODY_ERRORS = ("400", "408", "413", "415")


def _ref(t: type) -> dict:
    return {"$ref": f"#/components/schemas/{t.__name__}"}


def _error(code: str) -> dict:
    return {"description": STATUS_TEXT[code], "content": {"application/json": {"schema": _ref(wire.Error)}}}


def _op(summary: str, response: type | dict | None, *, ok: str = "200",
        body: type | None = None, params: list | None = None, errors: tuple[str, ...] = (),
        content_type: str = "application/json") -> dict:
    schema = _ref(response) if isinstance(response, type) else (response or {"type": "object"})
    codes = {"421", *errors}
    if body is not None:
        codes.update(BODY_ERRORS)
    if params:
        codes.add("400")
    responses: dict = {ok: {"description": "OK", "content": {content_type: {"schema": schema}}}}
    for code in sorted(codes):
        responses[code] = _error(code)
    op: dict = {"summary": summary, "responses": responses}
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(body)}}}
    if params:
        op["parameters"] = params
    return op


def _secure(op: dict, level: Access) -> None:
    """The security the route declares, and the refusals that come with it."""
    op["security"] = SECURITY[level]
    ok, *answers = op["responses"].items()
    codes = dict(answers) | {code: _error(code) for code in REFUSALS[level]}
    op["responses"] = dict([ok, *sorted(codes.items())])


def declared_access(router: web.UrlDispatcher) -> dict[tuple[str, str], Access | None]:
    """(path, method) -> the access its handler declares, for every route but static files."""
    found: dict[tuple[str, str], Access | None] = {}
    for route in router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter")
        if path and route.method != "HEAD":
            found[(path, route.method.lower())] = access_of(route.handler)
    return found


def _path(name: str, schema: dict | None = None) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": schema or {"type": "string"}}


def _query(name: str, schema: dict) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema}


STRUCTS = (wire.Error, wire.Health, wire.IngestBatch, wire.IngestReply, wire.Fleet, wire.Snapshot, wire.TokenRequest,
           wire.TokenCreated, wire.TokenList, wire.Revoked, wire.JoinRequest, wire.JoinReply, wire.JobSubmit,
           wire.JobCreated, wire.JobFile, wire.JobFileSeen, wire.JobList, wire.Claim, wire.Claimed, wire.Progress, wire.Ok, wire.Result,
           wire.ResultOutcome, wire.Cancelled, wire.BatchCancelled, wire.Heartbeat, wire.HeartbeatReply, wire.Downloads,
           vocabulary.Meta)


def document(router: web.UrlDispatcher) -> dict:
    job_id = _path("job_id", {"type": "integer", "minimum": 0, "maximum": 2**63 - 1})
    alert_id = _path("id", {"type": "integer", "minimum": 0, "maximum": 2**63 - 1})
    node_id = _path("node_id")
    time_q = {"type": "number", "minimum": -253402300799, "maximum": 253402300799}
    sse = {"type": "string", "description": "text/event-stream: `event:` and `data:` lines, data as JSON"}
    paths = {
        "/api/health": {"get": _op("Is this a Forge hub, which version, and its size limits", wire.Health)},
        "/api/ingest/{node_id}": {"post": _op("Push a batch of samples", wire.IngestReply, body=wire.IngestBatch,
                                              params=[node_id])},
        "/api/fleet": {"get": _op("Every node: identity, status, latest sample, job counts", wire.Fleet)},
        "/api/fleet/events": {"get": _op("SSE: coalesced fleet summaries and status changes", sse,
                                         content_type="text/event-stream")},
        "/api/nodes/{node_id}/snapshot": {"get": _op("History of one node", wire.Snapshot, errors=("404",),
                                                     params=[
            node_id, _query("points", {"type": "integer", "minimum": 1, "maximum": 5000}),
            _query("resolution", {"enum": ["1s", "1m", "1h"]}), _query("since", time_q),
            _query("every", {"type": "integer", "minimum": 60}),
            _query("until", time_q)])},
        "/api/nodes/{node_id}/events": {"get": _op("SSE: live samples of one node", sse, errors=("404",),
                                                   params=[node_id], content_type="text/event-stream")},
        "/api/tokens": {
            "post": _op("Create a node token, or a one-time join code", wire.TokenCreated, ok="201",
                        body=wire.TokenRequest),
            "get": _op("List tokens (never the tokens themselves)", wire.TokenList)},
        "/api/tokens/{node_id}": {"delete": _op("Revoke a node's token", wire.Revoked, params=[node_id],
                                                errors=("404",))},
        "/api/join": {"post": _op("Trade a join code for a node token (rate limited)", wire.JoinReply,
                                  ok="201", body=wire.JoinRequest, errors=("401", "409", "410", "429"))},
        "/api/jobs": {
            "post": _op("Enqueue a job, a batch or a sweep", wire.JobCreated, ok="201", body=wire.JobSubmit),
            "get": _op("The queue, filtered", wire.JobList, params=[
                _query("status", {"enum": list(JOB_STATUSES)}),
                _query("type", {"type": "string"}), _query("node", {"type": "string"}),
                _query("batch", {"type": "string"}), _query("limit", {"type": "integer"}),
                _query("offset", {"type": "integer", "minimum": 0, "maximum": 2**63 - 1}),
                _query("results", {"enum": ["0", "1"]})])},
        "/api/jobs/upload": {"post": _op("Submit a file (JSON job or payload, JSPLIB, MPS/LP), sniffed as "
                                         "`forge jobs submit` does; `check` only says what it would submit", wire.JobFileSeen, ok="201", body=wire.JobFile)},
        "/api/jobs/claim": {"post": _op("Atomically claim the next job this worker can run", wire.Claimed,
                                        body=wire.Claim)},
        "/api/jobs/{job_id}": {"get": _op("One job with its attempts and result", {"type": "object"},
                                          params=[job_id], errors=("404",))},
        "/api/jobs/{job_id}/progress": {"post": _op("Progress and lease extension", wire.Ok,
                                                    body=wire.Progress, params=[job_id], errors=("404", "409"))},
        "/api/jobs/{job_id}/result": {"post": _op("Result or error of one attempt (idempotent)",
                                                  wire.ResultOutcome, body=wire.Result, params=[job_id],
                                                  errors=("404",))},
        "/api/jobs/{job_id}/cancel": {"post": _op("Cancel a pending or running job", wire.Cancelled,
                                                  params=[job_id], errors=("404", "409"))},
        "/api/jobs/{job_id}/retry": {"post": _op("Submit a failed or cancelled job again, as a new job",
                                                 wire.JobCopy, ok="201", params=[job_id], errors=("404", "409"))},
        "/api/jobs/{job_id}/resubmit": {"post": _op("Submit the job again with another seed", wire.JobCopy,
                                                    ok="201", params=[job_id], errors=("404", "409"))},
        "/api/batches/{batch_id}": {"get": _op("A batch or sweep with its jobs", {"type": "object"},
                                               params=[_path("batch_id")], errors=("404",))},
        "/api/batches/{batch_id}/cancel": {"post": _op("Cancel every job of a batch that has not ended",
                                                       wire.BatchCancelled, params=[_path("batch_id")],
                                                       errors=("404",))},
        "/api/workers/{worker_id}/heartbeat": {"post": _op("Worker heartbeat; renews its leases",
                                                           wire.HeartbeatReply, body=wire.Heartbeat,
                                                           params=[_path("worker_id")])},
        "/api/alert-rules": {
            "get": _op("Alert rules (the stock ones included)", al.RuleList),
            "post": _op("Add an alert rule", al.Rule, ok="201", body=al.RuleIn)},
        "/api/alert-rules/{id}": {
            "put": _op("Replace an alert rule", al.Rule, body=al.RuleIn, params=[alert_id], errors=("404",)),
            "delete": _op("Delete an alert rule (its open alerts resolve quietly)", al.Deleted,
                          params=[alert_id], errors=("404",))},
        "/api/channels": {
            "get": _op("Notification channels, URLs masked, with each one's last error", al.ChannelList),
            "post": _op("Add a channel (an Apprise URL)", al.ChannelView, ok="201", body=al.ChannelIn)},
        "/api/channels/{id}": {"delete": _op("Delete a channel", al.Deleted, params=[alert_id],
                                             errors=("404",))},
        "/api/channels/{id}/test": {"post": _op("Send a test notification now", al.TestReply,
                                                params=[alert_id], errors=("404",))},
        "/api/alerts": {"get": _op("Alert history, newest first", al.AlertList, params=[
            _query("state", {"enum": ["firing", "paused", "resolved"]}), _query("node", {"type": "string"}),
            _query("limit", {"type": "integer", "minimum": 1, "maximum": 1000})])},
        "/api/alerts/events": {"get": _op("SSE: alert events only (`event: alert`)", sse,
                                          content_type="text/event-stream")},
        "/api/nodes/{node_id}/maintenance": {"post": _op("Expect a node offline until a time (no offline alerts)", al.MaintenanceReply, body=al.MaintenanceIn,
                                                         params=[node_id], errors=("404",))},
        "/api/meta": {"get": _op("Vocabularies for views: job statuses, outcomes, node statuses, time ranges "
                                 "and job types, with meanings and colours", vocabulary.Meta)},
        "/api/downloads": {"get": _op("Agent builds this hub offers", wire.Downloads)},
        "/api/openapi.json": {"get": _op("This document", {"type": "object"})},
        "/metrics": {"get": _op("Prometheus text exposition (finite values only)", {"type": "string"},
                                content_type="text/plain; version=0.0.4")},
    }
    access = declared_access(router)
    for path, ops in paths.items():
        for method, op in ops.items():
            level = access.get((path, method))
            if level is None:
                raise LookupError(f"{method.upper()} {path}: no route, or its handler declares no @access")
            _secure(op, level)
    upload = paths["/api/jobs/upload"]["post"]["responses"]
    upload["200"] = {**upload["201"], "description": "OK (a check: nothing submitted)"}
    _, schemas = msgspec.json.schema_components(STRUCTS + al.STRUCTS, ref_template="#/components/schemas/{name}")
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
