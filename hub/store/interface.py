"""What the hub needs from its storage, as typed async interfaces.

Routes and background tasks talk only to these; a backend (hub/store/sqlite/ today, a
PostgreSQL one next) implements all of them and is chosen by `open_store(url)`. Every
call that changes something takes the time as `now` (Unix seconds), so tests and
replays need no clock patching. Every method is a coroutine and never blocks the event
loop: how the backend gets its work off the loop (threads, an async driver) is its own
business.

Jobs are handed out as plain dicts shaped like the API's job JSON (docs/API.md), because
that is what every caller does with them; everything else is a dataclass below.

tests/test_store_contract.py is the contract: every backend must pass it unchanged.
"""
from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import msgspec

if TYPE_CHECKING:
    from .alerts import AlertStore

from forge_contracts.vocabulary import FINAL_STATUSES, JOB_STATUSES, JobStatus

Resolution = Literal["1s", "1m", "1h"]

Job = dict[str, Any]
"""One job as the API shows it: id, type, payload, status, priority, cores, claimed_by,
claimed_at, lease_until, attempt_count, max_attempts, progress, result, error, review,
label, batch_id, created_at, finished_at (and `attempts` from `JobQueue.job`)."""

ProgressOutcome = Literal["ok", "gone", "unknown"]
ResultOutcome = Literal["accepted", "retry", "released", "failed", "duplicate", "late", "unknown"]
CancelOutcome = Literal["cancelled", "succeeded", "failed", "unknown"]
JoinOutcome = Literal["ok", "unknown", "used", "expired"]


# --- rows and results ---------------------------------------------------------------
@dataclass
class NodeRow:
    id: str
    name: str
    identity: dict
    first_seen: float
    last_seen: float
    latest: dict | None


@dataclass
class Push:
    """One agent's push: its node, the identity it sent and its samples (each with `ts`)."""
    node_id: str
    identity: dict
    samples: list[dict]
    now: float


@dataclass
class IngestResult:
    accepted: int
    duplicate: int
    new_node: bool


@dataclass
class Retention:
    """How long each tier is kept, in seconds."""
    raw_s: float
    minute_s: float
    hour_s: float


@dataclass
class TokenRow:
    node_id: str
    created_at: float
    last_used: float | None
    revoked: bool


@dataclass
class TokenMatch:
    """A live token found by its hash; `token_hash` is the stored one, for a constant-time compare."""
    node_id: str
    token_hash: str


@dataclass
class Redeemed:
    """What redeeming a join code did; `node_id` may carry a suffix (-2, -3, …) when the
    asked-for name is held by another live token."""
    outcome: JoinOutcome
    node_id: str


def join_code_refusal(code: tuple | None, node_id: str, now: float) -> Redeemed | None:
    """Why a join code, its row (expires_at, used_at) or None, cannot be redeemed now; None
    when it can. The rule every backend applies inside its redeeming transaction."""
    if code is None:
        return Redeemed("unknown", node_id)
    if code[1] is not None:
        return Redeemed("used", node_id)
    if code[0] < now:
        return Redeemed("expired", node_id)
    return None


def suffixed_node_id(asked: str, n: int) -> str:
    """The n-th name (n >= 2) for a joining node whose asked-for name a live token holds."""
    return f"{asked[:60]}-{n}"


@dataclass
class JobSpec:
    type: str
    payload: dict
    max_attempts: int
    priority: int = 0
    cores: int = 1
    label: str | None = None
    batch_id: str | None = None


@dataclass
class BatchSpec:
    id: str
    label: str | None = None
    spec: dict | None = None


@dataclass
class Batch:
    id: str
    label: str | None
    spec: dict | None
    created_at: float


@dataclass
class JobPage:
    jobs: list[Job]
    total: int


@dataclass
class WorkerRow:
    id: str
    last_heartbeat: float
    state: dict


@dataclass
class PeerNews:
    """What other hubs sharing this store did since the last `Store.peer_news` call: the
    pushes they stored (to show their nodes live here too), and whether job counts, tokens
    or alert rules changed (to recount, to drop cached tokens, to re-read the rules)."""
    pushes: list[Push] = field(default_factory=list)
    jobs_changed: bool = False
    tokens_changed: bool = False
    watched: set[str] = field(default_factory=set)  # nodes someone follows live on another hub
    alerts_changed: bool = False  # alert rules, their channels or maintenance windows: re-read them


@dataclass
class MaintenanceReport:
    """What one `Store.maintain` call did (for logs and tests); all optional per backend."""
    checkpointed: bool = False
    details: dict[str, Any] = field(default_factory=dict)


