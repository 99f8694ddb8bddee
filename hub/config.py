"""Hub settings, declared once (name, default, help) so the CLI, tests and docs share them."""
from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path


def _setting(default, help: str):
    return field(default=default, metadata={"help": help})


@dataclass
class HubConfig:
    data_dir: Path = _setting(Path("."), "Folder for the SQLite database and the admin secret.")
    store_url: str = _setting("", "Where the hub keeps its data: `sqlite:///relative.db` or "
                                  "`sqlite:////absolute/forge.db`; empty means forge.db in data_dir; or "
                                  "`postgresql://user:pass@host:port/db`, which several hubs may share.")
    host: str = _setting("0.0.0.0", "Address to listen on.")
    port: int = _setting(3000, "TCP port to listen on.")
    admin_secret: str = _setting("", "Bearer secret for admin routes (tokens, job submission).")
    viewer_token: str = _setting("", "If set, viewer routes (fleet, dashboard data) need this bearer token.")
    degraded_after_s: float = _setting(15.0, "A node is degraded when its last push is older than this.")
    offline_after_s: float = _setting(60.0, "A node is offline when its last push is older than this.")
    raw_retention_s: float = _setting(48 * 3600.0, "How long raw 1 s samples are kept.")
    minute_retention_s: float = _setting(30 * 86400.0, "How long 1-minute averages are kept.")
    hour_retention_s: float = _setting(400 * 86400.0, "How long 1-hour averages are kept.")
    prune_interval_s: float = _setting(600.0, "How often the retention prune runs.")
    read_cache_mb: float = _setting(64.0, "Memory for finished history blocks' samples kept as JSON, so repeated "
                                          "snapshot reads skip decoding them (SQLite store); 0 turns it off.")
    rollup_interval_s: float = _setting(30.0, "How often completed minutes are averaged into tiers.")
    sse_coalesce_s: float = _setting(1.0, "Fleet SSE events are coalesced to at most one per this many seconds.")
    status_interval_s: float = _setting(1.0, "How often node status changes are checked.")
    checkpoint_interval_s: float = _setting(1.0, "How often the WAL is copied into the database (off the write path).")
    peer_interval_s: float = _setting(0.5, "With several hubs on one PostgreSQL store: the longest a hub takes to show "
                                           "another hub's pushes, job counts and token changes.")
    max_samples_per_push: int = _setting(1000, "Largest batch an agent may push at once.")
    lease_s: float = _setting(300.0, "A running job whose lease is not renewed for this long is reclaimed.")
    reclaim_interval_s: float = _setting(10.0, "How often expired job leases are reclaimed.")
    max_attempts: int = _setting(3, "Attempts before a job ends failed.")
    allow_test_jobs: bool = _setting(False, "Accept test-only job types (e.g. sleep). Never in production.")
    join_ttl_minutes: float = _setting(15.0, "Default lifetime of a one-time join code.")
    join_attempts_per_minute: int = _setting(10, "Join attempts allowed per client address per minute.")
    agent_downloads_dir: Path | None = _setting(None, "Folder of agent builds the hub offers for download.")
    token_use_interval_s: float = _setting(30.0, "How often tokens' last use is written (for `forge tokens list`).")
    max_clock_skew_s: float = _setting(300.0, "How far ahead of the hub's clock a sample's ts may be.")
    max_sample_bytes: int = _setting(64 * 1024, "Largest single sample (its JSON) the hub stores; larger is a 413.")
    max_batch_bytes: int = _setting(8 * 1024 * 1024, "Largest ingest request body; larger is a 413.")
    header_timeout_s: float = _setting(10.0, "A connection must send a request's headers within this many seconds.")
    body_timeout_s: float = _setting(30.0, "A request body must arrive within this many seconds (else 408).")
    keepalive_timeout_s: float = _setting(30.0, "An idle keep-alive connection is closed after this many seconds.")
    max_connections_per_address: int = _setting(256, "Open connections allowed from one client address.")
    allowed_hosts: str = _setting("", "Comma-separated Host names the hub answers (DNS rebinding guard); empty: any.")
    tls_cert: Path | None = _setting(None, "PEM certificate file: serve HTTPS (with tls_key).")
    tls_key: Path | None = _setting(None, "PEM private key file for tls_cert.")
    public_url: str = _setting("", "Address people open the dashboard at, for links in notifications "
                                   "(default http://<hostname>:<port>).")

    @property
    def db_path(self) -> Path:
        return Path(self.data_dir) / "forge.db"

    @property
    def resolved_store_url(self) -> str:
        return self.store_url or f"sqlite:///{self.db_path.absolute()}"

    @classmethod
    def from_env(cls, **overrides) -> "HubConfig":
        """Settings from FORGE_HUB_<NAME> environment variables, then explicit overrides."""
        values = {}
        for f in fields(cls):
            raw = os.environ.get("FORGE_HUB_" + f.name.upper())
            if raw is None:
                continue
            values[f.name] = _parse(f.type, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


def _parse(type_name: str, raw: str):
    t = str(type_name)
    if t.startswith("bool"):
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if t.startswith("int"):
        return int(raw)
    if t.startswith("float"):
        return float(raw)
    if "Path" in t:
        return Path(raw)
    return raw


def settings_help() -> dict[str, str]:
    return {f.name: f.metadata["help"] for f in fields(HubConfig)}
