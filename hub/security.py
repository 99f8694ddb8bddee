"""Browser-facing protections: security headers on every response and an optional Host
allow-list against DNS rebinding (a page on evil.example whose name resolves to the
hub's address must not be able to read the fleet)."""
from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from aiohttp import web

from .errors import json_error

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def inline_script_hashes(index_html: Path) -> list[str]:
    """CSP hashes of the dashboard's inline scripts (the theme setter that runs before paint, and the
    fleet page's early GET /api/fleet)."""
    try:
        text = index_html.read_text("utf-8")
    except OSError:
        return []
    bodies = re.findall(r"<script>(.*?)</script>", text, flags=re.S)
    return ["'sha256-" + base64.b64encode(hashlib.sha256(b.encode()).digest()).decode() + "'" for b in bodies]


def content_security_policy(script_hashes: list[str]) -> str:
    return "; ".join([
        "default-src 'self'",
        "script-src 'self' " + " ".join(script_hashes) if script_hashes else "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def security_headers(csp: str):
    async def on_prepare(request: web.Request, response: web.StreamResponse) -> None:
        h = response.headers
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("Referrer-Policy", "no-referrer")
        h.setdefault("Content-Security-Policy", csp)
    return on_prepare


def _host_name(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def parse_hosts(setting: str) -> frozenset[str]:
    return frozenset(_host_name(h) for h in setting.split(",") if h.strip())


def host_check_middleware(allowed: frozenset[str]):
    """Requests whose Host is neither in `allowed` nor a loopback name get a 421."""
    @web.middleware
    async def middleware(request: web.Request, handler):
        if allowed and _host_name(request.host or "") not in allowed | LOOPBACK_HOSTS:
            return json_error(421, "host_not_allowed",
                              f"this hub answers only for {', '.join(sorted(allowed))} (allowed_hosts); "
                              f"the request named Host {request.host!r}")
        return await handler(request)
    return middleware
