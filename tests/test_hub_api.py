"""The hub's HTTP contract, in-process (`aiohttp_client(create_app(config))`) with a real SQLite file."""
from __future__ import annotations

import asyncio
import json
import re
import time

import pytest
from aiohttp import web

from hub.app import create_app
from hub.auth import access, hash_secret
from hub.openapi import SECURITY, declared_access, declared_operations, described, document, hidden
from hub.state import HUB

from conftest import ADMIN


def sample(ts: float, cpu: float = 10.0, **extra) -> dict:
    s = {"schema_version": 1, "ts": ts, "cpu": {"percent": cpu, "per_core": [cpu, cpu]},
         "memory": {"percent": 40.0, "total": 100, "used": 40, "available": 60}}
    s.update(extra)
    return s


@pytest.fixture
async def client(aiohttp_client, hub_config):
    return await aiohttp_client(create_app(hub_config()))


async def make_token(client, node_id: str) -> str:
    r = await client.post("/api/tokens", json={"node_id": node_id}, headers={"Authorization": f"Bearer {ADMIN}"})
    assert r.status == 201
    return (await r.json())["token"]


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


async def test_ingest_then_fleet_shows_node_with_latest_sample(client):
    tok = await make_token(client, "box")
    now = time.time()
    r = await client.post("/api/ingest/box", json={"node": {"hostname": "box", "os": "Linux", "cores": 2},
                                                   "samples": [sample(now - 1, 5.0), sample(now, 7.5)]},
                          headers=auth(tok))
    assert r.status == 200
    assert await r.json() == {"accepted": 2, "duplicate": 0, "live": False}
    fleet = await (await client.get("/api/fleet")).json()
    [node] = fleet["nodes"]
    assert node["id"] == "box" and node["os"] == "Linux" and node["cores"] == 2
    assert node["status"] == "online"
    assert node["cpu"] == 7.5 and node["mem"] == 40.0
    assert node["spark"] == [5.0, 7.5]
    assert node["latest"]["ts"] == now


async def test_resent_samples_are_deduplicated_and_unknown_fields_kept(client):
    tok = await make_token(client, "box")
    now = time.time()
    batch = [sample(now - 2), sample(now - 1, gpu={"percent": 3})]
    r1 = await (await client.post("/api/ingest/box", json={"samples": batch}, headers=auth(tok))).json()
    r2 = await (await client.post("/api/ingest/box", json={"samples": batch + [sample(now)]},
                                  headers=auth(tok))).json()
    assert r1["accepted"] == 2 and r2 == {"accepted": 1, "duplicate": 2, "live": False}
    snap = await (await client.get("/api/nodes/box/snapshot?points=10")).json()
    assert [s["ts"] for s in snap["samples"]] == [now - 2, now - 1, now]
    assert snap["samples"][1]["gpu"] == {"percent": 3}


async def test_ingest_auth_missing_wrong_and_other_nodes_token(client):
    tok = await make_token(client, "a")
    await make_token(client, "b")
    body = {"samples": [sample(time.time())]}
    r = await client.post("/api/ingest/b", json=body)
    assert r.status == 401 and (await r.json())["error"] == "unauthorized"
    r = await client.post("/api/ingest/b", json=body, headers=auth("fgn_not-a-real-token"))
    assert r.status == 401
    r = await client.post("/api/ingest/b", json=body, headers=auth(tok))
    assert r.status == 403
    assert "another node" in (await r.json())["message"]
    assert (await (await client.get("/api/fleet")).json())["nodes"] == []


@pytest.mark.parametrize("raw, fragment", [
    (b"{not json", "not valid JSON"),
    (b"[]", "JSON object"),
    (json.dumps({"samples": "x"}).encode(), "'samples' must be a list"),
    (json.dumps({"samples": [{"cpu": {}}]}).encode(), "samples[0].ts"),
    (json.dumps({"samples": [{"ts": 1.0}]}).encode(), "plausible"),
    (json.dumps({"samples": [{"ts": time.time(), "schema_version": "one"}]}).encode(), "schema_version"),
    (json.dumps({"node": {"cores": -1}, "samples": []}).encode(), "node.cores"),
])
async def test_bad_ingest_is_a_clear_400_and_stores_nothing(client, raw, fragment):
    tok = await make_token(client, "box")
    good = await client.post("/api/ingest/box", json={"samples": [sample(time.time() - 5)]}, headers=auth(tok))
    assert good.status == 200
    r = await client.post("/api/ingest/box", data=raw, headers={**auth(tok), "Content-Type": "application/json"})
    assert r.status == 400
    err = await r.json()
    assert set(err) == {"error", "message"} and fragment in err["message"]
    snap = await (await client.get("/api/nodes/box/snapshot")).json()
    assert len(snap["samples"]) == 1


