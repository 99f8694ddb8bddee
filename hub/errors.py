"""JSON errors: every failure the API reports is `{"error": code, "message": text}`."""
from __future__ import annotations

import asyncio
import logging
import time

import msgspec

from aiohttp import web

log = logging.getLogger("forge.hub")


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def bad_request(message: str, code: str = "bad_request") -> ApiError:
    return ApiError(400, code, message)


def not_found(message: str) -> ApiError:
    return ApiError(404, "not_found", message)


def json_error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": code, "message": message}, status=status)


_HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 408: "timeout", 409: "conflict", 413: "too_large",
               415: "unsupported_media_type", 429: "rate_limited"}


STORE_UNAVAILABLE = web.AppKey("store_unavailable", tuple)
UNAVAILABLE_LOG_EVERY_S = 10.0
_unavailable_logged = [0.0]


def store_unavailable(request: web.Request, e: Exception) -> web.Response:
    """503 while the store's database is away; logged once per UNAVAILABLE_LOG_EVERY_S, not
    once per request (every agent's push fails at once)."""
    now = time.monotonic()
    if now - _unavailable_logged[0] >= UNAVAILABLE_LOG_EVERY_S:
        _unavailable_logged[0] = now
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        log.warning("the store's database is unavailable (%s); answering 503 until it is back", first)
    resp = json_error(503, "store_unavailable", "the hub's database is unavailable for now; try again shortly")
    resp.headers["Retry-After"] = "2"
    return resp


@web.middleware
async def error_middleware(request: web.Request, handler):
    try:
        return await handler(request)
    except ApiError as e:
        return json_error(e.status, e.code, e.message)
    except web.HTTPRequestEntityTooLarge:
        return json_error(413, "too_large", f"request body too large (limit {request.client_max_size} bytes)")
    except web.HTTPException as e:
        if e.status < 400 or not request.path.startswith("/api/"):
            raise
        return json_error(e.status, _HTTP_CODES.get(e.status, "error"), e.reason or "error")
    except Exception as e:
        if isinstance(e, request.config_dict.get(STORE_UNAVAILABLE, ())):
            return store_unavailable(request, e)
        log.exception("unhandled error on %s %s", request.method, request.path)
        return json_error(500, "internal", "internal error; see the hub log")


BODY_TIMEOUT = web.AppKey("body_timeout_s", float)
JSON_TYPES = ("application/json",)


async def read_json(request: web.Request, max_bytes: int | None = None) -> object:
    """The request's JSON body. Refused with a JSON error: another Content-Type (415), a
    body over `max_bytes` (413), one that does not arrive in time (408), bad or absurdly
    nested JSON or numbers beyond a double (400)."""
    from .limits import raw_json_depth_ok, MAX_JSON_DEPTH
    if request.content_type not in JSON_TYPES and not request.content_type.endswith("+json"):
        raise ApiError(415, "unsupported_media_type",
                       f"send the body as JSON with 'Content-Type: application/json' (got {request.content_type!r})")
    limit = min(max_bytes or request.client_max_size, request.client_max_size)
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(413, "too_large", f"request body is {request.content_length} bytes; the limit is {limit} bytes")
    try:
        async with asyncio.timeout(request.config_dict.get(BODY_TIMEOUT, 30.0)):
            raw = await request.read()
    except TimeoutError:
        raise ApiError(408, "timeout", "the request body did not arrive in time") from None
    if len(raw) > limit:
        raise ApiError(413, "too_large", f"request body is {len(raw)} bytes; the limit is {limit} bytes")
    if not raw:
        raise bad_request("request body is empty; expected JSON", "invalid_json")
    try:
        body = msgspec.json.decode(raw)
    except msgspec.DecodeError as e:
        raise bad_request(f"body is not valid JSON: {e}", "invalid_json") from None
    except msgspec.ValidationError as e:
        raise bad_request(f"body holds a number out of range: {e}", "invalid_json") from None
    except RecursionError:
        body = None
    if body is None and raw.strip() != b"null" or not raw_json_depth_ok(raw):
        raise bad_request(f"body nests arrays/objects deeper than {MAX_JSON_DEPTH} levels", "invalid_json")
    return body


async def read_object(request: web.Request, max_bytes: int | None = None) -> dict:
    body = await read_json(request, max_bytes)
    if not isinstance(body, dict):
        raise bad_request("body must be a JSON object", "invalid_json")
    return body
