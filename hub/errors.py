"""JSON errors: every failure the API reports is `{"error": code, "message": text}`."""
from __future__ import annotations

import logging

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
               405: "method_not_allowed", 409: "conflict", 413: "too_large", 429: "rate_limited"}


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
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return json_error(500, "internal", "internal error; see the hub log")


async def read_json(request: web.Request) -> object:
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise
    if not raw:
        raise bad_request("request body is empty; expected JSON", "invalid_json")
    try:
        return msgspec.json.decode(raw)
    except msgspec.DecodeError as e:
        raise bad_request(f"body is not valid JSON: {e}", "invalid_json") from None


async def read_object(request: web.Request) -> dict:
    body = await read_json(request)
    if not isinstance(body, dict):
        raise bad_request("body must be a JSON object", "invalid_json")
    return body