async def test_too_many_samples_and_too_large_body(client):
    tok = await make_token(client, "box")
    now = time.time()
    r = await client.post("/api/ingest/box", json={"samples": [sample(now - i) for i in range(1001)]},
                          headers=auth(tok))
    assert r.status == 400 and "at most 1000" in (await r.json())["message"]
    r = await client.post("/api/ingest/box", data=b"x" * (17 * 1024 * 1024),
                          headers={**auth(tok), "Content-Type": "application/json"})
    assert r.status == 413
    assert (await r.json())["error"] == "too_large"


async def test_tokens_need_admin_and_are_stored_hashed(client, hub_config):
    r = await client.post("/api/tokens", json={"node_id": "x"})
    assert r.status == 401
    r = await client.post("/api/tokens", json={"node_id": "x"}, headers=auth("wrong"))
    assert r.status == 401
    r = await client.post("/api/tokens", json={"node_id": "bad id!"}, headers=auth(ADMIN))
    assert r.status == 400 and "not valid" in (await r.json())["message"]
    tok = await make_token(client, "x")
    match = await client.app[HUB].nodes.token_node(hash_secret(tok))
    assert match.node_id == "x"
    stored = match.token_hash
    assert tok not in stored and len(stored) == 64
    listed = await (await client.get("/api/tokens", headers=auth(ADMIN))).json()
    assert listed["tokens"][0]["node_id"] == "x" and "token" not in listed["tokens"][0]


async def test_revoked_token_stops_working(client):
    tok = await make_token(client, "x")
    body = {"samples": [sample(time.time())]}
    assert (await client.post("/api/ingest/x", json=body, headers=auth(tok))).status == 200
    r = await client.delete("/api/tokens/x", headers=auth(ADMIN))
    assert r.status == 200
    assert (await client.post("/api/ingest/x", json=body, headers=auth(tok))).status == 401
    assert (await client.delete("/api/tokens/x", headers=auth(ADMIN))).status == 404


async def test_join_code_is_one_time_and_never_takes_over_a_node(client):
    r = await client.post("/api/tokens", json={"join": True, "ttl_minutes": 5}, headers=auth(ADMIN))
    code = (await r.json())["code"]
    await make_token(client, "laptop")
    r = await client.post("/api/join", json={"code": code.lower().replace("-", ""), "node_id": "laptop"})
    assert r.status == 201
    joined = await r.json()
    assert joined["node_id"] == "laptop-2"
    body = {"samples": [sample(time.time())]}
    assert (await client.post("/api/ingest/laptop-2", json=body, headers=auth(joined["token"]))).status == 200
    r = await client.post("/api/join", json={"code": code, "node_id": "other"})
    assert r.status == 409 and "already used" in (await r.json())["message"]
    r = await client.post("/api/join", json={"code": "AAAAA-BBBBB", "node_id": "other"})
    assert r.status == 401 and "not known" in (await r.json())["message"]


async def test_expired_join_code_is_refused(client, hub_config):
    r = await client.post("/api/tokens", json={"join": True, "ttl_minutes": 0.001}, headers=auth(ADMIN))
    code = (await r.json())["code"]
    await asyncio.sleep(0.2)
    r = await client.post("/api/join", json={"code": code, "node_id": "late"})
    assert r.status == 410 and "expired" in (await r.json())["message"]


async def test_join_attempts_are_rate_limited(aiohttp_client, hub_config):
    client = await aiohttp_client(create_app(hub_config(join_attempts_per_minute=3)))
    statuses = [(await client.post("/api/join", json={"code": "ZZZZZ-ZZZZZ", "node_id": "n"})).status
                for _ in range(5)]
    assert statuses == [401, 401, 401, 429, 429]


