"""A small synchronous client for the hub API, shared by the agent, the worker, the CLI and the Qt UI.

Synchronous on purpose: every caller already runs it off any event loop or GUI thread.
"""
from __future__ import annotations

import json
import socket
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any


class HubError(Exception):
    """The hub answered with an error; `code` and `message` come from its JSON body."""

    def __init__(self, status: int, code: str, message: str, body: dict | None = None):
        super().__init__(f"{message} (HTTP {status}, {code})")
        self.status, self.code, self.message = status, code, message
        self.body = body or {}


class HubUnreachable(Exception):
    """No HTTP answer at all: wrong address, hub down, network gone."""


class NotAForgeHub(Exception):
    """Something answered, but not a Forge hub."""


@dataclass
class HubClient:
    url: str
    token: str | None = None
    timeout: float = 10.0

    def __post_init__(self) -> None:
        self.url = normalize_url(self.url)

    def request(self, method: str, path: str, body: Any = None, token: str | None = None,
                query: dict | None = None, timeout: float | None = None) -> Any:
        url = self.url + path
        if query:
            url += "?" + urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})
        data = None if body is None else json.dumps(body, separators=(",", ":")).encode()
        req = urllib.request.Request(url, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        tok = token or self.token
        if tok:
            req.add_header("Authorization", "Bearer " + tok)
        try:
            with urllib.request.urlopen(req, timeout=timeout or self.timeout) as r:
                raw = r.read()
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                err = json.loads(raw)
                raise HubError(e.code, str(err.get("error", "error")), str(err.get("message", raw[:200])), err)
            except (ValueError, AttributeError):
                raise HubError(e.code, "http_error", f"HTTP {e.code} {e.reason}") from None
        except (urllib.error.URLError, socket.timeout, ConnectionError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise HubUnreachable(f"cannot reach {self.url}: {reason}") from None
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            raise NotAForgeHub(f"{self.url} answered with something that is not JSON") from None

    def get(self, path: str, **kw: Any) -> Any:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any, **kw: Any) -> Any:
        return self.request("POST", path, body, **kw)

    def health(self) -> dict:
        """Check that the URL is a Forge hub; raises HubUnreachable or NotAForgeHub."""
        try:
            body = self.get("/api/health", timeout=5)
        except HubError as e:
            raise NotAForgeHub(f"{self.url} is a web server but not a Forge hub (HTTP {e.status})") from None
        if not isinstance(body, dict) or body.get("service") != "forge-hub":
            raise NotAForgeHub(f"{self.url} is not a Forge hub")
        return body

    def ingest(self, node_id: str, identity: dict, samples: list[dict]) -> dict:
        return self.post(f"/api/ingest/{urllib.parse.quote(node_id)}", {"node": identity, "samples": samples})

    def fleet(self) -> dict:
        return self.get("/api/fleet")


def normalize_url(url: str) -> str:
    url = (url or "").strip().rstrip("/")
    if url and "://" not in url:
        url = "http://" + url
    return url
