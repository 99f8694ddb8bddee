"""Running the app: blocking (`forge hub`) or on a thread of its own (the desktop's embedded hub)."""
from __future__ import annotations

import asyncio
import gc
import logging
import os
import secrets
import ssl
import threading
from pathlib import Path

from aiohttp import web

from .app import create_app
from .config import HubConfig
from .connections import FD_RESERVE, ConnectionGuard, quiet_accept_errors, raise_nofile_limit

log = logging.getLogger("forge.hub")

SECRET_FILE = "admin_secret"


GC_THRESHOLDS = (10_000, 20, 100)


def settle_gc() -> None:
    """Tune the cyclic garbage collector for a long-running hub, once it has started.

    Under ingest the default thresholds (700, 10, 10) ran a full collection every 2-3 s,
    each 130-170 ms with the event loop stopped (the p99 of the ingest bench), and freed
    nothing: a push's objects are freed by reference counting, and what lives on (modules,
    the fleet's state) never becomes garbage. So what exists once the hub serves is frozen
    (never scanned again: `gc.freeze`) after one last collection, and the young generation
    is collected every 10,000 net allocations instead of 700, a full collection about 100x
    less often. Cycles (exceptions' tracebacks, closed connections) are still collected.
    For `forge hub` only: the desktop app's embedded hub shares its process with Qt, whose
    objects are not the hub's to freeze, and serves a personal fleet's few pushes a second.
    Measured in docs/PERFORMANCE.md ("Hub ingest: the garbage collector")."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def ensure_admin_secret(data_dir: Path) -> tuple[str, bool]:
    """The admin secret saved in data_dir (0600), generated on first use. Returns (secret, created)."""
    path = Path(data_dir) / SECRET_FILE
    if path.exists():
        return path.read_text().strip(), False
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = "fga_" + secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secret + "\n")
    return secret, True


class GuardedTCPSite(web.TCPSite):
    """A TCPSite whose connections pass through a ConnectionGuard (hub/connections.py)."""

    def __init__(self, runner: web.AppRunner, config: HubConfig, ssl_context: ssl.SSLContext | None):
        super().__init__(runner, config.host, config.port, reuse_address=True, ssl_context=ssl_context)
        self.config = config

    async def start(self) -> None:
        await web.BaseSite.start(self)
        loop = asyncio.get_running_loop()
        quiet_accept_errors(loop)
        soft = raise_nofile_limit()
        total = soft - FD_RESERVE if soft > FD_RESERVE * 2 else 1 << 20
        guard = ConnectionGuard(self._runner.server, self.config.max_connections_per_address, total,
                                self.config.header_timeout_s)
        self._server = await loop.create_server(guard, self._host, self._port, ssl=self._ssl_context,
                                                backlog=self._backlog, reuse_address=self._reuse_address)
        if self._server.sockets:
            self._bound_port = self._server.sockets[0].getsockname()[1]


def tls_context(config: HubConfig) -> ssl.SSLContext | None:
    """HTTPS when both tls_cert and tls_key are set (docs/SECURITY.md)."""
    if not config.tls_cert and not config.tls_key:
        return None
    if not (config.tls_cert and config.tls_key):
        raise ValueError("HTTPS needs both --tls-cert and --tls-key")
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(str(config.tls_cert), str(config.tls_key))
    return ctx


async def start(config: HubConfig) -> web.AppRunner:
    runner = web.AppRunner(create_app(config), access_log=None, shutdown_timeout=5,
                           keepalive_timeout=config.keepalive_timeout_s)
    await runner.setup()
    site = GuardedTCPSite(runner, config, tls_context(config))
    await site.start()
    return runner


def serve(config: HubConfig, announce=print) -> None:
    """Run the hub until Ctrl-C or SIGTERM."""
    import signal

    async def main() -> None:
        runner = await start(config)
        settle_gc()
        host = "127.0.0.1" if config.host in ("0.0.0.0", "") else config.host
        scheme = "https" if config.tls_cert else "http"
        announce(f"listening on {scheme}://{host}:{config.port}")
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, stop.set)
            except (NotImplementedError, RuntimeError):
                pass
        try:
            await stop.wait()
        finally:
            await runner.cleanup()

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass


class EmbeddedHub:
    """The hub on its own thread and event loop, inside another program (the desktop app)."""

    def __init__(self, config: HubConfig):
        self.config = config
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self.error: BaseException | None = None

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.config.host in ("0.0.0.0", "") else self.config.host
        return f"{'https' if self.config.tls_cert else 'http'}://{host}:{self.config.port}"

    def start(self, timeout: float = 20.0) -> None:
        self._thread = threading.Thread(target=self._run, name="forge-hub", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("embedded hub did not start in time")
        if self.error:
            raise RuntimeError(f"embedded hub failed to start: {self.error}")

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            self._runner = loop.run_until_complete(start(self.config))
        except BaseException as e:
            self.error = e
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        loop.run_forever()
        loop.run_until_complete(self._runner.cleanup())
        loop.close()

    def stop(self, timeout: float = 15.0) -> None:
        if self._loop and self._thread and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return bool(self._thread and self._thread.is_alive() and not self.error)
