"""The hub's in-memory fleet view: what fleet events carry, and that it stays bounded."""
from __future__ import annotations

import sys

from hub.fleet import SPARK_POINTS, FleetState


def push(fleet: FleetState, node_id: str, start: int, count: int) -> None:
    samples = [{"ts": float(t), "cpu": {"percent": float(t % 100)}} for t in range(start, start + count)]
    fleet.apply_ingest(node_id, {}, samples, float(start + count))


def test_event_carries_the_points_since_the_previous_event_in_order():
    fleet = FleetState(degraded_s=15, offline_s=60)
    push(fleet, "a", 0, 5)
    assert fleet.event_summary(fleet.nodes["a"], 5.0)["spark_tail"] == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert fleet.event_summary(fleet.nodes["a"], 5.0)["spark_tail"] == []
    push(fleet, "a", 5, 3)
    push(fleet, "a", 6, 1)  # already seen: not a new point
    assert fleet.event_summary(fleet.nodes["a"], 9.0)["spark_tail"] == [5.0, 6.0, 7.0]


def test_a_fleet_nobody_watches_holds_no_more_per_node_than_the_sparkline():
    fleet = FleetState(degraded_s=15, offline_s=60)
    push(fleet, "a", 0, 5)
    before = sum(sys.getsizeof(v) for v in vars(fleet.nodes["a"]).values())
    for start in range(5, 20_000, 5):  # a day's worth of pushes at 5 s would be 17,280
        push(fleet, "a", start, 5)
    node = fleet.nodes["a"]
    assert sum(sys.getsizeof(v) for v in vars(node).values()) <= before + 2_000
    tail = fleet.event_summary(node, 20_000.0)["spark_tail"]
    assert tail == [float(t % 100) for t in range(20_000 - SPARK_POINTS, 20_000)]


def test_sparkline_keeps_unknown_cpu_as_null():
    fleet = FleetState(degraded_s=15, offline_s=60)
    fleet.apply_ingest("a", {}, [{"ts": 1.0, "cpu": {"percent": 12.5}}, {"ts": 2.0, "cpu": None},
                                 {"ts": 3.0, "cpu": {"percent": 0.0}}], 3.0)
    node = fleet.nodes["a"]
    assert fleet.event_summary(node, 3.0)["spark_tail"] == [12.5, None, 0.0]
    assert fleet.summary(node, 3.0, full=True)["spark"] == [12.5, None, 0.0]