async def test_node_status_goes_degraded_then_offline_with_sse_events(aiohttp_client, hub_config):
    client = await aiohttp_client(create_app(hub_config(degraded_after_s=0.5, offline_after_s=1.2,
                                                        status_interval_s=0.1, sse_coalesce_s=0.1)))
    tok = await make_token(client, "n")
    resp = await client.get("/api/fleet/events")
    assert resp.headers["Content-Type"].startswith("text/event-stream")
    await client.post("/api/ingest/n", json={"samples": [sample(time.time())]}, headers=auth(tok))
    seen = []
    deadline = time.monotonic() + 8
    buf = b""
    while time.monotonic() < deadline and not any(e == ("status", "offline") for e in seen):
        chunk = await asyncio.wait_for(resp.content.readany(), 5)
        buf += chunk
        while b"\n\n" in buf:
            raw, buf = buf.split(b"\n\n", 1)
            lines = dict(l.split(": ", 1) for l in raw.decode().splitlines() if ": " in l)
            if lines.get("event") == "status":
                seen.append(("status", json.loads(lines["data"])["status"]))
            elif lines.get("event") == "fleet":
                seen.append(("fleet", json.loads(lines["data"])["nodes"][0]["id"]))
    resp.close()
    assert ("fleet", "n") in seen
    assert seen.index(("status", "degraded")) < seen.index(("status", "offline"))
    fleet = await (await client.get("/api/fleet")).json()
    assert fleet["nodes"][0]["status"] == "offline"


async def test_node_events_stream_samples_and_ingest_reports_live(client):
    tok = await make_token(client, "n")
    await client.post("/api/ingest/n", json={"samples": [sample(time.time() - 1)]}, headers=auth(tok))
    resp = await client.get("/api/nodes/n/events")
    await asyncio.sleep(0.05)
    r = await client.post("/api/ingest/n", json={"samples": [sample(time.time(), 42.0)]}, headers=auth(tok))
    assert (await r.json())["live"] is True
    buf = b""
    while b"event: sample" not in buf:
        buf += await asyncio.wait_for(resp.content.readany(), 5)
    assert b'"percent":42.0' in buf
    resp.close()


async def test_snapshot_resolutions_and_bad_params(client):
    tok = await make_token(client, "n")
    r = await client.get("/api/nodes/nobody/snapshot")
    assert r.status == 404
    await client.post("/api/ingest/n", json={"samples": [sample(time.time())]}, headers=auth(tok))
    for q, fragment in (("resolution=5s", "resolution"), ("points=0", "points"), ("points=x", "points"),
                        ("since=yesterday", "since")):
        r = await client.get(f"/api/nodes/n/snapshot?{q}")
        assert r.status == 400 and fragment in (await r.json())["message"]
    r = await client.get("/api/nodes/n/snapshot?resolution=1m")
    assert r.status == 200 and (await r.json())["resolution"] == "1m"


async def test_viewer_token_guards_viewer_routes(aiohttp_client, hub_config):
    client = await aiohttp_client(create_app(hub_config(viewer_token="look")))
    r = await client.get("/api/fleet")
    assert r.status == 401 and "viewer token" in (await r.json())["message"]
    assert (await client.get("/api/fleet", headers=auth("look"))).status == 200
    assert (await client.get("/api/fleet?token=look")).status == 200
    assert (await client.get("/api/fleet", headers=auth(ADMIN))).status == 200
    assert (await client.get("/api/health")).status == 200


async def test_unknown_api_route_is_json_404(client):
    r = await client.get("/api/nope")
    assert r.status == 404
    assert (await r.json())["error"] == "not_found"


async def test_metrics_exposition(client):
    tok = await make_token(client, "n")
    await client.post("/api/ingest/n", json={"samples": [sample(time.time(), 12.5)]}, headers=auth(tok))
    text = await (await client.get("/metrics")).text()
    assert 'forge_node_up{node="n"} 1' in text
    assert 'forge_node_cpu_percent{node="n"} 12.5' in text
    assert 'forge_jobs{status="pending"} 0' in text


async def test_agent_downloads_are_listed_and_served_from_the_configured_folder(aiohttp_client, hub_config, tmp_path):
    folder = tmp_path / "builds"
    folder.mkdir()
    (folder / "forge-linux-x86_64.tar.gz").write_bytes(b"tarball-bytes")
    (folder / "Forge-Setup.exe").write_bytes(b"exe")
    client = await aiohttp_client(create_app(hub_config(agent_downloads_dir=folder)))
    files = (await (await client.get("/api/downloads")).json())["files"]
    assert {(f["name"], f["os"], f["size"]) for f in files} == {
        ("forge-linux-x86_64.tar.gz", "linux", 13), ("Forge-Setup.exe", "windows", 3)}
    r = await client.get("/downloads/forge-linux-x86_64.tar.gz")
    assert r.status == 200 and await r.read() == b"tarball-bytes"
    assert (await client.get("/downloads/..%2Fsecret")).status == 404
    assert (await client.get("/downloads/missing.bin")).status == 404


