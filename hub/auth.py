"""Bearer tokens: per-node tokens stored as SHA-256 hashes and compared in constant time.

Tokens are 256-bit random strings, so a plain SHA-256 is enough to make a stolen
database useless (no salt or slow hash needed, unlike passwords). Tokens never
appear in logs: only node ids do.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from typing import Callable, Literal, TypeVar

from aiohttp import web

from .errors import ApiError
from .store import NodeStore

JOIN_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"

Access = Literal["admin", "node", "viewer", "public"]
_H = TypeVar("_H", bound=Callable)


def access(level: Access) -> Callable[[_H], _H]:
    """Declare who may call a route (put it under `@routes.get(...)`). The handler still
    makes the check itself; the declaration is what the OpenAPI document's security is
    read from, and a test holds each declaration to what the handler answers."""
    def declare(handler: _H) -> _H:
        handler.forge_access = level  # type: ignore[attr-defined]
        return handler
    return declare


def access_of(handler: Callable) -> Access | None:
    return getattr(handler, "forge_access", None)


def new_token() -> str:
    return "fgn_" + secrets.token_urlsafe(32)


def new_join_code() -> str:
    raw = "".join(secrets.choice(JOIN_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def normalize_join_code(code: str) -> str:
    s = "".join(ch for ch in code.upper() if ch.isalnum())
    return f"{s[:5]}-{s[5:]}" if len(s) == 10 else s


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def bearer(request: web.Request) -> str | None:
    """The Bearer token of the Authorization header. Never a `?token=` query parameter:
    URLs end up in logs, browser history and Referer headers. (Only the viewer token may
    come as `?token=`, for EventSource, which cannot send headers: see `viewer_credential`.)"""
    h = request.headers.get("Authorization", "")
    if h.startswith("Bearer "):
        return h[7:].strip() or None
    return None


def viewer_credential(request: web.Request) -> str | None:
    return bearer(request) or request.query.get("token") or None


def require_admin(request: web.Request, admin_secret: str) -> None:
    tok = bearer(request)
    if not tok:
        raise ApiError(401, "unauthorized", "this route needs the admin secret as a Bearer token")
    if not admin_secret or not hmac.compare_digest(tok.encode(), admin_secret.encode()):
        raise ApiError(401, "unauthorized", "admin secret not accepted")


def is_admin(request: web.Request, admin_secret: str) -> bool:
    tok = bearer(request)
    return bool(tok and admin_secret and hmac.compare_digest(tok.encode(), admin_secret.encode()))


class TokenCache:
    """Maps token hashes to node ids, so ingest does not hit the store for every push."""

    def __init__(self, nodes: NodeStore, ttl_s: float = 30.0):
        self.nodes = nodes
        self.ttl_s = ttl_s
        self._cache: dict[str, tuple[str, float]] = {}
        self._used: dict[str, float] = {}  # node id -> last use not yet written (see flush_use)

    def forget_all(self) -> None:
        """Another hub on the same store replaced or revoked a token."""
        self._cache.clear()

    def forget_node(self, node_id: str) -> None:
        for h, (n, _) in list(self._cache.items()):
            if n == node_id:
                del self._cache[h]

    async def node_for(self, token: str) -> str | None:
        h = hash_secret(token)
        hit = self._cache.get(h)
        now = time.monotonic()
        if hit and now - hit[1] < self.ttl_s:
            return hit[0]
        found = await self.nodes.token_node(h)
        if found is None or not hmac.compare_digest(found.token_hash, h):
            self._cache.pop(h, None)
            return None
        self._cache[h] = (found.node_id, now)
        return found.node_id

    async def require_node(self, request: web.Request, node_id: str | None = None) -> str:
        tok = bearer(request)
        if not tok:
            raise ApiError(401, "unauthorized", "this route needs a node token (Authorization: Bearer ...)")
        owner = await self.node_for(tok)
        if owner is None:
            raise ApiError(401, "unauthorized", "token not recognised or revoked")
        if node_id is not None and owner != node_id:
            raise ApiError(403, "forbidden", f"this token belongs to another node and cannot write {node_id!r}")
        self._used[owner] = time.time()
        return owner

    async def flush_use(self) -> int:
        """Write the tokens' last use, gathered in memory so a push costs no extra write:
        `forge tokens list` is at most one flush interval behind."""
        if not self._used:
            return 0
        used, self._used = self._used, {}
        await self.nodes.touch_tokens(used)
        return len(used)
