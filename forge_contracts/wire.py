"""Request and response bodies of the hub API other than samples: identity, ingest,
tokens, join, jobs and the errors. The OpenAPI document is generated from these."""
from __future__ import annotations

from typing import Annotated, Any

import msgspec

from .samples import Process, SampleV2

NodeId = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
Short = Annotated[str, msgspec.Meta(max_length=128)]


class Identity(msgspec.Struct, omit_defaults=True):
    """What an agent says about its machine with every batch (docs/SAMPLES.md "Node identity")."""
    hostname: str | None = None
    os: str | None = None
    os_version: str | None = None
    arch: str | None = None
    cores: Annotated[int, msgspec.Meta(ge=0, le=1 << 20)] | None = None
    physical_cores: Annotated[int, msgspec.Meta(ge=0, le=1 << 20)] | None = None
    agent_version: str | None = None


class IngestBatch(msgspec.Struct):
    """POST /api/ingest/{node_id}: samples of schema 1 or 2 (fields of newer schemas allowed)."""
    samples: list[SampleV2]
    node: Identity | None = None


class IngestReply(msgspec.Struct):
    accepted: int
    duplicate: int
    live: bool


class Error(msgspec.Struct):
    error: str
    message: str


class TokenRequest(msgspec.Struct, omit_defaults=True):
    node_id: NodeId | None = None
    join: bool = False
    ttl_minutes: float | None = None


class TokenCreated(msgspec.Struct, omit_defaults=True):
    node_id: str | None = None
    token: str | None = None
    code: str | None = None
    expires_at: float | None = None
    ttl_minutes: float | None = None


class TokenInfo(msgspec.Struct):
    node_id: str
    created_at: float
    last_used: float | None
    revoked: bool


class TokenList(msgspec.Struct):
    tokens: list[TokenInfo]


class JoinRequest(msgspec.Struct, omit_defaults=True):
    code: str
    node_id: str | None = None
    hostname: str | None = None


class JoinReply(msgspec.Struct):
    node_id: str
    token: str


class JobSubmit(msgspec.Struct, omit_defaults=True):
    """One job, or `jobs` (a batch), or `sweep` (a base payload and a grid)."""
    type: str | None = None
    payload: dict[str, Any] | None = None
    priority: Annotated[int, msgspec.Meta(ge=-1000, le=1000)] = 0
    cores: Annotated[int, msgspec.Meta(ge=1, le=1024)] = 1
    max_attempts: Annotated[int, msgspec.Meta(ge=1, le=20)] | None = None
    label: str | None = None
    jobs: list[dict[str, Any]] | None = None
    sweep: dict[str, Any] | None = None


class JobCreated(msgspec.Struct, omit_defaults=True):
    id: int | None = None
    ids: list[int] | None = None
    batch_id: str | None = None


class JobFile(msgspec.Struct):
    """A file's text to submit as a job (POST /api/jobs/upload), sniffed as `forge jobs submit` does."""
    filename: str
    content: str
    type: str | None = None
    priority: int = 0
    check: bool = False


class JobFileSeen(msgspec.Struct, omit_defaults=True):
    """What the hub took a file for; with the new job's id(s) unless it was only a check."""
    kind: str
    type: str
    jobs: int
    label: str | None = None
    shape: str | None = None
    id: int | None = None
    ids: list[int] | None = None
    batch_id: str | None = None


class Health(msgspec.Struct):
    service: str
    version: str
    time: float
    hostname: str
    limits: dict[str, float]
    loopback_only: bool


class JobCopy(msgspec.Struct, omit_defaults=True):
    """A retried or resubmitted job: the new job's id and the one it copies."""
    id: int
    retry_of: int | None = None
    resubmit_of: int | None = None
    seed: int | None = None


class Thresholds(msgspec.Struct):
    degraded_s: float
    offline_s: float


class TopProcess(msgspec.Struct):
    """The process with the most CPU in a node's newest process list."""
    name: str
    cpu_percent: float


class NodeSummary(msgspec.Struct):
    """A node as GET /api/fleet lists it; `spark` and `latest` only there, not in a snapshot."""
    id: str
    name: str
    status: Annotated[str, msgspec.Meta(pattern="^(online|degraded|offline)$")]
    last_seen: float
    first_seen: float
    jobs: dict[str, int]
    hostname: str | None = None
    os: str | None = None
    os_version: str | None = None
    arch: str | None = None
    cores: int | None = None
    agent_version: str | None = None
    last_sample_ts: float | None = None
    cpu: float | None = None
    mem: float | None = None
    gpu_percent: float | None = None
    top_process: TopProcess | None = None
    spark: list[float | None] | None = None
    latest: dict[str, Any] | None = None


class Fleet(msgspec.Struct):
    now: float
    thresholds: Thresholds
    nodes: list[NodeSummary]


class ProcessList(msgspec.Struct):
    """A node's newest process list as its agent sent it (`ts` of the sample that held it)."""
    ts: float
    items: list[Process]


class Snapshot(msgspec.Struct):
    node: NodeSummary
    resolution: str
    samples: list[dict[str, Any]]
    processes: ProcessList | None = None


class Revoked(msgspec.Struct):
    revoked: str


class Claim(msgspec.Struct, omit_defaults=True):
    types: list[str] | None = None
    cores: Annotated[int, msgspec.Meta(ge=1, le=1024)] = 1
    wait_s: Annotated[float, msgspec.Meta(ge=0, le=30)] = 0


class Claimed(msgspec.Struct):
    job: dict[str, Any] | None
    lease_s: float


class Progress(msgspec.Struct, omit_defaults=True):
    attempt: Annotated[int, msgspec.Meta(ge=1, le=1000)]
    progress: dict[str, Any] | None = None


class Result(msgspec.Struct, omit_defaults=True):
    attempt: Annotated[int, msgspec.Meta(ge=1, le=1000)]
    result: dict[str, Any] | None = None
    error: str | None = None
    release: bool = False


class Ok(msgspec.Struct):
    ok: bool
    lease_s: float


class ResultOutcome(msgspec.Struct):
    outcome: str


class Heartbeat(msgspec.Struct, omit_defaults=True):
    running: list[Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)]] = []
    paused: bool | None = None


class HeartbeatReply(msgspec.Struct):
    ok: bool
    stop: list[int]
    lease_s: float


class JobList(msgspec.Struct):
    jobs: list[dict[str, Any]]
    total: int
    counts: dict[str, int]
    types: list[str]


class Cancelled(msgspec.Struct):
    id: int
    status: str


class BatchCancelled(msgspec.Struct):
    """The jobs of a batch that a cancel stopped (those that had not ended)."""
    batch_id: str
    cancelled: list[int]


class DownloadFile(msgspec.Struct):
    name: str
    size: int
    os: str
    url: str


class Downloads(msgspec.Struct):
    files: list[DownloadFile]
