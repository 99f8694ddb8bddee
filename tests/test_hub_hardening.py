"""Hostile and careless input against the hub, in-process (issue 13): every refusal is a JSON
4xx naming the problem, nothing non-finite reaches JSON, SSE or /metrics, and what was
stored stays intact."""
from __future__ import annotations

import asyncio
import json
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from hub.app import create_app
from hub.config import HubConfig
from hub.state import HUB

from conftest import ADMIN

BIG = 2**63  # one past SQLite's largest integer


def sample(ts: float, cpu=10.0, **extra) -> dict:
    s = {"schema_version": 1, "ts": ts, "cpu": {"percent": cpu, "per_core": [cpu, cpu]},
         "memory": {"percent": 40.0, "total": 100, "used": 40, "available": 60}}
    s.update(extra)
    return s


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def strict_json(text: str | bytes) -> object:
    def refuse(constant):
        raise ValueError(f"non-standard JSON constant {constant}")
    return json.loads(text, parse_constant=refuse)


async def make_token(client, node_id: str) -> str:
    r = await client.post("/api/tokens", json={"node_id": node_id}, headers=auth(ADMIN))
    assert r.status == 201
    return (await r.json())["token"]


@pytest.fixture
async def client(aiohttp_client, hub_config):
    return await aiohttp_client(create_app(hub_config(sse_coalesce_s=0.1)))


async def expect_error(resp, status: int, *fragments: str) -> dict:
    assert resp.status == status, await resp.text()
    body = await resp.json()
    assert set(body) == {"error", "message"}, body
    for f in fragments:
        assert f in body["message"], body
    return body


# --- non-finite numbers --------------------------------------------------------------------

async def test_nan_and_infinity_strings_are_stored_as_null_and_never_reach_json(client):
    tok = await make_token(client, "n")
    now = time.time()
    r = await client.post("/api/ingest/n", json={"samples": [
        sample(now - 2, cpu="nan"),
        sample(now - 1, cpu="Infinity", memory={"percent": "-inf", "total": 100}),
        sample(now, cpu="12.5", load=["inf", 1.0, None])]}, headers=auth(tok))
    assert r.status == 200
    fleet = strict_json(await (await client.get("/api/fleet")).read())
    [node] = fleet["nodes"]
    assert node["spark"] == [None, None, 12.5]
    assert node["cpu"] == 12.5 and node["latest"]["load"] == [None, 1.0, None]
    snap = strict_json(await (await client.get("/api/nodes/n/snapshot?points=10")).read())
    assert [s["cpu"]["percent"] for s in snap["samples"]] == [None, None, 12.5]
    assert snap["samples"][1]["memory"] == {"percent": None, "total": 100}


async def test_nan_tokens_and_numbers_beyond_a_double_are_a_400(client):
    tok = await make_token(client, "n")
    h = {**auth(tok), "Content-Type": "application/json"}
    for raw in (b'{"samples":[{"ts":%f,"cpu":{"percent":NaN}}]}' % time.time(),
                b'{"samples":[{"ts":%f,"cpu":{"percent":-Infinity}}]}' % time.time(),
                b'{"samples":[{"ts":%f,"cpu":{"percent":1e400}}]}' % time.time()):
        await expect_error(await client.post("/api/ingest/n", data=raw, headers=h), 400)
    assert (await (await client.get("/api/fleet")).json())["nodes"] == []


async def test_fleet_events_stay_strict_json_while_a_node_sends_nan(client):
    tok = await make_token(client, "n")
    await make_token(client, "m")
    resp = await client.get("/api/fleet/events")
    for i, cpu in enumerate(("nan", "inf", "-Infinity", 20.0)):
        r = await client.post("/api/ingest/n", json={"samples": [sample(time.time() - 1 + i * 0.1, cpu=cpu)]},
                              headers=auth(tok))
        assert r.status == 200
    await client.post("/api/ingest/m", json={"samples": [sample(time.time(), cpu=5.0)]}, headers=auth(
        await make_token(client, "m")))
    data, buf, deadline = [], b"", time.monotonic() + 5
    while time.monotonic() < deadline and not any('"m"' in d for d in data):
        buf += await asyncio.wait_for(resp.content.readany(), 5)
        *events, buf = buf.split(b"\n\n")
        data += [l[6:].decode() for e in events for l in e.split(b"\n") if l.startswith(b"data: ")]
    resp.close()
    assert any('"m"' in d for d in data), data
    for d in data:
        strict_json(d)


