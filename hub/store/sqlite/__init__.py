"""The SQLite backend: one database file in WAL mode.

Writes go to one writer thread that owns the write connection (so writes never contend
and each runs in `BEGIN IMMEDIATE`); reads go to a small pool of reader threads, which
WAL lets run beside the writer; concurrent pushes share a commit (../group_commit.py).
Automatic WAL checkpoints are off, so no commit waits for one: `maintain()` copies the
WAL into the file on a reader thread (PASSIVE, never blocking the writer), and `close()`
truncates it (when this store wrote: one that only read, like a test's, leaves it alone).
The rollups average with SQLite's json_tree on reader threads (rollup.py).
"""
from __future__ import annotations

import asyncio
import functools
import logging
import time
import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, TypeVar
from urllib.parse import unquote, urlsplit

from ..interface import (Batch, BatchSpec, CancelOutcome, IngestResult, Job, JobPage, JobQueue, JobSpec,
                         MaintenanceReport, NodeRow, NodeStore, ProgressOutcome, Push, Redeemed, Resolution,
                         ResultOutcome, Retention, SampleStore, Store, TokenMatch, TokenRow, WorkerRow)
from ..wakeup import Wakeup
from . import blocks
from .alerts import SqliteAlerts
from .db import TIER_BLOCK_MS, TIER_TABLES, Database, migrations, ts_ms
from ..group_commit import GroupCommit
from .rollup import HOUR_MS, MINUTE_MS, averages

T = TypeVar("T")
log = logging.getLogger("forge.hub.store")

READERS = 4
ROLLUP_CHUNK = 200
ROLLUP_DUTY = 0.5  # share of one core the rollups may take while catching up
COMPACT_CHUNK = 100
COMPACT_PASS = 20_000  # node-minutes per pass at most, so the rollups of new minutes never wait long
COMPACT_OFFLOAD = 50  # node-minutes in a chunk from which the encoding goes to the worker process
COMPACT_GRACE_MS = 30_000  # a minute is compacted this long after it ends, when late pushes are in
TIER_GRACE_MS = {"1m": 300_000, "1h": 7_200_000}  # a node-hour of minutes, a node-day of hours: when all are averaged
_END = 2**62


def path_of(url: str) -> Path:
    """The file a URL names, as SQLAlchemy reads them: `sqlite:///forge.db` is relative to
    the working folder, `sqlite:////var/lib/forge/forge.db` (four slashes) absolute."""
    parts = urlsplit(url)
    if parts.scheme != "sqlite" or parts.netloc not in ("", "localhost") or not parts.path.strip("/"):
        raise ValueError(f"not a SQLite store URL: {url!r} (want sqlite:///path/to/forge.db)")
    return Path(unquote(parts.path)[1:])


async def open(url: str) -> "SqliteStore":  # noqa: A001 - every backend module has open(url)
    path = path_of(url)
    path.parent.mkdir(parents=True, exist_ok=True)
    db = await asyncio.to_thread(Database, path, False)
    return SqliteStore(db)


WORKER_NICE = 10


def _yield_to_ingest() -> None:
    """The encoding worker's initializer: a lower CPU priority (nice +10), so that when the
    hub's own process and the worker want the same core, ingest wins (the worker then gets
    about a tenth of a core, and the backlog waits as rows, readable as ever), while on an
    idle core the worker runs at full speed. POSIX only: Windows has no `os.nice` (its
    BELOW_NORMAL class would do the same; nothing here could test it)."""
    if hasattr(os, "nice"):
        try:
            os.nice(WORKER_NICE)
        except OSError:
            pass


