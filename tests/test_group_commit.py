"""hub/store/group_commit.py, which both backends put their ingest behind: concurrent pushes
share a transaction, each gets its own result or the batch's error, and no more batches are
in flight at once than the backend allows."""
from __future__ import annotations

import asyncio

import pytest

from hub.store import IngestResult, Push
from hub.store.group_commit import GroupCommit


def push(i: int) -> Push:
    return Push(node_id=f"n{i}", identity={}, samples=[{"ts": float(i)}], now=0.0)


class Writer:
    """A write_many that takes `delay` seconds a batch and records what it was given."""

    def __init__(self, delay: float = 0.01, fail: bool = False):
        self.delay, self.fail = delay, fail
        self.batches: list[list[str]] = []
        self.in_flight = self.most_in_flight = 0

    async def __call__(self, pushes: list[Push]) -> list[IngestResult]:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            self.batches.append([p.node_id for p in pushes])
            await asyncio.sleep(self.delay)
            if self.fail:
                raise RuntimeError("disk full")
            return [IngestResult(accepted=int(p.node_id[1:]), duplicate=0, new_node=False) for p in pushes]
        finally:
            self.in_flight -= 1


async def test_pushes_that_arrive_during_a_commit_share_the_next_one_and_get_their_own_results():
    w = Writer(delay=0.05)
    group = GroupCommit(w)
    first = asyncio.create_task(group.ingest(push(0)))
    await asyncio.sleep(0.01)  # its commit is under way
    results = await asyncio.gather(*(group.ingest(push(i)) for i in range(1, 50)))
    assert (await first).accepted == 0 and [r.accepted for r in results] == list(range(1, 50))
    assert w.batches == [["n0"], [f"n{i}" for i in range(1, 50)]]
    assert w.most_in_flight == 1


async def test_every_push_of_a_failed_batch_gets_the_error_and_the_next_batch_still_runs():
    w = Writer(fail=True)
    group = GroupCommit(w)
    results = await asyncio.gather(*(group.ingest(push(i)) for i in range(5)), return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results)
    w.fail = False
    assert (await group.ingest(push(7))).accepted == 7


@pytest.mark.parametrize("max_drainers", [1, 3])
async def test_batches_overlap_only_under_load_and_never_beyond_max_drainers(max_drainers):
    w = Writer(delay=0.02)
    group = GroupCommit(w, max_drainers=max_drainers, max_batch=8, overlap_at=4)
    await asyncio.gather(*(group.ingest(push(i)) for i in range(3)))  # below overlap_at: one at a time
    assert w.most_in_flight == 1
    results = await asyncio.gather(*(group.ingest(push(i)) for i in range(200)))
    assert [r.accepted for r in results] == list(range(200))
    assert w.most_in_flight == max_drainers
    assert max(len(b) for b in w.batches) <= 8
    await group.close()