async def test_metrics_parse_strictly_and_hold_no_nan(client):
    tok = await make_token(client, "n")
    await client.post("/api/ingest/n", json={"samples": [sample(time.time(), cpu="nan",
                                                                memory={"percent": "inf"})]}, headers=auth(tok))
    resp = await client.get("/metrics")
    assert resp.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    families = {f.name: f for f in text_string_to_metric_families(await resp.text())}
    assert {"forge_node_up", "forge_node_cpu_percent", "forge_jobs"} <= set(families)
    values = [s.value for f in families.values() for s in f.samples]
    assert values and all(v == v and abs(v) != float("inf") for v in values)
    assert families["forge_node_cpu_percent"].samples == []


# --- schemas: typed, lenient with newer agents ------------------------------------------------

async def test_schema_2_and_newer_fields_are_kept_and_bad_types_named(client):
    tok = await make_token(client, "n")
    now = time.time()
    s2 = sample(now - 1, schema_version=2, processes=[{"pid": 1, "name": "inf", "cpu_percent": "nan"}],
                gpus=None, npu={"percent": "nan", "vendor": "new"})
    s3 = sample(now, schema_version=3, quantum={"qubits": 5})
    r = await client.post("/api/ingest/n", json={"samples": [s2, s3]}, headers=auth(tok))
    assert r.status == 200
    got = (await (await client.get("/api/nodes/n/snapshot")).json())["samples"]
    assert got[0]["processes"] == [{"pid": 1, "name": "inf", "cpu_percent": None}]
    assert got[0]["npu"] == {"percent": "nan", "vendor": "new"} and "gpus" in got[0]
    assert got[1]["quantum"] == {"qubits": 5}
    bad = sample(now + 1, schema_version=2, processes=[{"pid": "one"}])
    await expect_error(await client.post("/api/ingest/n", json={"samples": [bad]}, headers=auth(tok)), 400,
                       "samples[0].processes[0].pid")
    await expect_error(await client.post("/api/ingest/n", json={"samples": [sample(now + 1, cpu=[])]},
                                         headers=auth(tok)), 400, "samples[0].cpu.percent")


# --- clock skew and sizes ----------------------------------------------------------------------

async def test_a_sample_from_the_future_is_refused_saying_the_allowed_skew(aiohttp_client, hub_config, tmp_path):
    client = await aiohttp_client(create_app(hub_config()))
    tok = await make_token(client, "n")
    ok = await client.post("/api/ingest/n", json={"samples": [sample(time.time() + 60)]}, headers=auth(tok))
    assert ok.status == 200
    r = await client.post("/api/ingest/n", json={"samples": [sample(time.time() + 3600)]}, headers=auth(tok))
    await expect_error(r, 400, "ahead", "300 s", "max_clock_skew_s")
    [node] = (await (await client.get("/api/fleet")).json())["nodes"]
    assert node["last_sample_ts"] < time.time() + 120
    strict = await aiohttp_client(create_app(HubConfig(data_dir=tmp_path / "h2", admin_secret=ADMIN,
                                                       max_clock_skew_s=10)))
    tok = await make_token(strict, "n")
    r = await strict.post("/api/ingest/n", json={"samples": [sample(time.time() + 60)]}, headers=auth(tok))
    await expect_error(r, 400, "10 s")


async def test_an_oversized_sample_or_batch_is_a_413_naming_the_limit(aiohttp_client, hub_config):
    client = await aiohttp_client(create_app(hub_config(max_sample_bytes=10_000, max_batch_bytes=200_000)))
    tok = await make_token(client, "n")
    now = time.time()
    r = await client.post("/api/ingest/n", json={"samples": [sample(now - 1), sample(now, junk="x" * 20_000)]},
                          headers=auth(tok))
    body = await expect_error(r, 413, "samples[1]", "10000 bytes", "max_sample_bytes")
    assert body["error"] == "too_large"
    r = await client.post("/api/ingest/n", json={"samples": [sample(now - i, junk="y" * 5000) for i in range(60)]},
                          headers=auth(tok))
    await expect_error(r, 413, "200000 bytes")
    assert (await (await client.get("/api/fleet")).json())["nodes"] == []
    health = await (await client.get("/api/health")).json()
    assert health["limits"] == {"max_samples_per_push": 1000, "max_sample_bytes": 10_000,
                                "max_batch_bytes": 200_000, "max_clock_skew_s": 300.0}


# --- 500s on bad input, now 400s ---------------------------------------------------------------

