"""Running the app: blocking (`forge hub`) or on a thread of its own (the desktop's embedded hub)."""
from __future__ import annotations

import asyncio
import logging
import os
import secrets
import threading
from pathlib import Path

from aiohttp import web

from .app import create_app
from .config import HubConfig

log = logging.getLogger("forge.hub")

SECRET_FILE = "admin_secret"


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


async def start(config: HubConfig) -> web.AppRunner:
    runner = web.AppRunner(create_app(config), access_log=None, shutdown_timeout=5)
    await runner.setup()
    site = web.TCPSite(runner, config.host, config.port, reuse_address=True)
    await site.start()
    return runner


def serve(config: HubConfig, announce=print) -> None:
    """Run the hub until Ctrl-C or SIGTERM."""
    import signal

    async def main() -> None:
        runner = await start(config)
        host = "127.0.0.1" if config.host in ("0.0.0.0", "") else config.host
        announce(f"listening on http://{host}:{config.port}")
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
        return f"http://{host}:{self.config.port}"

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