# --- the interfaces -------------------------------------------------------------------
class SampleStore(ABC):
    """Raw samples, the node rows ingest keeps up to date, and the 1-minute and 1-hour tiers."""

    @abstractmethod
    async def ingest(self, push: Push) -> IngestResult:
        """Store a push: samples deduplicated on (node, ts), the node row created or updated
        (identity replaced unless empty, `latest` the newest sample ever seen), and the
        minutes it touched queued for rolling up, durably, in the same commit. Concurrent
        pushes may share one commit (group commit); each gets its own result."""

    @abstractmethod
    async def ingest_many(self, pushes: list[Push]) -> list[IngestResult]:
        """Several pushes in one commit; one result per push, in order."""

    @abstractmethod
    async def series(self, node_id: str, *, resolution: Resolution, points: int,
                     since: float | None = None, until: float | None = None,
                     every_s: int | None = None) -> list[dict]:
        """The newest `points` samples of a tier with since <= ts <= until, oldest first;
        `every_s` (a multiple of the tier's bucket) keeps one bucket per that many seconds."""

    async def series_json(self, node_id: str, *, resolution: Resolution, points: int,
                          since: float | None = None, until: float | None = None,
                          every_s: int | None = None) -> bytes:
        """`series` as a JSON array, what the snapshot route sends: a backend may answer it
        from samples it keeps encoded, without building them as dicts."""
        return msgspec.json.encode(await self.series(node_id, resolution=resolution, points=points,
                                                     since=since, until=until, every_s=every_s))

    async def series_json_parts(self, node_id: str, *, resolution: Resolution, points: int,
                                since: float | None = None, until: float | None = None,
                                every_s: int | None = None) -> list[bytes]:
        """`series_json` in parts whose concatenation is the array, for sending as they are: a
        backend may hand over large pieces it keeps (a node-day's texts) without joining them."""
        return [await self.series_json(node_id, resolution=resolution, points=points, since=since,
                                       until=until, every_s=every_s)]

    def set_read_cache(self, max_bytes: int) -> None:
        """Bound the memory a backend may keep of encoded history for reads (0: none); one
        that keeps none ignores it."""

    @abstractmethod
    async def recent_cpu(self, node_id: str, points: int) -> list[float | None]:
        """cpu.percent of the node's newest raw samples, oldest first (the fleet's sparklines)."""

    @abstractmethod
    async def roll_up(self, now: float, *, include_current: bool = False) -> int:
        """Average every queued minute that is over (all queued ones with `include_current`)
        into the 1-minute tier, then the hours they belong to into the 1-hour tier; returns
        the minute buckets written. A bucket's average has the shape of its latest sample:
        numbers are means (nulls skipped, lists element-wise, schema 2's keyed lists entry
        by entry by key, `processes` left out: hub/store/averaging.py), strings and booleans
        the latest given. Crash-safe: what is queued stays queued until its average is
        committed, so after any crash every minute and hour is rolled up once more and
        none is lost; samples that arrive late for a finished minute queue it again."""

    @abstractmethod
    async def pending_rollups(self) -> int:
        """(node, minute) and (node, hour) buckets still queued for rolling up."""

    @abstractmethod
    async def prune(self, now: float, retention: Retention) -> dict[str, int]:
        """Delete what is older than each tier's retention (and join codes a day past
        expiry); returns rows removed per tier: {"samples", "samples_1m", "samples_1h"}."""


class NodeStore(ABC):
    """The nodes that have reported, their tokens (stored only as hashes) and join codes."""

    @abstractmethod
    async def nodes(self) -> list[NodeRow]:
        """Every node, ordered by id."""

    @abstractmethod
    async def node(self, node_id: str) -> NodeRow | None: ...

    @abstractmethod
    async def put_token(self, node_id: str, *, token_hash: str, now: float) -> None:
        """Give the node this token, replacing (and un-revoking) any it had."""

    @abstractmethod
    async def token_node(self, token_hash: str) -> TokenMatch | None:
        """The live (unrevoked) token with this hash."""

    @abstractmethod
    async def touch_tokens(self, uses: dict[str, float]) -> None:
        """Record each node's token's last use (node id -> time), in one write."""

    @abstractmethod
    async def list_tokens(self) -> list[TokenRow]:
        """Every token ever issued, ordered by node id (hashes are not returned)."""

    @abstractmethod
    async def revoke_token(self, node_id: str, now: float) -> bool:
        """False when the node has no live token."""

    @abstractmethod
    async def put_join_code(self, code_hash: str, *, now: float, expires_at: float) -> None: ...

    @abstractmethod
    async def redeem_join_code(self, code_hash: str, *, node_id: str, token_hash: str,
                               now: float) -> Redeemed:
        """Use a join code once and store the new node token, atomically."""


