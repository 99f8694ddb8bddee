"""`forge hub --export NODE`: a node's stored history as NDJSON, one sample per line, oldest
first, read through the store interface (any backend), so nothing is locked in a format."""
from __future__ import annotations

import re
import sys
from datetime import datetime, timezone
from typing import TextIO

import msgspec

from .store import open_store
from .store.interface import Resolution

WINDOW_S = {"1s": 3600.0, "1m": 86400.0, "1h": 86400.0 * 30}
_RELATIVE = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_time(text: str, now: float) -> float:
    """Unix seconds, an ISO 8601 date or time (UTC unless it says), or an age: 90m, 24h, 7d."""
    text = text.strip()
    if m := _RELATIVE.match(text):
        return now - float(m.group(1)) * _UNITS[m.group(2)]
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"not a time: {text!r} (Unix seconds, 2026-12-01T08:00, or an age like 24h)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


async def export(store_url: str, node_id: str, *, since: float, until: float, resolution: Resolution = "1s",
                 out: TextIO = sys.stdout) -> int:
    """Write the node's samples with since <= ts <= until; returns how many. A window at a
    time, so memory stays flat however long the history."""
    store = await open_store(store_url)
    written = 0
    encoder = msgspec.json.Encoder()
    try:
        if await store.nodes.node(node_id) is None:
            raise LookupError(f"no node {node_id!r} in this hub's store")
        lo, step = since, WINDOW_S[resolution]
        while lo <= until:
            hi = min(until, lo + step)
            for s in await store.samples.series(node_id, resolution=resolution, points=10**7, since=lo, until=hi):
                if s["ts"] < hi or hi == until:
                    out.write(encoder.encode(s).decode() + "\n")
                    written += 1
            lo = hi if hi < until else until + 1
    finally:
        await store.close()
    out.flush()
    return written
