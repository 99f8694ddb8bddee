"""An in-process wake-up for waiters on one event loop (here: "a job became claimable")."""
from __future__ import annotations

import asyncio


class Wakeup:
    """Wakes every current waiter on `notify`. The SQLite backend's `wait_claimable`; a
    backend shared by several hubs also calls `notify` when another hub says so (LISTEN)."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, timeout: float) -> bool:
        try:  # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancel (bpo-42130)
            async with asyncio.timeout(timeout):
                await self._event.wait()
            return True
        except TimeoutError:
            return False
