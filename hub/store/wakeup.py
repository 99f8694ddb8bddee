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
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
            return True
        except asyncio.TimeoutError:
            return False