async def test_openapi_describes_every_api_route_and_nothing_else(client):
    doc = await (await client.get("/api/openapi.json")).json()
    described = {(path, m.upper()) for path, ops in doc["paths"].items() for m in ops}
    registered = set()
    for route in client.app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter")
        if route.method in ("HEAD", "OPTIONS") or not path or not (path.startswith("/api/") or path == "/metrics"):
            continue
        registered.add((path, route.method))
    assert registered == described


async def test_every_schema_reference_in_the_openapi_document_resolves(client):
    doc = await (await client.get("/api/openapi.json")).json()
    refs = set(re.findall(r'"#/components/schemas/([^"]+)"', json.dumps(doc)))
    assert refs and refs <= set(doc["components"]["schemas"]), refs - set(doc["components"]["schemas"])


async def test_every_route_describes_itself_and_the_openapi_paths_are_exactly_those(client):
    """The document is built from the routes: each handler is @described or @hidden (pages
    and files), and the operations listed are exactly the described ones, as they describe."""
    ops = declared_operations(client.app.router)
    assert not [route for route, op in ops.items() if op is None]
    assert {route for route, op in ops.items() if op.hidden} == {("/", "get"), ("/downloads/{name}", "get")}
    doc = await (await client.get("/api/openapi.json")).json()
    listed = {(path, method): op for path, methods in doc["paths"].items() for method, op in methods.items()}
    assert set(listed) == {route for route, op in ops.items() if not op.hidden}
    for route, op in listed.items():
        assert op["summary"] and op["summary"] == ops[route].summary, route
        assert ops[route].ok in op["responses"], route
    assert list(doc["paths"]) == sorted(doc["paths"])


def test_a_route_without_a_description_fails_the_document():
    routes = web.RouteTableDef()

    @routes.get("/api/described")
    @access("public")
    @described("Described", {"type": "object"})
    async def fine(request: web.Request) -> web.Response:
        return web.json_response({})

    @routes.get("/page")
    @access("public")
    @hidden
    async def page(request: web.Request) -> web.Response:
        return web.Response(text="page")

    app = web.Application()
    app.add_routes(routes)
    assert list(document(app.router)["paths"]) == ["/api/described"]

    @routes.get("/api/forgotten")
    @access("public")
    async def forgotten(request: web.Request) -> web.Response:
        return web.json_response({})

    app = web.Application()
    app.add_routes(routes)
    with pytest.raises(LookupError, match="GET /api/forgotten"):
        document(app.router)


async def test_every_route_declares_its_access_and_the_hub_and_openapi_agree(aiohttp_client, hub_config):
    """The OpenAPI security is read from each handler's @access: hold each declaration to what
    the handler answers each kind of caller, on a hub that has a viewer token."""
    viewer = "viewer-" + "v" * 32
    client = await aiohttp_client(create_app(hub_config(viewer_token=viewer)))
    callers = {"nobody": None, "viewer": viewer, "node": await make_token(client, "n1"), "admin": ADMIN}
    accepts = {"public": set(callers), "viewer": {"viewer", "admin"}, "node": {"node"}, "admin": {"admin"}}
    doc = await (await client.get("/api/openapi.json")).json()
    declared = declared_access(client.app.router)
    assert not [route for route, level in declared.items() if level is None]
    assert set(declared.values()) == set(accepts)
    for caller, token in callers.items():  # the admin last: it may revoke n1's token
        for (path, method), level in declared.items():
            url = re.sub(r"\{(\w+)\}", lambda m: "1" if m[1] in ("job_id", "id") else "n1", path)
            r = await client.request(method, url, headers=auth(token) if token else {})
            r.close()
            assert (r.status == 401) == (caller not in accepts[level]), (caller, method, path, level, r.status)
    for (path, method), level in declared.items():
        op = doc["paths"].get(path, {}).get(method)
        if op is not None:
            assert op["security"] == SECURITY[level], (method, path)


