"""Reading the hub off the GUI thread: one-shot JSON fetches and server-sent event streams.

Results come back only through signals, so widgets are touched on the GUI thread alone.
"""
from __future__ import annotations

import http.client
import json
import logging
import socket
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from PySide6.QtCore import QObject, QRunnable, QThread, QThreadPool, Signal

from ..client import HubClient, HubError, HubUnreachable, NotAForgeHub

log = logging.getLogger("forge.ui")

READ_TIMEOUT_S = 40.0
"""The hub pings every 15 s; a silence this long means the stream is dead."""
RETRY_MAX_S = 30.0


@dataclass
class SseEvent:
    event: str
    data: Any


class SseParser:
    """Incremental text/event-stream parser: feed lines, get events at blank lines."""

    def __init__(self) -> None:
        self.event = "message"
        self.data: list[str] = []

    def feed(self, line: str) -> SseEvent | None:
        line = line.rstrip("\r\n")
        if not line:
            if not self.data:
                self.event = "message"
                return None
            raw, name = "\n".join(self.data), self.event
            self.event, self.data = "message", []
            try:
                return SseEvent(name, json.loads(raw))
            except ValueError:
                return SseEvent(name, raw)
        if line.startswith(":"):
            return None
        key, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if key == "event":
            self.event = value
        elif key == "data":
            self.data.append(value)
        return None


class _FetchSignals(QObject):
    done = Signal(object)
    failed = Signal(str)


class FetchJson(QRunnable):
    """GET one JSON document (or POST `body`) on the thread pool; `signals.done(body)` or `signals.failed(message)`."""

    def __init__(self, url: str, token: str | None, path: str, query: dict | None = None, timeout: float = 15,
                 method: str = "GET", body: Any = None):
        super().__init__()
        self.url, self.token, self.path, self.query, self.timeout = url, token, path, query, timeout
        self.method, self.body = method, body
        self.signals = _FetchSignals()

    def run(self) -> None:
        try:
            body = HubClient(self.url, self.token or None, timeout=self.timeout).request(
                self.method, self.path, self.body, query=self.query)
        except HubError as e:
            self._emit_failed(f"{e.message} (HTTP {e.status})")
        except (HubUnreachable, NotAForgeHub) as e:
            self._emit_failed(str(e))
        except Exception as e:
            log.exception("fetch %s failed", self.path)
            self._emit_failed(f"reading {self.path} failed: {e}")
        else:
            try:
                self.signals.done.emit(body)
            except RuntimeError:
                pass

    def _emit_failed(self, message: str) -> None:
        try:
            self.signals.failed.emit(message)
        except RuntimeError:
            pass


_inflight: set[QObject] = set()
"""Signal carriers kept alive until their result is delivered on the GUI thread.

The runnables themselves stay auto-deleted by the pool: dropping the last Python
reference to a runnable the pool may still be finishing would free it under the pool.
"""


def _keep_until_delivered(signals: QObject) -> None:
    _inflight.add(signals)
    signals.done.connect(lambda *_: _inflight.discard(signals))
    signals.failed.connect(lambda *_: _inflight.discard(signals))


def fetch(url: str, token: str | None, path: str, query: dict | None = None,
          on_done=None, on_failed=None) -> FetchJson:
    job = FetchJson(url, token, path, query)
    _keep_until_delivered(job.signals)
    if on_done:
        job.signals.done.connect(on_done)
    if on_failed:
        job.signals.failed.connect(on_failed)
    QThreadPool.globalInstance().start(job)
    return job


def post(url: str, token: str | None, path: str, body: Any = None, on_done=None, on_failed=None) -> FetchJson:
    """POST `body` as JSON (an action such as cancelling a job); answers like `fetch`."""
    job = FetchJson(url, token, path, method="POST", body={} if body is None else body)
    _keep_until_delivered(job.signals)
    if on_done:
        job.signals.done.connect(on_done)
    if on_failed:
        job.signals.failed.connect(on_failed)
    QThreadPool.globalInstance().start(job)
    return job


