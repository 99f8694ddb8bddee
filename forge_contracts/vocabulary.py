"""The words the hub, the dashboard, the desktop app and the CLI share, each said once.

Job statuses, the outcomes of attempts and of result reports, node statuses, the time
ranges of a node's charts (with the history tier each reads), and each term's meaning
and colour. The hub serves all of it as GET /api/meta (`meta()`), so the web and Qt
views read it instead of keeping their own lists. The SQL CHECK in
hub/store/sqlite/migrations/002_jobs.sql repeats JOB_STATUSES because a migration
cannot import; tests/test_meta.py checks that the two agree.

`tone` is the colour's role: the dashboard (hub/static/css/app.css) and the desktop app
(ui/theme.py) each map it to their own light and dark theme, so a status is coloured by
what the hub says it means; `colour` is a hex for clients without a theme (scripts).
"""
from __future__ import annotations

from typing import Literal, get_args

import msgspec

JobStatus = Literal["pending", "running", "succeeded", "failed", "cancelled"]
JOB_STATUSES: tuple[JobStatus, ...] = get_args(JobStatus)
FINAL_STATUSES: tuple[JobStatus, ...] = ("succeeded", "failed", "cancelled")
Tone = Literal["neutral", "active", "good", "warn", "bad", "muted"]
TONE_COLOURS: dict[str, str] = {"neutral": "#6b7280", "active": "#2f6fd6", "good": "#2e9d58", "warn": "#d9822b",
                                "bad": "#b3261e", "muted": "#7a7f87"}


class Term(msgspec.Struct, frozen=True):
    """One word of a vocabulary: what it means to a person and how it is coloured."""
    name: str
    meaning: str
    tone: Tone
    colour: str
    final: bool = False


def _term(name: str, tone: Tone, meaning: str, final: bool = False) -> Term:
    return Term(name, meaning, tone, TONE_COLOURS[tone], final)


JOB_STATUS_TERMS: tuple[Term, ...] = (
    _term("pending", "neutral", "waiting for a worker that runs its type (also between retries)"),
    _term("running", "active", "claimed by a worker that holds its lease"),
    _term("succeeded", "good", "a worker returned its result", final=True),
    _term("failed", "bad", "every attempt failed or its lease ran out; kept for review", final=True),
    _term("cancelled", "muted", "cancelled by an admin before it ended", final=True),
)
ATTEMPT_OUTCOMES: tuple[Term, ...] = (
    _term("running", "active", "the attempt is still running (no outcome yet)"),
    _term("succeeded", "good", "this attempt's result decided the job", final=True),
    _term("failed", "bad", "the solver raised or its process died", final=True),
    _term("released", "muted", "the worker gave the job back unfinished (it was quitting); not counted",
          final=True),
    _term("reclaimed", "warn", "the lease ran out (the worker went quiet); the job went back to the queue",
          final=True),
    _term("late", "muted", "a result from a reclaimed attempt, kept for review; the job is unchanged",
          final=True),
    _term("late-failed", "muted", "an error from a reclaimed attempt, kept for review", final=True),
)
"""`outcome` of an entry of a job's `attempts` (null while running)."""
RESULT_OUTCOMES: tuple[Term, ...] = (
    _term("accepted", "good", "this attempt decided the job"),
    _term("retry", "warn", "the attempt failed; the job is pending again"),
    _term("failed", "bad", "the attempt failed and it was the last one"),
    _term("released", "muted", "the job is pending again and this attempt does not count"),
    _term("duplicate", "muted", "this attempt's outcome was already recorded"),
    _term("late", "muted", "not the current attempt: kept for review, the job unchanged"),
)
"""`outcome` of the answer to POST /api/jobs/{id}/result."""
NODE_STATUSES: tuple[Term, ...] = (
    _term("online", "good", "pushed within the degraded threshold"),
    _term("degraded", "warn", "late: no push within the degraded threshold"),
    _term("offline", "bad", "no push within the offline threshold"),
)


class TimeRange(msgspec.Struct, frozen=True):
    """A node chart's time range, the one definition both the dashboard and the desktop app draw.

    The snapshot route is asked for `points` samples of tier `resolution` (raw 1 s up to 1 h,
    1-minute averages up to 7 d, 1-hour averages from 30 d) since `seconds` ago, and for `every`
    seconds per point where the tier holds more points than a chart needs. `step` is the spacing
    expected between points (a larger gap is drawn as a gap). `live` ones follow the node's SSE
    stream; the others are read again every `refresh_s`."""
    key: str
    label: str
    seconds: int
    resolution: Literal["1s", "1m", "1h"]
    points: int
    step: int
    every: int | None = None
    live: bool = False
    refresh_s: int | None = None


TIME_RANGES: tuple[TimeRange, ...] = (
    TimeRange("live", "5 min live", 300, "1s", 300, 1, live=True),
    TimeRange("1h", "1 h", 3600, "1s", 3600, 1, live=True),
    TimeRange("6h", "6 h", 6 * 3600, "1m", 360, 60, refresh_s=60),
    TimeRange("24h", "24 h", 86400, "1m", 1440, 60, refresh_s=60),
    TimeRange("7d", "7 d", 7 * 86400, "1m", 2016, 300, every=300, refresh_s=300),
    # 30 d from the hours, not one minute in 15: an hour's average covers all of its samples,
    # and the hub reads 30 node-days (stored as JSON) instead of decoding 720 node-hour blocks.
    TimeRange("30d", "30 d", 30 * 86400, "1h", 720, 3600, refresh_s=900),
    TimeRange("1y", "1 y", 365 * 86400, "1h", 4380, 7200, every=7200, refresh_s=3600),
)
"""Shortest first: a view opens on the first and, for a node that stopped reporting, on the
shortest that still holds its last data."""


class JobTypeInfo(msgspec.Struct, frozen=True):
    name: str
    description: str
    test_only: bool = False


class Meta(msgspec.Struct):
    """GET /api/meta: every vocabulary a view needs, from the hub it talks to."""
    version: str
    job_statuses: list[Term]
    attempt_outcomes: list[Term]
    result_outcomes: list[Term]
    node_statuses: list[Term]
    time_ranges: list[TimeRange]
    job_types: list[JobTypeInfo]


def meta(job_types: list[JobTypeInfo]) -> Meta:
    """The vocabularies, with the job types this hub runs."""
    from forge_contracts import __version__

    return Meta(__version__, list(JOB_STATUS_TERMS), list(ATTEMPT_OUTCOMES), list(RESULT_OUTCOMES),
                list(NODE_STATUSES), list(TIME_RANGES), job_types)


def colour_of(name: str | None, terms: tuple[Term, ...] = JOB_STATUS_TERMS + ATTEMPT_OUTCOMES) -> str | None:
    """The hex colour of a status or outcome; None for a word not in `terms`."""
    return next((t.colour for t in terms if t.name == name), None)
