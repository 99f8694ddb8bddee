"""Group commit: concurrent agent pushes share one transaction, whatever the backend.

Each push waits for its own result, but while one transaction runs the next pushes queue
up and go together in the following one. Under load that turns a commit per push into a
commit per batch; when idle it adds nothing.

`max_drainers` is how many batches may be in flight at once. SQLite has one writer, so one
(the default). A database server takes more: with a few batches overlapping, one batch's
statements run while another waits for its commit to reach the disk (PostgreSQL uses 3).
A further batch starts only once `overlap_at` pushes are queued, so an idle hub still
commits one batch at a time.
"""
from __future__ import annotations

import asyncio
from typing import Awaitable, Callable

from .interface import IngestResult, Push

MAX_BATCH = 256  # pushes per transaction
OVERLAP_AT = 16  # queued pushes that start another batch while one is in flight


class GroupCommit:
    def __init__(self, write_many: Callable[[list[Push]], Awaitable[list[IngestResult]]], *,
                 max_drainers: int = 1, max_batch: int = MAX_BATCH, overlap_at: int = OVERLAP_AT):
        self.write_many = write_many
        self.max_drainers = max_drainers
        self.max_batch = max_batch
        self.overlap_at = overlap_at
        self._queue: list[tuple[Push, asyncio.Future]] = []
        self._drainers: set[asyncio.Task] = set()

    async def ingest(self, push: Push) -> IngestResult:
        fut = asyncio.get_running_loop().create_future()
        self._queue.append((push, fut))
        if not self._drainers or (len(self._drainers) < self.max_drainers and len(self._queue) >= self.overlap_at):
            self._drainers.add(asyncio.create_task(self._drain()))
        return await fut

    async def _drain(self) -> None:
        try:
            while self._queue:
                batch, self._queue = self._queue[:self.max_batch], self._queue[self.max_batch:]
                try:
                    results = await self.write_many([push for push, _ in batch])
                except Exception as e:  # noqa: BLE001 - every waiting push gets the error
                    for _, fut in batch:
                        if not fut.done():
                            fut.set_exception(e)
                    continue
                for (_, fut), result in zip(batch, results):
                    if not fut.done():
                        fut.set_result(result)
        finally:
            # Leave the set in the same step that found the queue empty: a done-callback
            # would run a step later, after a push that came in between found us "running".
            self._drainers.discard(asyncio.current_task())

    async def close(self) -> None:
        """Let the pushes already queued finish."""
        while self._drainers:
            await asyncio.shield(asyncio.gather(*self._drainers, return_exceptions=True))
