"""Scenario sweeps: a base problem and a parameter grid become a batch spread over the fleet."""
from __future__ import annotations

import pytest

from conftest import http, wait_until
from hub import sweeps

BASE = {
    "periods": 4,
    "capacity": 100,
    "items": [
        {"id": "A", "demand": [20, 30, 20, 40], "unit_time": 1, "setup_time": 10, "setup_cost": 100,
         "holding_cost": 1, "initial_inventory": 0},
        {"id": "B", "demand": [10, 0, 30, 10], "unit_time": 2, "setup_time": 5, "setup_cost": 50,
         "holding_cost": 2, "initial_inventory": 0},
    ],
    "time_limit": 20,
}


def test_grid_expands_to_every_combination_with_labels():
    jobs, doc = sweeps.expand({"type": "prodplan", "base": BASE,
                               "grid": {"capacity": [0.8, 1.0, 1.2], "setup_cost": [0.5, 2]}})
    assert len(jobs) == 6
    assert {j["label"] for j in jobs} == {f"capacity×{c:g}, setup_cost×{s:g}"
                                          for c in (0.8, 1.0, 1.2) for s in (0.5, 2)}
    first = jobs[0]["payload"]
    assert first["capacity"] == 80.0
    assert [i["setup_cost"] for i in first["items"]] == [50.0, 25.0]
    assert BASE["capacity"] == 100 and BASE["items"][0]["setup_cost"] == 100, "base left untouched"
    assert doc["grid"]["capacity"] == [0.8, 1.0, 1.2]


@pytest.mark.parametrize("spec, fragment", [
    ({"type": "prodplan", "base": BASE, "grid": {}}, "grid"),
    ({"type": "prodplan", "base": BASE, "grid": {"capacity": []}}, "non-empty"),
    ({"type": "prodplan", "base": BASE, "grid": {"colour": [1]}}, "neither a payload field"),
    ({"type": "prodplan", "base": BASE, "grid": {"capacity": [-1]}}, "non-negative"),
    ({"type": "prodplan", "base": "x", "grid": {"capacity": [1]}}, "base"),
    ({"type": "prodplan", "base": BASE, "grid": {"capacity": [1.0] * 40, "setup_cost": [1.0] * 40}}, "at most"),
])
def test_bad_sweeps_say_why(spec, fragment):
    with pytest.raises(sweeps.SweepError, match=fragment):
        sweeps.expand(spec)


def test_sweep_is_solved_across_two_workers_and_compared_in_its_batch(live_hub):
    h = live_hub()
    st, body = http("POST", h.url + "/api/jobs", {"sweep": {
        "type": "prodplan", "base": BASE, "label": "capacity study",
        "grid": {"capacity": [0.8, 1.0, 1.2], "setup_cost": [0.5, 1, 2]}}}, token=h.admin)
    assert st == 201, body
    assert len(body["ids"]) == 9
    for w in ("w1", "w2"):
        h.start_agent(w, "--jobs", "always")
    batch_url = f"{h.url}/api/batches/{body['batch_id']}"

    def finished():
        b = http("GET", batch_url)[1]
        return b if all(j["status"] in ("succeeded", "failed") for j in b["jobs"]) else None

    batch = wait_until(finished, 120, interval=1, what="all sweep jobs to finish")
    assert batch["label"] == "capacity study" and batch["total"] == 9
    assert all(j["status"] == "succeeded" for j in batch["jobs"]), batch["jobs"]
    by_label = {j["label"]: j["result"]["objective"] for j in batch["jobs"]}
    # Cheaper setups never cost more; more capacity never costs more.
    for c in ("0.8", "1", "1.2"):
        assert by_label[f"capacity×{c}, setup_cost×0.5"] <= by_label[f"capacity×{c}, setup_cost×1"] \
            <= by_label[f"capacity×{c}, setup_cost×2"]
    for s in ("0.5", "1", "2"):
        assert by_label[f"capacity×1.2, setup_cost×{s}"] <= by_label[f"capacity×0.8, setup_cost×{s}"]
    assert {j["claimed_by"] for j in batch["jobs"]} <= {"w1", "w2"}
