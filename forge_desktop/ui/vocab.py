"""The hub's vocabularies in the native windows: job statuses in their order, which are
final, the tone of each status and outcome, and the node charts' time ranges, read from
GET /api/meta once per hub (the process keeps them) through `api_reader.fetch`.

Without them (an unreachable hub, or one too old to serve them) a window still works:
the status filter and counts take the statuses from the queue's own `counts`, every
status is painted in the theme's muted colour, none counts as final (windows keep
polling), the node window shows only LATEST (the newest samples, live, no range
buttons), `error` says why, and the next window or poll asks again after RETRY_S. There
is no list of statuses or ranges here to drift from the hub's.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

from . import theme as th
from .api_reader import fetch

RETRY_S = 30.0
NO_SOLUTION_TONE = "warn"
"""The desktop's own outcome of a succeeded job without an answer ("infeasible", "no solution", job_text.outcome)."""


@dataclass(frozen=True)
class Span:
    """One of the hub's time ranges (forge_contracts.vocabulary.TimeRange, as GET /api/meta serves it)."""
    key: str
    label: str
    seconds: int
    resolution: str
    points: int
    step: int
    every: int | None = None
    live: bool = False
    refresh_s: int | None = None

    @classmethod
    def of(cls, term: dict) -> "Span":
        return cls(str(term["key"]), str(term["label"]), int(term["seconds"]), str(term["resolution"]),
                   int(term["points"]), int(term["step"]), None if term.get("every") is None else int(term["every"]),
                   bool(term.get("live")), None if term.get("refresh_s") is None else int(term["refresh_s"]))


LATEST = Span("latest", "latest samples", 300, "1s", 300, 1, live=True)
"""What the node window shows without the hub's ranges: the snapshot route's default answer
(its newest 300 raw samples), followed live."""


@dataclass(frozen=True)
class Vocabulary:
    statuses: tuple[str, ...] = ()
    final: frozenset[str] = frozenset()
    tones: dict[str, str] = field(default_factory=dict)
    spans: tuple[Span, ...] = ()
    """The node charts' time ranges, shortest first; empty without the meta."""
    error: str | None = None

    @classmethod
    def of(cls, meta: dict) -> "Vocabulary":
        terms = [*meta["job_statuses"], *meta.get("attempt_outcomes", [])]
        return cls(tuple(t["name"] for t in meta["job_statuses"]),
                   frozenset(t["name"] for t in meta["job_statuses"] if t.get("final")),
                   {t["name"]: t["tone"] for t in reversed(terms)},
                   tuple(Span.of(t) for t in meta.get("time_ranges") or ()))

    @property
    def loaded(self) -> bool:
        return self.error is None and bool(self.statuses)

    def job_statuses(self, counts: dict | None = None) -> tuple[str, ...]:
        """The hub's statuses; without the meta, those the queue's `counts` name."""
        return self.statuses or tuple(counts or ())

    def is_final(self, status: str | None) -> bool:
        return status in self.final

    def tone(self, name: str | None) -> str:
        if name in ("infeasible", "no solution"):
            return NO_SOLUTION_TONE
        return self.tones.get(name or "", "neutral")

    def color(self, name: str | None) -> str:
        """The current theme's colour for a job status, an attempt outcome or the desktop's no-solution outcome."""
        return th.tone_color(self.tone(name))


_known: dict[str, Vocabulary] = {}
_failed_at: dict[str, float] = {}
_waiting: dict[str, list[Callable[[Vocabulary], None]]] = {}


def vocabulary(hub_url: str) -> Vocabulary:
    """What is known of `hub_url`'s vocabularies now (empty until `load_vocabulary` answers)."""
    return _known.get(hub_url, Vocabulary())


def load_vocabulary(hub_url: str, token: str | None, on_done: Callable[[Vocabulary], None]) -> None:
    """Call `on_done(vocabulary)` on the GUI thread: at once if the meta is known (or failed
    less than RETRY_S ago), else once GET /api/meta answers; one request per hub at a time."""
    known = _known.get(hub_url)
    if known is not None and (known.loaded or time.monotonic() - _failed_at.get(hub_url, 0) < RETRY_S):
        on_done(known)
        return
    waiting = _waiting.setdefault(hub_url, [])
    waiting.append(on_done)
    if len(waiting) > 1:
        return

    def settle(v: Vocabulary) -> None:
        _known[hub_url] = v
        if not v.loaded:
            _failed_at[hub_url] = time.monotonic()
        for fn in _waiting.pop(hub_url, []):
            try:
                fn(v)
            except RuntimeError:  # the window that asked was closed (and its widgets freed) meanwhile
                pass

    def done(meta) -> None:
        try:
            settle(Vocabulary.of(meta))
        except (KeyError, TypeError, ValueError):
            settle(Vocabulary(error="the hub's GET /api/meta is not a vocabulary"))

    fetch(hub_url, token, "/api/meta", on_done=done, on_failed=lambda message: settle(Vocabulary(error=message)))
