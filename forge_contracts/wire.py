"""Request and response bodies of the hub API other than samples: identity, ingest,
tokens, join, jobs and the errors. The OpenAPI document is generated from these."""
from __future__ import annotations

from typing import Annotated, Any

import msgspec

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
    samples: list[dict[str, Any]]
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


class Health(msgspec.Struct):
    service: str
    version: str
    time: float
    hostname: str
    limits: dict[str, float]