class SseStream(QThread):
    """Follow one SSE route, reconnecting with backoff; `event(name, data)` per event.

    `stop()` shuts the socket down so a read blocked on a quiet stream returns at once.
    """
    event = Signal(str, object)
    connected = Signal()
    failed = Signal(str)

    def __init__(self, url: str, token: str | None, path: str, parent: QObject | None = None):
        super().__init__(parent)
        self.url, self.token, self.path = url.rstrip("/"), token, path
        self._stop = threading.Event()
        self._sock: socket.socket | None = None
        self._sock_lock = threading.Lock()

    def stop(self, wait_ms: int = 5000) -> None:
        self._stop.set()
        with self._sock_lock:
            if self._sock is not None:
                try:
                    self._sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        self.wait(wait_ms)

    def run(self) -> None:
        delay = 1.0
        while not self._stop.is_set():
            try:
                self._follow()
                delay = 1.0
            except _Refused as e:
                self.failed.emit(str(e))
                delay = RETRY_MAX_S
            except (OSError, http.client.HTTPException) as e:
                if self._stop.is_set():
                    break
                self.failed.emit(f"event stream from {self.url} lost: {e}")
                delay = min(RETRY_MAX_S, delay * 2)
            self._stop.wait(delay)

    def _follow(self) -> None:
        parts = urlsplit(self.url)
        cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        conn = cls(parts.hostname or "127.0.0.1", parts.port, timeout=READ_TIMEOUT_S)
        try:
            conn.connect()
            with self._sock_lock:
                self._sock = conn.sock
            if self._stop.is_set():
                return
            headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
            if self.token:
                headers["Authorization"] = "Bearer " + self.token
            conn.request("GET", (parts.path or "") + self.path, headers=headers)
            resp = conn.getresponse()
            if resp.status != 200:
                raise _Refused(_error_text(resp))
            self.connected.emit()
            parser = SseParser()
            while not self._stop.is_set():
                line = resp.readline()
                if not line:
                    raise ConnectionError("the hub closed the stream")
                ev = parser.feed(line.decode("utf-8", "replace"))
                if ev is not None:
                    self.event.emit(ev.event, ev.data)
        finally:
            with self._sock_lock:
                self._sock = None
            conn.close()


def stop_stream(stream: SseStream | None) -> None:
    """End a window's stream, if it has one, and let Qt free its thread (the fleet and node
    windows stop theirs on reconnect, on a range change and on close)."""
    if stream is not None:
        stream.stop()
        stream.deleteLater()


class _Refused(Exception):
    pass


def _error_text(resp: http.client.HTTPResponse) -> str:
    raw = resp.read(4096)
    try:
        message = json.loads(raw).get("message")
    except (ValueError, AttributeError):
        message = None
    return f"{message or resp.reason} (HTTP {resp.status})"


class _CallSignals(QObject):
    done = Signal(object)
    failed = Signal(str)


class BackgroundCall(QRunnable):
    """Run a blocking domain call (e.g. an onboarding check) on the thread pool.

    Exceptions of the `expected` types become `failed(str(e))`; anything else is
    logged and reported with its type so the user still sees a message.
    """

    def __init__(self, fn, *args, expected: tuple[type[BaseException], ...] = ()):
        super().__init__()
        self.fn, self.args, self.expected = fn, args, expected
        self.signals = _CallSignals()

    def run(self) -> None:
        try:
            result = self.fn(*self.args)
        except self.expected as e:
            self.signals.failed.emit(str(e))
        except Exception as e:
            log.exception("background call failed")
            self.signals.failed.emit(f"{type(e).__name__}: {e}")
        else:
            self.signals.done.emit(result)

    def start(self) -> QObject:
        """Run it; returns the signals object (the runnable belongs to the pool from here on)."""
        signals = self.signals
        _keep_until_delivered(signals)
        QThreadPool.globalInstance().start(self)
        return signals
