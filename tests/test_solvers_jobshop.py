"""jobshop: published optima reached and proved, schedules checked independently, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from forge_desktop.solvers import registry
from forge_desktop.solvers.jobshop import parse_jsplib
from forge_desktop.solvers.payload import PayloadError

JSPLIB = Path(__file__).resolve().parent / "fixtures" / "jsplib"
PUBLISHED = {entry["name"]: entry for entry in json.loads((JSPLIB / "instances.json").read_text())}


def instance_text(name: str) -> str:
    return (JSPLIB / PUBLISHED[name]["path"]).read_text()


def check_schedule(jobs: list[list[list[int]]], result: dict) -> None:
    """Every operation once, right machine and duration, job order kept, no machine overlap."""
    schedule = result["schedule"]
    assert sorted((s["job"], s["op"]) for s in schedule) == [
        (j, o) for j, job in enumerate(jobs) for o in range(len(job))]
    by_key = {(s["job"], s["op"]): s for s in schedule}
    for j, job in enumerate(jobs):
        for o, (machine, duration) in enumerate(job):
            entry = by_key[(j, o)]
            assert entry["machine"] == machine
            assert entry["end"] - entry["start"] == duration
            assert entry["start"] >= 0
            if o:
                assert entry["start"] >= by_key[(j, o - 1)]["end"], f"job {j} op {o} starts early"
    per_machine: dict[int, list[tuple[int, int]]] = {}
    for s in schedule:
        per_machine.setdefault(s["machine"], []).append((s["start"], s["end"]))
    for machine, spans in per_machine.items():
        spans.sort()
        for (_, end), (start, _) in zip(spans, spans[1:]):
            assert start >= end, f"machine {machine} runs two operations at once"
    assert result["makespan"] == max(s["end"] for s in schedule)


@pytest.mark.parametrize("name", ["ft06", "la01", "la02", "la03", "la04", "la05"])
def test_reaches_and_proves_published_optimum(name):
    payload = registry.validate("jobshop", {"jsplib": instance_text(name), "time_limit": 60, "threads": 2})
    result = registry.solve("jobshop", payload)
    assert result["status"] == "optimal" and result["optimal"] is True
    assert result["makespan"] == PUBLISHED[name]["optimum"]
    assert result["lower_bound"] == result["makespan"]
    check_schedule(payload["jobs"], result)


def test_json_form_matches_instance_text_and_reports_progress():
    text_payload = registry.validate("jobshop", {"jsplib": instance_text("ft06")})
    events: list[dict] = []
    result = registry.solve("jobshop", {"jobs": text_payload["jobs"], "time_limit": 30}, progress=events.append)
    assert result["makespan"] == 55
    assert events[-1]["incumbent"] == 55 and events[-1]["gap"] == 0.0
    assert all(set(e) >= {"incumbent", "bound", "gap", "elapsed"} for e in events)


def test_time_limit_gives_best_schedule_with_valid_bound():
    payload = registry.validate("jobshop", {"jsplib": instance_text("ta21"), "time_limit": 1})
    result = registry.solve("jobshop", payload)
    assert result["status"] in ("feasible", "optimal")
    entry = PUBLISHED["ta21"]
    published_lower = entry["optimum"] or entry["bounds"]["lower"]
    published_upper = entry["optimum"] or entry["bounds"]["upper"]
    assert result["lower_bound"] <= published_upper
    assert result["makespan"] >= published_lower
    check_schedule(payload["jobs"], result)


def test_zero_duration_operations_and_repeated_machines():
    jobs = [[[0, 3], [0, 0], [1, 2]], [[1, 4], [0, 1]]]
    result = registry.solve("jobshop", {"jobs": jobs, "time_limit": 10})
    assert result["optimal"]
    check_schedule(jobs, result)
    assert result["makespan"] == 6


def test_parse_skips_comments_and_blank_lines():
    instance = parse_jsplib("# a\n\n2 2  # jobs machines\n0 1 1 2\n\n1 3 0 4\n")
    assert instance.machines == 2
    assert instance.jobs == [[(0, 1), (1, 2)], [(1, 3), (0, 4)]]


@pytest.mark.parametrize("text, fragment", [
    ("", "no instance found"),
    ("# only\n", "no instance found"),
    ("2\n0 1\n", "line 1: expected 'jobs machines'"),
    ("# c\n2 x\n", "line 2: expected 'jobs machines'"),
    ("2 2\n0 1 1 2\n", "expected 2 job lines after line 1, found 1"),
    ("1 2\n0 1 1\n", "line 2 (job 0): expected 4 numbers"),
    ("1 2\n0 1 1 -2\n", "line 2 (job 0): '-2' is not a non-negative whole number"),
    ("1 2\n0 1 2 2\n", "line 2 (job 0, operation 1): machine 2 does not exist"),
    ("1 1\n0 1\n0 1\n", "line 3: more job lines"),
])
def test_bad_instance_text_names_the_line(text, fragment):
    with pytest.raises(PayloadError) as err:
        registry.validate("jobshop", {"jsplib": text})
    assert err.value.field == "payload.jsplib"
    assert fragment in err.value.reason


@pytest.mark.parametrize("payload, field, fragment", [
    ({}, "payload", "exactly one of"),
    ({"jobs": [[[0, 1]]], "jsplib": "1 1\n0 1\n"}, "payload", "exactly one of"),
    ({"jobs": []}, "payload.jobs", "non-empty list"),
    ({"jobs": [[]]}, "payload.jobs[0]", "non-empty list"),
    ({"jobs": [[[0, 1]], [[0]]]}, "payload.jobs[1][0]", "[machine, duration] pair"),
    ({"jobs": [[[0, -1]]]}, "payload.jobs[0][0]", "duration must be"),
    ({"jobs": [[[0, 1.5]]]}, "payload.jobs[0][0]", "duration must be"),
    ({"jobs": [[["a", 1]]]}, "payload.jobs[0][0]", "machine must be"),
    ({"jobs": [[[0, 1], [3, 1]]], "machines": 2}, "payload.jobs[0][1]", "machine 3 does not exist"),
    ({"jobs": [[[0, 1]]], "machines": 0}, "payload.machines", "whole number >= 1"),
    ({"jobs": [[[0, 1]]], "time_limit": 0}, "payload.time_limit", "positive"),
    ({"jobs": [[[0, 1]]], "threads": 0}, "payload.threads", "at least 1"),
    ({"jobs": [[[0, 1]]], "seed": 0.5}, "payload.seed", "whole number"),
    ({"jobs": [[[0, 1]]], "timelimit": 5}, "payload.timelimit", "unknown field"),
    ({"jsplib": 42}, "payload.jsplib", "text of a JSPLIB"),
])
def test_bad_json_payload_names_the_field(payload, field, fragment):
    with pytest.raises(PayloadError) as err:
        registry.validate("jobshop", payload)
    assert err.value.field == field
    assert fragment in err.value.reason