class JobQueue(ABC):
    """Jobs, every attempt at them, sweep batches and the workers' heartbeats.

    A job is claimed by one worker at a time under a lease; progress and heartbeats renew
    it; `reclaim_expired` returns jobs whose lease ran out. Each claim starts an attempt,
    and a result is accepted only from the current attempt (others are kept as 'late')."""

    @abstractmethod
    async def add_jobs(self, jobs: list[JobSpec], *, now: float, batch: BatchSpec | None = None) -> list[int]:
        """Queue jobs (and their batch) in one commit; ids in order. Wakes `wait_claimable`."""

    @abstractmethod
    async def claim(self, worker_id: str, *, types: list[str], cores: int, now: float,
                    lease_s: float) -> Job | None:
        """Atomically hand the best pending job (priority, then oldest) of one of `types`
        needing at most `cores` to this worker, even with many hubs claiming at once."""

    @abstractmethod
    async def wait_claimable(self, timeout: float) -> bool:
        """Wait until a job may have become claimable (added, retried, released, reclaimed,
        by this hub or, where the backend can tell, another), or `timeout` seconds; True
        when woken. A hint only: the caller claims again either way."""

    @abstractmethod
    async def progress(self, job_id: int, *, worker_id: str, attempt: int, progress: dict | None,
                       now: float, lease_s: float) -> ProgressOutcome:
        """Record progress (None: only renew the lease). 'gone' when this is not the job's
        running attempt on this worker."""

    @abstractmethod
    async def result(self, job_id: int, *, worker_id: str, attempt: int, result: dict | None,
                     error: str | None, now: float, release: bool = False) -> ResultOutcome:
        """Record the outcome of one attempt, idempotent per (job, attempt): 'accepted' (this
        attempt decided the job), 'retry' (failed, back to pending), 'released' (given back
        unfinished, e.g. on quit; the attempt does not count), 'failed' (out of attempts),
        'duplicate' (already recorded), 'late' (not the current attempt: kept for review,
        job unchanged) or 'unknown'. Wakes `wait_claimable` on retry and release."""

    @abstractmethod
    async def reclaim_expired(self, now: float) -> list[int]:
        """Running jobs whose lease ran out go back to pending (or fail when out of
        attempts); their ids. Wakes `wait_claimable` when any went back."""

    @abstractmethod
    async def cancel(self, job_id: int, now: float) -> CancelOutcome:
        """'cancelled', or the final status the job already had, or 'unknown'."""

    @abstractmethod
    async def cancel_batch(self, batch_id: str, now: float) -> list[int] | None:
        """Cancel every pending or running job of a batch in one commit; the ids cancelled
        (ascending; empty when all had ended), or None when there is no such batch."""

    @abstractmethod
    async def heartbeat(self, worker_id: str, *, state: dict, now: float, lease_s: float) -> set[int]:
        """Record a worker's heartbeat and renew the leases of the jobs in state["running"]
        that it really runs; returns those ids (the others it should stop)."""

    @abstractmethod
    async def job(self, job_id: int) -> Job | None:
        """One job with its `attempts` (attempt, worker_id, started_at, ended_at, outcome,
        error, result, reported_at)."""

    @abstractmethod
    async def jobs(self, *, status: str | None = None, type_: str | None = None, node: str | None = None,
                   batch_id: str | None = None, limit: int = 100, offset: int = 0,
                   with_result: bool = False) -> JobPage:
        """Newest first. Without `with_result` a job has no payload and only its result's
        scalar fields (list views)."""

    @abstractmethod
    async def batch(self, batch_id: str) -> Batch | None: ...

    @abstractmethod
    async def queue_counts(self) -> dict[str, int]:
        """Jobs per status, every status present."""

    @abstractmethod
    async def job_counts_by_node(self) -> dict[str, dict[str, int]]:
        """Per worker that claimed any: {"running", "done" (succeeded), "failed"} counts."""

    @abstractmethod
    async def workers(self) -> list[WorkerRow]:
        """Every worker that ever sent a heartbeat, ordered by id."""


class Store(ABC):
    """One backend: its parts, its upkeep and its lifetime."""

    samples: SampleStore
    nodes: NodeStore
    jobs: JobQueue
    alerts: "AlertStore"  # hub/store/alerts.py, with its own contract tests
    # Errors that mean "the database server is away for now" (restarting, unreachable):
    # the API answers them 503 store_unavailable, so agents keep their samples and retry.
    unavailable: tuple[type[BaseException], ...] = ()

    @abstractmethod
    async def maintain(self, now: float) -> MaintenanceReport:
        """Housekeeping the backend needs now and then (SQLite: copy the WAL into the
        database). Cheap; the hub calls it every `checkpoint_interval_s`."""

    async def peer_news(self, timeout: float) -> PeerNews:
        """Wait up to `timeout` seconds for news from other hubs on the same store and
        return it. A backend only one hub can open (SQLite) has none: it just waits."""
        await asyncio.sleep(timeout)
        return PeerNews()

    async def announce_watching(self, node_ids: list[str]) -> None:
        """Tell the other hubs on the same store that dashboards here follow these nodes
        live, so the hub their agents push to asks them for samples every second."""

    @abstractmethod
    async def close(self) -> None:
        """Finish pending writes and release everything; the store is unusable after."""
