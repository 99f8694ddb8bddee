"""The hub's storage: typed interfaces (interface.py) and the backends behind them.

`open_store(url)` picks the backend from the URL's scheme: `sqlite:///path/forge.db`
(hub/store/sqlite/) today; `postgresql://…` slots in as hub/store/postgresql/ with an
`open(url)` of its own. Nothing outside a backend's folder sees its SQL.
"""
from __future__ import annotations

import importlib
from pathlib import Path

from .interface import (FINAL_STATUSES, JOB_STATUSES, Batch, BatchSpec, IngestResult, Job, JobPage,
                        JobQueue, JobSpec, MaintenanceReport, NodeRow, NodeStore, PeerNews, Push, Redeemed,
                        Retention, SampleStore, Store, TokenMatch, TokenRow, WorkerRow)

BACKENDS = {"sqlite": "hub.store.sqlite", "postgresql": "hub.store.postgresql",
            "postgres": "hub.store.postgresql"}


class StoreUrlError(ValueError):
    """A store URL this hub cannot open (unknown scheme, backend not installed)."""


def sqlite_url(path: Path | str) -> str:
    """The URL of a SQLite file (`sqlite:////abs/path` for an absolute one, as SQLAlchemy writes it)."""
    return f"sqlite:///{Path(path)}"


async def open_store(url: str) -> Store:
    """Open (creating and migrating as needed) the store a URL names."""
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    module = BACKENDS.get(scheme.split("+", 1)[0])
    if module is None:
        raise StoreUrlError(f"store URL {url.split('@')[-1]!r}: use sqlite:///path or postgresql://…")
    try:
        backend = importlib.import_module(module)
    except ImportError as e:
        raise StoreUrlError(f"the {scheme} store is not available in this install: {e}") from None
    return await backend.open(url)


__all__ = ["FINAL_STATUSES", "JOB_STATUSES", "Batch", "BatchSpec", "IngestResult", "Job", "JobPage", "JobQueue",
           "JobSpec", "MaintenanceReport", "NodeRow", "NodeStore", "PeerNews", "Push", "Redeemed", "Retention", "SampleStore",
           "Store", "StoreUrlError", "TokenMatch", "TokenRow", "WorkerRow", "open_store", "sqlite_url"]
