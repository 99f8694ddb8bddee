"""What the views read from the hub instead of keeping their own copies: GET /api/meta
(vocabularies) and each job's served `summary` and `progress_text`."""
from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from forge_contracts import jobtypes, vocabulary
from hub.app import create_app
from hub.routes import fleet

from conftest import ADMIN

ROOT = Path(__file__).resolve().parents[1]


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def client(aiohttp_client, hub_config):
    return await aiohttp_client(create_app(hub_config(allow_test_jobs=True)))


async def node_token(client, node_id: str = "w") -> str:
    r = await client.post("/api/tokens", json={"node_id": node_id}, headers=auth(ADMIN))
    assert r.status == 201
    return (await r.json())["token"]


async def submit(client, spec: dict) -> int:
    r = await client.post("/api/jobs", json=spec, headers=auth(ADMIN))
    assert r.status == 201, await r.text()
    return (await r.json())["id"]


async def claim(client, tok: str, types: list[str]) -> dict:
    r = await client.post("/api/jobs/claim", json={"types": types}, headers=auth(tok))
    job = (await r.json())["job"]
    assert job, "a job was claimable"
    return job


async def job(client, job_id: int) -> dict:
    r = await client.get(f"/api/jobs/{job_id}")
    assert r.status == 200
    return await r.json()


async def test_meta_serves_every_vocabulary_with_meaning_and_colour(client):
    r = await client.get("/api/meta")
    assert r.status == 200
    meta = await r.json()
    assert [s["name"] for s in meta["job_statuses"]] == list(vocabulary.JOB_STATUSES)
    assert {s["name"] for s in meta["job_statuses"] if s["final"]} == set(vocabulary.FINAL_STATUSES)
    for key in ("job_statuses", "attempt_outcomes", "result_outcomes", "node_statuses"):
        for term in meta[key]:
            assert term["meaning"] and re.fullmatch(r"#[0-9a-f]{6}", term["colour"]), term
            assert term["tone"] in vocabulary.TONE_COLOURS
    assert {t["name"] for t in meta["job_types"]} == set(jobtypes.SPECS)
    assert all(t["description"] for t in meta["job_types"])
    ranges = {t["key"]: t for t in meta["time_ranges"]}
    assert ranges["1h"]["live"] and ranges["1h"]["resolution"] == "1s"
    assert ranges["7d"]["resolution"] == "1m" and ranges["7d"]["every"] == 300 and not ranges["7d"]["live"]
    assert [t["key"] for t in meta["time_ranges"]] == [t.key for t in vocabulary.TIME_RANGES]


def test_each_time_range_covers_its_span_in_points_the_snapshot_route_hands_out():
    tier_s = {"1s": 1, "1m": 60, "1h": 3600}
    seconds = [t.seconds for t in vocabulary.TIME_RANGES]
    assert seconds == sorted(seconds)  # shortest first: a view opens on the first
    for t in vocabulary.TIME_RANGES:
        assert t.points <= fleet.MAX_POINTS, t
        assert t.step == (t.every or tier_s[t.resolution]) and t.step % tier_s[t.resolution] == 0, t
        assert t.points * t.step >= t.seconds, t
        assert t.live == (t.refresh_s is None), t  # live ones follow the stream, the others are read again


async def test_every_served_time_range_is_a_snapshot_the_hub_answers(client):
    tok = await node_token(client)
    r = await client.post("/api/ingest/w", json={"samples": [{"schema_version": 1, "ts": time.time(),
                                                              "cpu": {"percent": 5.0}}]}, headers=auth(tok))
    assert r.status == 200
    for rng in (await (await client.get("/api/meta")).json())["time_ranges"]:
        q = {"points": rng["points"], "resolution": rng["resolution"], "since": time.time() - rng["seconds"]}
        if rng["every"] is not None:
            q["every"] = rng["every"]
        r = await client.get("/api/nodes/w/snapshot", params=q)
        assert r.status == 200, (rng, await r.text())
        assert (await r.json())["resolution"] == rng["resolution"]


async def test_meta_lists_only_the_job_types_this_hub_runs(aiohttp_client, hub_config):
    client = await aiohttp_client(create_app(hub_config()))
    meta = await (await client.get("/api/meta")).json()
    assert {t["name"] for t in meta["job_types"]} == {"jobshop", "prodplan", "mps"}


async def test_meta_needs_the_viewer_token_when_the_hub_has_one(aiohttp_client, hub_config):
    client = await aiohttp_client(create_app(hub_config(viewer_token="look")))
    assert (await client.get("/api/meta")).status == 401
    assert (await client.get("/api/meta", headers=auth("look"))).status == 200


def test_the_sql_check_lists_the_same_statuses_as_the_contract():
    sql = (ROOT / "hub/store/sqlite/migrations/002_jobs.sql").read_text()
    listed = re.search(r"CHECK \(status IN \(([^)]*)\)\)", sql).group(1)
    assert tuple(re.findall(r"'([a-z]+)'", listed)) == vocabulary.JOB_STATUSES