@pytest.mark.parametrize("method, path, body", [
    ("GET", f"/api/jobs/{BIG}", None),
    ("GET", f"/api/jobs?offset={BIG}", None),
    ("POST", f"/api/jobs/{BIG}/progress", {"attempt": 1}),
    ("POST", f"/api/jobs/{BIG}/result", {"attempt": 1, "error": "x"}),
    ("POST", f"/api/jobs/{BIG}/cancel", {}),
    ("POST", "/api/workers/w/heartbeat", {"running": [BIG]}),
    ("GET", "/api/nodes/w/snapshot?since=nan", None),
    ("GET", "/api/nodes/w/snapshot?since=inf", None),
    ("GET", "/api/nodes/w/snapshot?until=1e300", None),
    ("GET", "/api/nodes/w/snapshot?until=-Infinity", None),
    ("POST", "/api/jobs", {"type": []}),
    ("POST", "/api/jobs", {"type": {"a": 1}, "payload": {}}),
])
async def test_overflowing_and_non_finite_input_is_a_json_400(client, method, path, body):
    tok = await make_token(client, "w")
    await client.post("/api/ingest/w", json={"samples": [sample(time.time())]}, headers=auth(tok))
    token = ADMIN if path.startswith("/api/jobs") and (method == "GET" or path == "/api/jobs"
                                                         or path.endswith("cancel")) else tok
    r = await client.request(method, path, json=body, headers=auth(token))
    await expect_error(r, 400)


@pytest.mark.parametrize("path", ["/api/join", "/api/ingest/w", "/api/tokens"])
async def test_json_nested_a_thousand_deep_is_a_400(client, path):
    tok = await make_token(client, "w")
    for depth in (1000, 100_000):
        raw = b'{"a":' * depth + b"1" + b"}" * depth
        r = await client.post(path, data=raw, headers={**auth(ADMIN if path == "/api/tokens" else tok),
                                                       "Content-Type": "application/json"})
        await expect_error(r, 400, "deeper")


async def test_a_huge_sweep_is_refused_before_its_grid_is_built(client):
    sweep = {"sweep": {"type": "jobshop", "base": {"jobs": [[[0, 1]]], "time_limit": 1},
                       "grid": {"time_limit": list(range(1, 3001)), "seed": list(range(3000)),
                                "x": list(range(3000))}}}
    t0 = time.monotonic()
    r = await client.post("/api/jobs", json=sweep, headers=auth(ADMIN))
    assert time.monotonic() - t0 < 2
    await expect_error(r, 400, "at most 1000")
    assert (await (await client.get("/api/jobs")).json())["total"] == 0


# --- secure by configuration -------------------------------------------------------------------

async def test_admin_secret_is_accepted_only_in_the_authorization_header(client):
    r = await client.get(f"/api/tokens?token={ADMIN}")
    await expect_error(r, 401)
    r = await client.post(f"/api/tokens?token={ADMIN}", json={"node_id": "x"})
    await expect_error(r, 401)
    assert (await client.get("/api/tokens", headers=auth(ADMIN))).status == 200


async def test_json_routes_require_a_json_content_type(client):
    tok = await make_token(client, "w")
    body = json.dumps({"samples": [sample(time.time())]})
    for ctype in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
        r = await client.post("/api/ingest/w", data=body, headers={**auth(tok), "Content-Type": ctype})
        await expect_error(r, 415, "application/json")
    r = await client.post("/api/tokens", data=json.dumps({"node_id": "y"}),
                          headers={**auth(ADMIN), "Content-Type": "text/plain"})
    await expect_error(r, 415)
    r = await client.post("/api/ingest/w", data=body,
                          headers={**auth(tok), "Content-Type": "application/json; charset=utf-8"})
    assert r.status == 200
    tokens = (await (await client.get("/api/tokens", headers=auth(ADMIN))).json())["tokens"]
    assert [t["node_id"] for t in tokens] == ["w"]


async def test_dashboard_sends_csp_frame_and_nosniff_headers(client):
    import base64
    import hashlib
    import re
    for path in ("/", "/static/js/app.js", "/api/fleet"):
        r = await client.get(path)
        assert r.status == 200
        assert r.headers["X-Frame-Options"] == "DENY"
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        csp = r.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp and "'unsafe-eval'" not in csp
    page = await (await client.get("/")).text()
    [inline] = re.findall(r"<script>(.*?)</script>", page, flags=re.S)
    digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in csp.split("script-src", 1)[1].split(";")[0]


