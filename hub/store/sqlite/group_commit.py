"""Group commit: concurrent agent pushes share one SQLite transaction.

Each push waits for its own result, but while one transaction runs on the writer
thread the next pushes queue up and go together in the following one. Under load
that turns a commit per push into a commit per batch; when idle it adds nothing.
"""
from __future__ import annotations

import asyncio
from typing import Awaitable, Callable

from ..interface import IngestResult, Push

MAX_BATCH = 256


class GroupCommit:
    def __init__(self, write_many: Callable[[list[Push]], Awaitable[list[IngestResult]]]):
        self.write_many = write_many
        self._queue: list[tuple[Push, asyncio.Future]] = []
        self._task: asyncio.Task | None = None

    async def ingest(self, push: Push) -> IngestResult:
        fut = asyncio.get_running_loop().create_future()
        self._queue.append((push, fut))
        if self._task is None:
            self._task = asyncio.create_task(self._drain())
        return await fut

    async def _drain(self) -> None:
        try:
            while self._queue:
                batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
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
            self._task = None

    async def close(self) -> None:
        if self._task is not None:
            await asyncio.shield(self._task)