async def test_jobs_carry_progress_text_while_running_and_a_summary_when_done(client):
    tok = await node_token(client)
    job_id = await submit(client, {"type": "jobshop", "payload": {"jobs": [[[0, 3], [1, 2]], [[1, 4]]]}})
    pending = await job(client, job_id)
    assert pending["summary"] == "" and pending["progress_text"] is None
    await claim(client, tok, ["jobshop"])
    r = await client.post(f"/api/jobs/{job_id}/progress", headers=auth(tok), json={
        "attempt": 1, "progress": {"incumbent": 7, "bound": 5, "gap": 2 / 7, "elapsed": 1.5, "percent": 10}})
    assert r.status == 200
    running = await job(client, job_id)
    assert running["progress_text"] == "10 % of the 15 s limit · best 7 · bound 5 · gap 28.57 % · 1.50 s used"
    listed = (await (await client.get("/api/jobs")).json())["jobs"]
    assert [j["progress_text"] for j in listed] == [running["progress_text"]]
    r = await client.post(f"/api/jobs/{job_id}/result", headers=auth(tok), json={"attempt": 1, "result": {
        "status": "optimal", "optimal": True, "makespan": 7, "lower_bound": 7, "solve_time": 0.01, "schedule": []}})
    assert (await r.json())["outcome"] == "accepted"
    done = await job(client, job_id)
    assert done["summary"] == "makespan 7 · optimal" and done["progress_text"] is None
    listed = (await (await client.get("/api/jobs")).json())["jobs"]
    assert [j["summary"] for j in listed] == ["makespan 7 · optimal"]


async def test_failed_jobs_summarize_as_the_first_line_of_their_error(client):
    tok = await node_token(client)
    job_id = await submit(client, {"type": "sleep", "payload": {}, "max_attempts": 1})
    await claim(client, tok, ["sleep"])
    await client.post(f"/api/jobs/{job_id}/result", headers=auth(tok),
                      json={"attempt": 1, "error": "RuntimeError: no plan\nTraceback ..."})
    assert (await job(client, job_id))["summary"] == "RuntimeError: no plan"


async def test_batch_jobs_carry_their_summaries(client):
    tok = await node_token(client)
    r = await client.post("/api/jobs", headers=auth(ADMIN), json={"jobs": [
        {"type": "mps", "payload": {"model": "Maximize\n obj: x\nSubject To\n c: x <= 1\nEnd\n"}}]})
    batch_id = (await r.json())["batch_id"]
    [claimed] = [await claim(client, tok, ["mps"])]
    await client.post(f"/api/jobs/{claimed['id']}/result", headers=auth(tok), json={"attempt": 1, "result": {
        "status": "optimal", "objective": 1234.5, "bound": 1234.5, "gap": 0.005, "kind": "lp"}})
    body = await (await client.get(f"/api/batches/{batch_id}")).json()
    assert [j["summary"] for j in body["jobs"]] == ["objective 1,234.5 · gap 0.50 %"]


@pytest.mark.parametrize("type_name, result, summary", [
    ("jobshop", {"makespan": 60, "optimal": False, "lower_bound": 55, "status": "feasible"}, "makespan 60 · bound 55"),
    ("jobshop", {"makespan": None, "optimal": False, "lower_bound": None, "status": "unknown"}, "unknown"),
    ("prodplan", {"objective": 1000.0, "gap": 0, "status": "optimal"}, "objective 1,000 · optimal"),
    ("sleep", {"slept": 0.25}, "slept 0.25"),
    ("retired", {"a": 1, "b": "x", "c": True, "d": 4}, "a 1 · b x · c yes"),
])
def test_each_type_summarizes_its_own_result(type_name, result, summary):
    assert jobtypes.summarize_job({"type": type_name, "status": "succeeded", "result": result}) == summary


def test_the_views_keep_no_list_of_the_job_statuses_of_their_own():
    """The dashboard and the desktop windows read the statuses from GET /api/meta: a literal
    naming most of them (as `STATUSES = [...]` did) would drift from the hub's again."""
    names = "|".join(vocabulary.JOB_STATUSES)
    listed = re.compile(rf"""(["'])(?:{names})\1(?:\s*,\s*(["'])(?:{names})\2){{3,}}""")
    views = [*ROOT.glob("hub/static/js/*.js"), *ROOT.glob("forge_desktop/ui/**/*.py")]
    assert len(views) > 20
    assert [p.name for p in views if listed.search(p.read_text())] == []


def test_the_views_keep_no_list_of_the_time_ranges_of_their_own():
    """The node page and the node window build their ranges from GET /api/meta: quoting the
    keys or labels of the longer ranges (as `RANGES = {...}` and `SPANS = (...)` did) would drift again."""
    words = {w for t in vocabulary.TIME_RANGES[2:] for w in (t.key, t.label)}
    quoted = re.compile(r"""["']([^"'\n]{1,12})["']""")
    views = [*ROOT.glob("hub/static/js/*.js"), *ROOT.glob("forge_desktop/ui/**/*.py")]
    found = {p.name: sorted(words & set(quoted.findall(p.read_text()))) for p in views}
    assert {name: w for name, w in found.items() if len(w) >= 2} == {}
