"""Connection limits in front of aiohttp, which has no header-read timeout of its own
(a slowloris of idle half-sent requests used to exhaust the hub's file descriptors):

- a connection must finish its first request's headers within `header_timeout_s`;
- at most `per_address` connections from one client address, and `total` in all,
  kept below the open-file limit so accept() never runs out of descriptors;
- the soft RLIMIT_NOFILE is raised to the hard limit at start;
- asyncio's "accept() out of system resource" report, repeated every second while the
  limit is hit, is logged at most once a minute.

Idle keep-alive connections are closed by aiohttp's keepalive timeout; request bodies
are bounded by `body_timeout_s` where they are read (hub/errors.py).
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from typing import Any, Callable

log = logging.getLogger("forge.hub")

FD_RESERVE = 64  # descriptors kept for the database, log files and the listening sockets
LOG_EVERY_S = 60.0


def raise_nofile_limit() -> int:
    """Raise the soft open-file limit to the hard one where the OS allows; returns the soft
    limit in force (0 where the platform has no such limit, e.g. Windows)."""
    try:
        import resource
    except ImportError:
        return 0
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
    for target in (want, 1 << 20, 10240):  # macOS refuses more than OPEN_MAX (10240)
        if soft >= target:
            break
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
            break
        except (ValueError, OSError):
            continue
    return soft


class ConnectionGuard:
    """Counts open connections per address and wraps each aiohttp protocol in a _Guarded."""

    def __init__(self, factory: Callable[[], asyncio.BaseProtocol], per_address: int, total: int,
                 header_timeout_s: float):
        self.factory, self.per_address, self.total = factory, per_address, total
        self.header_timeout_s = header_timeout_s
        self.open: Counter[str] = Counter()
        self.refused = 0
        self._last_log = 0.0

    def __call__(self) -> asyncio.Protocol:
        return _Guarded(self)

    def admit(self, address: str) -> bool:
        if self.open[address] >= self.per_address or sum(self.open.values()) >= self.total:
            self.refused += 1
            now = time.monotonic()
            if now - self._last_log >= LOG_EVERY_S:
                self._last_log = now
                log.warning("refusing connections: %d open from %s (limit %d per address, %d in all); "
                            "%d refused so far", self.open[address], address, self.per_address, self.total,
                            self.refused)
            return False
        self.open[address] += 1
        return True

    def release(self, address: str) -> None:
        self.open[address] -= 1
        if self.open[address] <= 0:
            del self.open[address]


class _Guarded(asyncio.Protocol):
    """Delegates to aiohttp's RequestHandler; closes the connection when it is over its
    address's limit, or when its first request's headers do not arrive in time."""

    def __init__(self, guard: ConnectionGuard):
        self.guard = guard
        self.inner: Any = None
        self.address: str | None = None
        self.transport: asyncio.Transport | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.tail = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        peer = transport.get_extra_info("peername")
        address = str(peer[0]) if isinstance(peer, tuple) and peer else "?"
        if not self.guard.admit(address):
            transport.abort()  # type: ignore[attr-defined]
            return
        self.address, self.transport = address, transport  # type: ignore[assignment]
        self.timer = asyncio.get_running_loop().call_later(self.guard.header_timeout_s, self._too_slow)
        self.inner = self.guard.factory()
        self.inner.connection_made(transport)

    def _too_slow(self) -> None:
        self.timer = None
        if self.transport is not None:
            self.transport.abort()

    def data_received(self, data: bytes) -> None:
        if self.inner is None:
            return
        if self.timer is not None:
            seen = self.tail + data
            if b"\r\n\r\n" in seen:
                self.timer.cancel()
                self.timer = None
            else:
                self.tail = seen[-3:]
        self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received() if self.inner is not None else None

    def pause_writing(self) -> None:
        if self.inner is not None:
            self.inner.pause_writing()

    def resume_writing(self) -> None:
        if self.inner is not None:
            self.inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.inner is None:
            return
        self.guard.release(self.address or "?")
        self.transport = None
        self.inner.connection_lost(exc)
        self.inner = None


def quiet_accept_errors(loop: asyncio.AbstractEventLoop) -> None:
    """Log asyncio's 'accept() out of system resource' at most once a minute (it comes every
    second while the descriptors are exhausted); other loop errors go through unchanged."""
    previous = loop.get_exception_handler()
    state = {"last": 0.0, "skipped": 0}

    def handler(loop: asyncio.AbstractEventLoop, context: dict) -> None:
        if "out of system resource" in str(context.get("message", "")):
            now = time.monotonic()
            if now - state["last"] < LOG_EVERY_S:
                state["skipped"] += 1
                return
            state["last"] = now
            log.error("accept() failed: out of file descriptors (%s); %d such reports in the last minute "
                      "were not logged", context.get("exception"), state["skipped"])
            state["skipped"] = 0
            return
        if previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)
    loop.set_exception_handler(handler)