def test_every_hub_setting_is_documented():
    from pathlib import Path
    from hub.config import settings_help
    text = (Path(__file__).parent.parent / "docs" / "CONFIG.md").read_text()
    missing = [name for name in settings_help() if f"`{name}`" not in text]
    assert not missing, f"settings missing from docs/CONFIG.md: {missing}"


async def test_job_counts_per_node_reach_fleet_and_its_events(aiohttp_client, hub_config):
    client = await aiohttp_client(create_app(hub_config(allow_test_jobs=True, sse_coalesce_s=0.1)))
    tok = await make_token(client, "w")
    await client.post("/api/ingest/w", json={"samples": [sample(time.time())]}, headers=auth(tok))
    r = await client.post("/api/jobs", json={"jobs": [{"type": "sleep", "payload": {"seconds": 0}}] * 3},
                          headers=auth(ADMIN))
    assert r.status == 201 and len((await r.json())["ids"]) == 3
    events = await client.get("/api/fleet/events")
    for outcome in ({"result": {"slept": 0}}, {"error": "boom"}):
        job = (await (await client.post("/api/jobs/claim", json={"types": ["sleep"]}, headers=auth(tok))).json())["job"]
        await client.post(f"/api/jobs/{job['id']}/result", json={"attempt": 1, **outcome}, headers=auth(tok))
    await client.post("/api/jobs/claim", json={"types": ["sleep"]}, headers=auth(tok))
    want = {"running": 1, "done": 1, "failed": 0}
    buf = b""
    deadline = time.monotonic() + 5
    while f'"jobs":{json.dumps(want, separators=(",", ":"))}'.encode() not in buf:
        assert time.monotonic() < deadline, buf[-500:]
        buf += await asyncio.wait_for(events.content.readany(), 5)
    events.close()
    [node] = (await (await client.get("/api/fleet")).json())["nodes"]
    assert node["jobs"] == want


async def test_job_submission_errors_are_clear_and_enqueue_nothing(client):
    cases = [({"type": "nope", "payload": {}}, "not a job type"),
             ({"type": "jobshop", "payload": {"jobs": []}}, "payload"),
             ({"type": "sleep", "payload": {"seconds": 1}}, "not a job type"),
             ({"jobs": [{"type": "jobshop", "payload": {"jsplib": "1 1\n0 5\n"}}, {"type": "x"}]}, "jobs[1]"),
             ({"type": "jobshop", "payload": {"jsplib": "1 1\n0 5\n"}, "priority": "high"}, "priority")]
    for body, fragment in cases:
        r = await client.post("/api/jobs", json=body, headers=auth(ADMIN))
        assert r.status == 400, body
        assert fragment in (await r.json())["message"]
    listed = await (await client.get("/api/jobs")).json()
    assert listed["total"] == 0


@pytest.mark.parametrize("node_id", ["a/b", "..", "x'; DROP TABLE samples; --", 'quo"te', "n" * 65, "-lead",
                                     "spa ce", "ünï"])
async def test_hostile_node_ids_are_refused_and_nothing_is_stored(client, node_id):
    from urllib.parse import quote
    r = await client.post("/api/tokens", json={"node_id": node_id}, headers=auth(ADMIN))
    assert r.status == 400 and "not valid" in (await r.json())["message"]
    tok = await make_token(client, "good")
    r = await client.post(f"/api/ingest/{quote(node_id, safe='')}", json={"samples": [sample(time.time())]},
                          headers=auth(tok))
    assert r.status in (400, 404)
    assert (await r.json())["error"] in ("invalid_node_id", "not_found")
    assert (await (await client.get("/api/fleet")).json())["nodes"] == []


async def test_missing_fields_and_wrong_types_are_named(client):
    tok = await make_token(client, "n")
    for body, fragment in (({}, "'samples' must be a list"), ({"samples": [{"ts": "now"}]}, "samples[0].ts"),
                           ({"samples": [], "node": "x"}, "'node' must be an object"),
                           ({"samples": [], "node": {"hostname": 5}}, "node.hostname")):
        r = await client.post("/api/ingest/n", json=body, headers=auth(tok))
        assert r.status == 400 and fragment in (await r.json())["message"], body
    r = await client.post("/api/tokens", json={}, headers=auth(ADMIN))
    assert r.status == 400 and "'node_id' is required" in (await r.json())["message"]