class _Threads:
    """Writes on one thread, reads on a pool."""

    def __init__(self, db: Database, readers: int):
        self.db = db
        self.wrote = False
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="store-writer")
        self._readers = ThreadPoolExecutor(readers, thread_name_prefix="store-reader")
        self._worker: ProcessPoolExecutor | None = None

    async def offload(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn` in a worker process of its own (started on first use, by spawn: the hub
        has threads), so CPU-bound work such as block encoding never holds this process's
        GIL, and at a lower CPU priority, so it does not take a core from ingest either. `fn`
        reads the database file itself and returns plain data."""
        if self._worker is None:
            self._worker = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                                               initializer=_yield_to_ingest)
        return await asyncio.get_running_loop().run_in_executor(self._worker, functools.partial(fn, *args))

    async def write(self, fn: Callable[..., T], *args: Any) -> T:
        self.wrote = True
        return await asyncio.get_running_loop().run_in_executor(self._writer, functools.partial(fn, *args))

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._readers, functools.partial(fn, *args))

    def close(self) -> None:
        self._writer.shutdown(wait=True)
        self._readers.shutdown(wait=True)
        if self._worker is not None:
            self._worker.shutdown(wait=True, cancel_futures=True)
        self.db.close()


class SqliteSamples(SampleStore):
    def __init__(self, t: _Threads):
        self._t = t
        self._group = GroupCommit(self.ingest_many)
        self.compacted = 0
        self._compact_after: tuple[str, int] = ("", -1)  # where a pass cut off by COMPACT_PASS goes on
        self._tier_after: dict[str, tuple[str, int]] = {tier: ("", -1) for tier in TIER_TABLES}
        self._texts_filled = False  # every 1h block has its stored texts (migration 009)

    async def ingest(self, push: Push) -> IngestResult:
        return await self._group.ingest(push)

    async def ingest_many(self, pushes: list[Push]) -> list[IngestResult]:
        return await self._t.write(self._t.db.ingest_many, pushes)

    async def series(self, node_id: str, *, resolution: Resolution, points: int,
                     since: float | None = None, until: float | None = None,
                     every_s: int | None = None) -> list[dict]:
        return await self._t.read(self._t.db.series, node_id, resolution, points, since, until, every_s)

    async def series_json(self, node_id: str, *, resolution: Resolution, points: int,
                          since: float | None = None, until: float | None = None,
                          every_s: int | None = None) -> bytes:
        return await self._t.read(self._t.db.series_json, node_id, resolution, points, since, until, every_s)

    async def series_json_parts(self, node_id: str, *, resolution: Resolution, points: int,
                                since: float | None = None, until: float | None = None,
                                every_s: int | None = None) -> list[bytes]:
        return await self._t.read(self._t.db.series_json_parts, node_id, resolution, points, since, until, every_s)

    def set_read_cache(self, max_bytes: int) -> None:
        self._t.db.read_cache.resize(max_bytes)

    async def recent_cpu(self, node_id: str, points: int) -> list[float | None]:
        return await self._t.read(self._t.db.recent_cpu, node_id, points)

    async def roll_up(self, now: float, *, include_current: bool = False) -> int:
        """A pass over the queue, a chunk at a time, so memory stays flat and neither the writer
        nor the event loop waits long. Averaging runs on a reader thread; after each chunk the
        pass rests as long again (unless `include_current`, the last pass at shutdown), so at
        the end of every minute (10,000 buckets for 10,000 nodes) it takes half a core for
        twice as long rather than a whole core from the ingest path."""
        db, written = self._t.db, 0
        cutoff = _END if include_current else ts_ms(now) // MINUTE_MS * MINUTE_MS
        for tier, source, width, before in (("1m", "samples", MINUTE_MS, cutoff), ("1h", "samples_1m", HOUR_MS, _END)):
            after: tuple[str, int] = ("", -1)
            while chunk := await self._t.read(db.queued, tier, before, after, ROLLUP_CHUNK):
                started = time.perf_counter()
                rows = await self._t.read(averages, db, source, chunk, width)
                busy = time.perf_counter() - started
                await self._t.write(db.put_rollups, tier, rows, chunk)
                written += len(rows) if tier == "1m" else 0
                after = chunk[-1][:2]
                if not include_current:
                    await asyncio.sleep(busy * (1 / ROLLUP_DUTY - 1))
        if not include_current:
            await self.compact(now)
        return written

    async def compact(self, now: float) -> int:
        """Turn the node-minutes of raw rows that ended `COMPACT_GRACE_MS` ago into blocks
        (merging rows that came late for a minute already compacted), a chunk at a time,
        encoding on a reader thread and resting like the rollups, at most `COMPACT_PASS` per
        call (the next call goes on from there); returns minutes compacted.
        Each chunk commits its blocks and removes exactly the rows they took in, so a crash
        anywhere leaves every sample once, in a row or in a block."""
        db, done = self._t.db, 0
        before = (ts_ms(now) - COMPACT_GRACE_MS) // MINUTE_MS * MINUTE_MS
        started_pass = time.monotonic()
        while done < COMPACT_PASS:
            chunk = await self._t.read(db.compactable, before, self._compact_after, COMPACT_CHUNK)
            if not chunk:
                self._compact_after = ("", -1)
                break
            started = time.perf_counter()
            if len(chunk) >= COMPACT_OFFLOAD and not getattr(sys, "frozen", False):  # 0.2-0.6 s of CPU, off the GIL
                # (a frozen app cannot spawn a plain Python worker: it encodes on a reader thread)
                encoded = await self._t.offload(encode_minutes_in, db.path, chunk)
            else:
                encoded = await self._t.read(_encode_minutes, db, chunk)
            busy = time.perf_counter() - started
            await self._t.write(db.put_blocks, encoded)
            done += len(encoded)
            self._compact_after = (chunk[-1][0], chunk[-1][1] + MINUTE_MS - 1)
            await asyncio.sleep(busy * (1 / ROLLUP_DUTY - 1))
        self.compacted += done
        for tier in TIER_TABLES:
            done += await self._compact_tier(tier, now, COMPACT_PASS)
        if not self._texts_filled:
            await self._fill_tier_texts(COMPACT_PASS)
        if done >= 10 * COMPACT_CHUNK:  # a backlog: an upgraded database, or a hub that was down
            log.info("compacted %d node-minutes in %.1f s (%d since start); %s", done,
                     time.monotonic() - started_pass, self.compacted,
                     f"continuing after node {self._compact_after[0]!r}" if self._compact_after[0] else "caught up")
        return done

    async def _compact_tier(self, tier: str, now: float, budget: int) -> int:
        """The same for a tier: the averages of each finished node-hour (1m) or node-day (1h)
        become one block, `TIER_GRACE_MS` after the span ends, at most `budget` spans a call."""
        db, done = self._t.db, 0
        width = TIER_BLOCK_MS[tier]
        before = (ts_ms(now) - TIER_GRACE_MS[tier]) // width * width
        while done < budget:
            chunk = await self._t.read(db.compactable, before, self._tier_after[tier], COMPACT_CHUNK,
                                       TIER_TABLES[tier], width)
            if not chunk:
                self._tier_after[tier] = ("", -1)
                break
            started = time.perf_counter()
            encoded = await self._t.read(_encode_tier, db, tier, chunk)
            busy = time.perf_counter() - started
            await self._t.write(db.put_tier_blocks, tier, encoded)
            done += len(encoded)
            self._tier_after[tier] = (chunk[-1][0], chunk[-1][1] + width - 1)
            await asyncio.sleep(busy * (1 / ROLLUP_DUTY - 1))
        return done

    async def _fill_tier_texts(self, budget: int) -> None:
        """Give the 1h blocks of a database from before migration 009 their stored texts, a
        chunk at a time and resting like the compaction, at most `budget` blocks a call;
        until then their reads decode them, as before."""
        db, done = self._t.db, 0
        while done < budget:
            found = await self._t.read(db.untexted_tier_blocks, COMPACT_CHUNK)
            if not found:
                self._texts_filled = True
                break
            started = time.perf_counter()
            texts = await self._t.read(_texts_of_blocks, db, found)
            busy = time.perf_counter() - started
            await self._t.write(db.put_tier_texts, texts)
            done += len(texts)
            await asyncio.sleep(busy * (1 / ROLLUP_DUTY - 1))

    async def pending_rollups(self) -> int:
        return await self._t.read(self._t.db.pending_rollups)

    async def prune(self, now: float, retention: Retention) -> dict[str, int]:
        return await self._t.write(self._t.db.prune, now, retention)


_READER: Database | None = None  # the worker process's own connection


def encode_minutes_in(path: str, chunk: list[tuple[str, int]]) -> list[tuple[str, int, blocks.Encoded, list[int]]]:
    """`_encode_minutes` in the worker process, on a read-only connection of its own."""
    global _READER
    if _READER is None or _READER.path != path:
        _READER = Database.reader(path)
    return _encode_minutes(_READER, chunk)


def _encode_minutes(db: Database, chunk: list[tuple[str, int]]) -> list[tuple[str, int, blocks.Encoded, list[int]]]:
    out = []
    with db.read_tx() as c:
        for node_id, minute in chunk:
            samples, taken = db.minute_samples(node_id, minute, c)
            if taken:
                out.append((node_id, minute, blocks.encode(samples), taken))
    return out


def _encode_tier(db: Database, tier: str, chunk: list[tuple[str, int]]) -> list[tuple]:
    out = []
    with db.read_tx() as c:
        for node_id, bucket in chunk:
            entries, taken = db.tier_group(tier, node_id, bucket, c)
            if taken:
                averages = [avg for _, _, avg in entries]
                out.append((node_id, bucket, blocks.encode(averages), [n for _, n, _ in entries], taken,
                            db.tier_texts(tier, averages)))
    return out


def _texts_of_blocks(db: Database, found: list[tuple[str, int, bytes]]) -> list[tuple[str, int, bytes, bytes]]:
    """Stored texts for 1h blocks written without them."""
    return [(node, bucket, data, db.tier_texts("1h", db.decode_block(data))) for node, bucket, data in found]


class SqliteNodes(NodeStore):
    def __init__(self, t: _Threads):
        self._t = t

    async def nodes(self) -> list[NodeRow]:
        return await self._t.read(self._t.db.nodes)

    async def node(self, node_id: str) -> NodeRow | None:
        return await self._t.read(self._t.db.node, node_id)

    async def put_token(self, node_id: str, *, token_hash: str, now: float) -> None:
        await self._t.write(self._t.db.put_token, node_id, token_hash, now)

    async def token_node(self, token_hash: str) -> TokenMatch | None:
        return await self._t.read(self._t.db.token_node, token_hash)

    async def touch_tokens(self, uses: dict[str, float]) -> None:
        await self._t.write(self._t.db.touch_tokens, uses)

    async def list_tokens(self) -> list[TokenRow]:
        return await self._t.read(self._t.db.list_tokens)

    async def revoke_token(self, node_id: str, now: float) -> bool:
        return await self._t.write(self._t.db.revoke_token, node_id, now)

    async def put_join_code(self, code_hash: str, *, now: float, expires_at: float) -> None:
        await self._t.write(self._t.db.put_join_code, code_hash, now, expires_at)

    async def redeem_join_code(self, code_hash: str, *, node_id: str, token_hash: str,
                               now: float) -> Redeemed:
        return await self._t.write(self._t.db.redeem_join_code, code_hash, node_id, token_hash, now)


class SqliteJobs(JobQueue):
    """The queue in the same file. Only this hub writes it, so the in-process wake-up sees
    every job that becomes claimable."""

    def __init__(self, t: _Threads):
        self._t = t
        self._claimable = Wakeup()

    async def add_jobs(self, jobs: list[JobSpec], *, now: float, batch: BatchSpec | None = None) -> list[int]:
        ids = await self._t.write(self._t.db.add_jobs, jobs, now, batch)
        self._claimable.notify()
        return ids

    async def claim(self, worker_id: str, *, types: list[str], cores: int, now: float,
                    lease_s: float) -> Job | None:
        return await self._t.write(self._t.db.claim_job, worker_id, types, cores, now, lease_s)

    async def wait_claimable(self, timeout: float) -> bool:
        return await self._claimable.wait(timeout)

    async def progress(self, job_id: int, *, worker_id: str, attempt: int, progress: dict | None,
                       now: float, lease_s: float) -> ProgressOutcome:
        return await self._t.write(self._t.db.job_progress, job_id, worker_id, attempt, progress, now, lease_s)

    async def result(self, job_id: int, *, worker_id: str, attempt: int, result: dict | None,
                     error: str | None, now: float, release: bool = False) -> ResultOutcome:
        outcome = await self._t.write(self._t.db.job_result, job_id, worker_id, attempt, result, error, now, release)
        if outcome in ("retry", "released"):
            self._claimable.notify()
        return outcome

    async def reclaim_expired(self, now: float) -> list[int]:
        ids = await self._t.write(self._t.db.reclaim_expired, now)
        if ids:
            self._claimable.notify()
        return ids

    async def cancel(self, job_id: int, now: float) -> CancelOutcome:
        return await self._t.write(self._t.db.cancel_job, job_id, now)

    async def cancel_batch(self, batch_id: str, now: float) -> list[int] | None:
        return await self._t.write(self._t.db.cancel_batch, batch_id, now)

    async def heartbeat(self, worker_id: str, *, state: dict, now: float, lease_s: float) -> set[int]:
        return await self._t.write(self._t.db.heartbeat, worker_id, state, now, lease_s)

    async def job(self, job_id: int) -> Job | None:
        return await self._t.read(self._t.db.job, job_id)

    async def jobs(self, *, status: str | None = None, type_: str | None = None, node: str | None = None,
                   batch_id: str | None = None, limit: int = 100, offset: int = 0,
                   with_result: bool = False) -> JobPage:
        return await self._t.read(self._t.db.jobs, status, type_, node, batch_id, limit, offset, with_result)

    async def batch(self, batch_id: str) -> Batch | None:
        return await self._t.read(self._t.db.batch, batch_id)

    async def queue_counts(self) -> dict[str, int]:
        return await self._t.read(self._t.db.queue_counts)

    async def job_counts_by_node(self) -> dict[str, dict[str, int]]:
        return await self._t.read(self._t.db.job_counts_by_node)

    async def workers(self) -> list[WorkerRow]:
        return await self._t.read(self._t.db.workers)


class SqliteStore(Store):
    def __init__(self, db: Database, readers: int = READERS):
        self._t = _Threads(db, readers)
        self.path = Path(db.path)
        self.samples = SqliteSamples(self._t)
        self.nodes = SqliteNodes(self._t)
        self.jobs = SqliteJobs(self._t)
        self.alerts = SqliteAlerts(self._t)

    async def maintain(self, now: float) -> MaintenanceReport:
        busy, log_pages, done = await self._t.read(self._t.db.checkpoint)
        return MaintenanceReport(checkpointed=True,
                                 details={"wal_busy": busy, "wal_pages": log_pages, "wal_checkpointed": done})

    async def close(self) -> None:
        await self.samples._group.close()
        if self._t.wrote:
            await self._t.write(self._t.db.checkpoint, "TRUNCATE")
        await asyncio.to_thread(self._t.close)


__all__ = ["Database", "SqliteStore", "migrations", "open", "path_of"]
