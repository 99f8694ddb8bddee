"""A small synchronous client for the hub API, shared by the agent, the worker, the CLI and the Qt UI.

Synchronous on purpose: every caller already runs it off any event loop or GUI thread.
"""
from __future__ import annotations

import http.client
import json
import socket
import threading
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
        self._waits: set[http.client.HTTPConnection] = set()
        self._waits_lock = threading.Lock()

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
            raise _hub_error(e.code, e.reason, e.read()) from None
        except (urllib.error.URLError, socket.timeout, ConnectionError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise HubUnreachable(f"cannot reach {self.url}: {reason}") from None
        return self._json(raw)

    def long_poll(self, path: str, body: Any, timeout: float, cancel: threading.Event | None = None) -> Any:
        """POST a request the hub may hold open (a claim that waits for a job). `abort()` from
        another thread ends it at once with HubUnreachable, so stopping a worker does not wait
        out the hub's hold; with `cancel` already set, it is not sent at all (set `cancel`, then
        call `abort()`, and no poll slips between the two)."""
        parts = urllib.parse.urlsplit(self.url)
        kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        conn = kind(parts.hostname, parts.port, timeout=timeout)
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = "Bearer " + self.token
        with self._waits_lock:
            if cancel is not None and cancel.is_set():
                raise HubUnreachable(f"cannot reach {self.url}: cancelled")
            self._waits.add(conn)
        try:
            conn.request("POST", parts.path + path, json.dumps(body, separators=(",", ":")).encode(), headers)
            r = conn.getresponse()
            raw = r.read()
        except (socket.timeout, ConnectionError, OSError, http.client.HTTPException) as e:
            raise HubUnreachable(f"cannot reach {self.url}: {e}") from None
        finally:
            with self._waits_lock:
                self._waits.discard(conn)
            conn.close()
        if r.status >= 400:
            raise _hub_error(r.status, r.reason, raw)
        return self._json(raw)

    def abort(self) -> None:
        """End every long poll in flight."""
        with self._waits_lock:
            waiting = list(self._waits)
        for conn in waiting:
            sock = conn.sock
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def _json(self, raw: bytes) -> Any:
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


def _hub_error(status: int, reason: str, raw: bytes) -> HubError:
    try:
        err = json.loads(raw)
        return HubError(status, str(err.get("error", "error")), str(err.get("message", raw[:200])), err)
    except (ValueError, AttributeError):
        return HubError(status, "http_error", f"HTTP {status} {reason}")


def normalize_url(url: str) -> str:
    url = (url or "").strip().rstrip("/")
    if url and "://" not in url:
        url = "http://" + url
    return url
