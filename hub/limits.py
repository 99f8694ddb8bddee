"""Bounds on what a request may carry: integers that fit SQLite's 64 bits, finite times,
JSON that is not nested absurdly deep. Each breach is a 400 (see hub/errors.py)."""
from __future__ import annotations

import math
import re

import numpy as np

from aiohttp import web

from .errors import bad_request

INT64_MAX = 2**63 - 1
MAX_JSON_DEPTH = 64
# Unix seconds from 1970 to the year 9999: what ts_ms can store and datetime can show.
MAX_TIME_S = 253402300799.0


_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = bytes.maketrans(b"[]{}", b"\x01\xff\x01\xff")  # +1 / -1 as int8


def raw_json_depth_ok(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when no array/object of valid JSON text nests deeper than `limit`, read from the
    text at C speed: the strings taken out (split at quotes when nothing is escaped), the
    brackets left a +1/-1 each, and the deepest running sum. A push's 5 samples: 10-30 us,
    where walking the decoded value took ~170 us of the event loop's time per push."""
    if b"\\" in raw:
        outside = _STRING.sub(b"", raw)
    else:
        outside = b"".join(raw.split(b'"')[::2])
    brackets = outside.translate(None, _NOT_BRACKETS)
    if not brackets:
        return limit >= 0
    if len(brackets) <= 2 * limit:
        return True
    steps = np.frombuffer(brackets.translate(_STEP), dtype=np.int8)
    return int(np.cumsum(steps, dtype=np.int64).max()) <= limit


def int64(raw: str, name: str, lo: int = 0, hi: int = INT64_MAX) -> int:
    """A path or query integer; anything else, or outside [lo, hi], is a 400 naming it."""
    try:
        v = int(raw)
    except (TypeError, ValueError):
        raise bad_request(f"'{name}' must be an integer") from None
    if not lo <= v <= hi:
        raise bad_request(f"'{name}' must be between {lo} and {hi}")
    return v


def path_int(request: web.Request, name: str) -> int:
    return int64(request.match_info[name], name, 0)


def time_param(request: web.Request, name: str) -> float | None:
    """A Unix time in a query: finite and within what the store can hold."""
    raw = request.query.get(name)
    if raw is None:
        return None
    try:
        v = float(raw)
    except ValueError:
        v = math.nan
    if not math.isfinite(v) or not -MAX_TIME_S <= v <= MAX_TIME_S:
        raise bad_request(f"'{name}' must be a finite Unix time in seconds (at most {MAX_TIME_S:.0f})")
    return v


def body_int_list(value: object, name: str) -> list[int]:
    if not isinstance(value, list) or not all(
            isinstance(x, int) and not isinstance(x, bool) and 0 <= x <= INT64_MAX for x in value):
        raise bad_request(f"'{name}' must be a list of job ids (integers from 0 to {INT64_MAX})")
    return value


class AttemptWindow:
    """Attempts per key (a client address) within the last `window_s` seconds.

    Keys whose attempts are all older than the window are dropped, at most once per
    window, so a scan from many addresses cannot grow the table for the life of the hub."""

    def __init__(self, limit: int, window_s: float = 60.0):
        self.limit, self.window_s = limit, window_s
        self._hits: dict[str, list[float]] = {}
        self._next_prune = 0.0

    def __len__(self) -> int:
        return len(self._hits)

    def allow(self, key: str, now: float) -> bool:
        """Counts an attempt and says whether it is within the limit."""
        if now >= self._next_prune:
            self._hits = {k: v for k, v in self._hits.items() if v and now - v[-1] < self.window_s}
            self._next_prune = now + self.window_s
        recent = [t for t in self._hits.get(key, ()) if now - t < self.window_s]
        if len(recent) >= self.limit:
            self._hits[key] = recent
            return False
        recent.append(now)
        self._hits[key] = recent
        return True