async def test_host_header_is_checked_against_allowed_hosts_when_set(aiohttp_client, hub_config, tmp_path):
    client = await aiohttp_client(create_app(hub_config(allowed_hosts="hub.example, forge.tailnet:3000")))
    for host, status in (("evil.example", 421), ("evil.example:3000", 421), ("hub.example", 200),
                         ("hub.example:8443", 200), ("forge.tailnet", 200), ("127.0.0.1:3000", 200),
                         ("localhost", 200)):
        r = await client.get("/api/fleet", headers={"Host": host})
        assert r.status == status, host
        if status == 421:
            await expect_error(r, 421, "hub.example", "allowed_hosts")
    open_client = await aiohttp_client(create_app(HubConfig(data_dir=tmp_path / "h2")))
    assert (await open_client.get("/api/fleet", headers={"Host": "anything.example"})).status == 200


async def test_join_rate_limit_table_forgets_quiet_addresses(client):
    attempts = client.app[HUB].join_attempts
    past = time.time() - 120
    for i in range(2000):
        attempts.allow(f"10.0.{i // 250}.{i % 250}", past)
    assert len(attempts) == 2000
    r = await client.post("/api/join", json={"code": "ZZZZZ-ZZZZZ", "node_id": "n"})
    assert r.status == 401
    assert len(attempts) == 1


# --- token use ---------------------------------------------------------------------------------

async def test_token_last_use_is_recorded_for_tokens_list(aiohttp_client, hub_config):
    client = await aiohttp_client(create_app(hub_config(token_use_interval_s=0.1)))
    tok = await make_token(client, "n")
    await make_token(client, "idle")
    t0 = time.time()
    assert (await client.post("/api/ingest/n", json={"samples": [sample(t0)]}, headers=auth(tok))).status == 200
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        listed = (await (await client.get("/api/tokens", headers=auth(ADMIN))).json())["tokens"]
        rows = {t["node_id"]: t for t in listed}
        if rows["n"]["last_used"]:
            break
        await asyncio.sleep(0.1)
    assert rows["n"]["last_used"] >= t0 - 1
    assert rows["idle"]["last_used"] is None


def _depth(value: object) -> int:
    """How deep arrays/objects nest in a decoded value: the plain walk the text check must match."""
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


def _nested(rng, depth: int) -> object:
    """A random JSON value nesting `depth` deep, with strings full of brackets, quotes and escapes."""
    tricky = ['plain', '[[[{{{', '}}]]', 'say "hi" [x]', 'back\\slash {', '\\"]', 'tab\t\u00e9\u2603 {[']
    if depth == 0:
        return rng.choice([rng.choice(tricky), rng.randint(-9, 9), 1.5, None, True])
    inner = [_nested(rng, depth - 1)] + [_nested(rng, rng.randint(0, depth - 1)) for _ in range(rng.randint(0, 3))]
    rng.shuffle(inner)
    if rng.random() < 0.5:
        return inner
    return {rng.choice(tricky) + str(i): v for i, v in enumerate(inner)}


def test_the_depth_check_reads_the_text_as_the_walk_reads_the_value():
    import random
    import msgspec
    from hub.limits import raw_json_depth_ok
    rng = random.Random(17)
    for _ in range(400):
        value = _nested(rng, rng.randint(0, 12))
        depth = _depth(value)
        for raw in (msgspec.json.encode(value), json.dumps(value, indent=1).encode(), json.dumps(value).encode()):
            for limit in (depth - 1, depth, depth + 1, 1):
                assert raw_json_depth_ok(raw, limit) == (depth <= limit), (raw, limit, depth)


@pytest.mark.parametrize("path", ["/api/ingest/w"])
async def test_json_nested_to_the_limit_is_accepted_and_one_deeper_is_a_400(client, path):
    from hub.limits import MAX_JSON_DEPTH
    tok = await make_token(client, "w")
    deep = "x"
    for _ in range(MAX_JSON_DEPTH - 3):  # the body, its samples and the sample are three levels
        deep = {"k]}\"": deep}
    ok = {"samples": [{**sample(time.time()), "extra": deep}]}
    assert _depth(ok) == MAX_JSON_DEPTH
    r = await client.post(path, json=ok, headers=auth(tok))
    assert r.status == 200, await r.text()
    ok["samples"][0]["extra"] = {"one more [": deep}
    r = await client.post(path, json=ok, headers=auth(tok))
    await expect_error(r, 400, "deeper")
