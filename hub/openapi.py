"""The OpenAPI 3.1 document of the hub, served at /api/openapi.json.

Nothing here lists the routes: `document` walks the app's router, and each operation comes
from its handler's declarations, its security from `@access(...)` (hub/auth.py) and the
rest, summary, body, response, parameters and extra statuses, from `@described(...)` below;
a handler marked `@hidden` (a page or a file, not API) stays out, and one with neither
fails the document. Request and response schemas are generated from the msgspec Structs of
forge_contracts, so the document cannot drift from the payloads. Every status a route can
answer is listed; Schemathesis checks both against a live hub. Paths come sorted, so their
order does not hang on which module registers its routes first.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, TypeVar

import msgspec
from aiohttp import web

from forge_contracts import __version__
from forge_contracts import vocabulary, wire

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
_H = TypeVar("_H", bound=Callable)


@dataclass(frozen=True)
class Operation:
    """What a route's OpenAPI operation says beyond its security; see `described`."""
    summary: str
    response: type | dict | None = None
    ok: str = "200"
    body: type | None = None
    params: tuple[dict, ...] = ()
    errors: tuple[str, ...] = ()
    content_type: str = "application/json"
    also_ok: tuple[str, str] | None = None
    hidden: bool = False


def described(summary: str, response: type | dict | None = None, *, ok: str = "200", body: type | None = None,
              params: tuple[dict, ...] = (), errors: tuple[str, ...] = (), content_type: str = "application/json",
              also_ok: tuple[str, str] | None = None) -> Callable[[_H], _H]:
    """Describe a route for the OpenAPI document (put it under `@access(...)`): `response` and
    `body` are Structs (or a raw schema), `ok` the success status, `also_ok` a second success
    status and its description, `errors` the statuses the handler answers beyond those of its
    access, its body (400, 408, 413, 415), its parameters (400) and the Host check (421)."""
    op = Operation(summary, response, ok, body, tuple(params), tuple(errors), content_type, also_ok)

    def declare(handler: _H) -> _H:
        handler.forge_operation = op  # type: ignore[attr-defined]
        return handler
    return declare


def hidden(handler: _H) -> _H:
    """Keep a route out of the OpenAPI document (pages and files, not API)."""
    handler.forge_operation = Operation("", hidden=True)  # type: ignore[attr-defined]
    return handler


def operation_of(handler: Callable) -> Operation | None:
    return getattr(handler, "forge_operation", None)


def path_param(name: str, schema: dict | None = None) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": schema or {"type": "string"}}


def query_param(name: str, schema: dict) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema}


ROW_ID = {"type": "integer", "minimum": 0, "maximum": 2**63 - 1}
NODE_PARAM = path_param("node_id")
JOB_PARAM = path_param("job_id", ROW_ID)
ID_PARAM = path_param("id", ROW_ID)
TIME = {"type": "number", "minimum": -253402300799, "maximum": 253402300799}
SSE = {"type": "string", "description": "text/event-stream: `event:` and `data:` lines, data as JSON"}


def _ref(t: type) -> dict:
    return {"$ref": f"#/components/schemas/{t.__name__}"}


def _error(code: str) -> dict:
    return {"description": STATUS_TEXT[code], "content": {"application/json": {"schema": _ref(wire.Error)}}}


def _op(d: Operation) -> dict:
    schema = _ref(d.response) if isinstance(d.response, type) else (d.response or {"type": "object"})
    codes = {"421", *d.errors}
    if d.body is not None:
        codes.update(BODY_ERRORS)
    if d.params:
        codes.add("400")
    responses: dict = {d.ok: {"description": "OK", "content": {d.content_type: {"schema": schema}}}}
    for code in sorted(codes):
        responses[code] = _error(code)
    op: dict = {"summary": d.summary, "responses": responses}
    if d.body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(d.body)}}}
    if d.params:
        op["parameters"] = list(d.params)
    return op


def _secure(op: dict, level: Access) -> None:
    """The security the route declares, and the refusals that come with it."""
    op["security"] = SECURITY[level]
    ok, *answers = op["responses"].items()
    codes = dict(answers) | {code: _error(code) for code in REFUSALS[level]}
    op["responses"] = dict([ok, *sorted(codes.items())])


def _routes(router: web.UrlDispatcher) -> list[tuple[str, str, Callable]]:
    """(path, method, handler) of every route but static files and the implicit HEADs."""
    found = []
    for route in router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter")
        if path and route.method != "HEAD":
            found.append((path, route.method.lower(), route.handler))
    return found


def declared_access(router: web.UrlDispatcher) -> dict[tuple[str, str], Access | None]:
    """(path, method) -> the access its handler declares, for every route but static files."""
    return {(path, method): access_of(handler) for path, method, handler in _routes(router)}


def declared_operations(router: web.UrlDispatcher) -> dict[tuple[str, str], Operation | None]:
    """(path, method) -> the operation its handler describes (hidden ones too), for every route
    but static files."""
    return {(path, method): operation_of(handler) for path, method, handler in _routes(router)}


STRUCTS = (wire.Error, wire.Health, wire.IngestBatch, wire.IngestReply, wire.Fleet, wire.Snapshot, wire.TokenRequest,
           wire.TokenCreated, wire.TokenList, wire.Revoked, wire.JoinRequest, wire.JoinReply, wire.JobSubmit,
           wire.JobCreated, wire.JobFile, wire.JobFileSeen, wire.JobList, wire.Claim, wire.Claimed, wire.Progress, wire.Ok, wire.Result,
           wire.ResultOutcome, wire.Cancelled, wire.BatchCancelled, wire.JobCopy, wire.Heartbeat, wire.HeartbeatReply, wire.Downloads,
           vocabulary.Meta)


def document(router: web.UrlDispatcher) -> dict:
    paths: dict[str, dict] = {}
    for path, method, handler in _routes(router):
        described_as, level = operation_of(handler), access_of(handler)
        if described_as is None or level is None:
            raise LookupError(f"{method.upper()} {path}: its handler lacks @described (or @hidden) or @access")
        if described_as.hidden:
            continue
        op = _op(described_as)
        _secure(op, level)
        if described_as.also_ok:
            status, text = described_as.also_ok
            op["responses"][status] = {**op["responses"][described_as.ok], "description": text}
        paths.setdefault(path, {})[method] = op
    _, schemas = msgspec.json.schema_components(STRUCTS + al.STRUCTS, ref_template="#/components/schemas/{name}")
    return {
        "openapi": "3.1.0",
        "info": {"title": "Forge hub", "version": __version__},
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": schemas, "securitySchemes": {
            "admin": {"type": "http", "scheme": "bearer", "description": "ADMIN_SECRET"},
            "node": {"type": "http", "scheme": "bearer", "description": "a node token"},
            "viewer": {"type": "http", "scheme": "bearer", "description": "viewer token, if the hub has one"},
        }},
    }
