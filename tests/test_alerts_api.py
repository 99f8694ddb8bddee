"""The alert routes in-process (`aiohttp_client(create_app(config))`) with a real SQLite file."""
from __future__ import annotations

import asyncio
import os
import stat
import time

import pytest
from aiohttp import web

from hub.app import create_app
from hub.state import HUB

from conftest import ADMIN, free_port

ADM = {"Authorization": f"Bearer {ADMIN}"}
RULE = {"name": "hot", "metric": "cpu", "op": ">", "threshold": 90, "for_s": 0, "nodes": ["*"],
        "severity": "critical", "channels": [], "enabled": True}


@pytest.fixture
async def client(aiohttp_client, hub_config):
    return await aiohttp_client(create_app(hub_config()))


async def token(client, node_id: str) -> dict:
    r = await client.post("/api/tokens", json={"node_id": node_id}, headers=ADM)
    return {"Authorization": "Bearer " + (await r.json())["token"]}


async def push(client, node_id: str, tok: dict, **fields) -> None:
    s = {"schema_version": 1, "ts": time.time(), "cpu": {"percent": 10.0}, "memory": {"percent": 40.0}}
    s.update(fields)
    r = await client.post(f"/api/ingest/{node_id}", json={"node": {"hostname": node_id, "cores": 2}, "samples": [s]},
                          headers=tok)
    assert r.status == 200, await r.text()


async def rules(client) -> list[dict]:
    r = await client.get("/api/alert-rules")
    assert r.status == 200
    return (await r.json())["rules"]


@pytest.fixture
async def receiver(aiohttp_server):
    """A real loopback HTTP server standing in for a webhook (json://)."""
    got: list[dict] = []

    async def hook(request: web.Request) -> web.Response:
        got.append(await request.json())
        return web.Response()
    app = web.Application()
    app.router.add_post("/hook", hook)
    server = await aiohttp_server(app)
    server.got = got
    return server


async def test_rules_are_readable_by_viewers_and_writable_by_admins(client):
    assert len(await rules(client)) == 5  # the stock rules
    r = await client.post("/api/alert-rules", json=RULE)
    assert r.status == 401 and (await r.json())["error"] == "unauthorized"
    r = await client.post("/api/alert-rules", json=RULE, headers=ADM)
    assert r.status == 201
    made = await r.json()
    assert {k: made[k] for k in RULE} == RULE
    r = await client.put(f"/api/alert-rules/{made['id']}", json=dict(RULE, threshold=95), headers=ADM)
    assert r.status == 200 and (await r.json())["threshold"] == 95
    assert [x["threshold"] for x in await rules(client) if x["id"] == made["id"]] == [95]
    r = await client.delete(f"/api/alert-rules/{made['id']}", headers=ADM)
    assert r.status == 200
    assert len(await rules(client)) == 5
    r = await client.delete(f"/api/alert-rules/{made['id']}", headers=ADM)
    assert r.status == 404
    for bad in ("x", "-1", str(2**63)):
        r = await client.delete(f"/api/alert-rules/{bad}", headers=ADM)
        assert r.status == 400 and "id" in (await r.json())["message"], bad


@pytest.mark.parametrize("change, field", [
    ({"metric": "bogus"}, "metric"),
    ({"op": ">="}, "op"),
    ({"for_s": -5}, "for_s"),
    ({"threshold": "high"}, "threshold"),
    ({"severity": "doom"}, "severity"),
    ({"nodes": ["no-such-node"]}, "nodes"),
    ({"channels": [999]}, "channels"),
    ({"colour": "red"}, "colour"),
])
async def test_a_bad_rule_is_a_400_naming_the_field_and_changes_nothing(client, change, field):
    before = await rules(client)
    r = await client.post("/api/alert-rules", json=dict(RULE, **change), headers=ADM)
    body = await r.json()
    assert r.status == 400 and body["error"] == "invalid_field" and field in body["message"], body
    r = await client.put(f"/api/alert-rules/{before[0]['id']}", json=dict(RULE, **change), headers=ADM)
    assert r.status == 400
    assert await rules(client) == before


async def test_channels_are_admin_only_masked_and_sealed_at_rest(client, hub_config):
    url = "tgram://123456789:AAHsecretsecretsecretsecret/4242/"
    r = await client.post("/api/channels", json={"name": "phone", "url": url})
    assert r.status == 401
    r = await client.post("/api/channels", json={"name": "phone", "url": url}, headers=ADM)
    assert r.status == 201
    made = await r.json()
    assert "secretsecret" not in made["url"] and made["url"].startswith("tgram://")
    r = await client.get("/api/channels")
    assert r.status == 401
    r = await client.get("/api/channels", headers=ADM)
    assert "secretsecret" not in await r.text()
    data = hub_config().data_dir
    for name in os.listdir(data):
        if name.startswith("forge.db"):
            assert b"secretsecret" not in (data / name).read_bytes(), name
    key = data / "channels.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600


async def test_an_apprise_url_apprise_cannot_parse_is_refused(client):
    for url in ("bogus://whatever", "not a url", ""):
        r = await client.post("/api/channels", json={"name": "x", "url": url}, headers=ADM)
        body = await r.json()
        assert r.status == 400 and body["message"].startswith("url"), body
    r = await client.get("/api/channels", headers=ADM)
    assert (await r.json())["channels"] == []


async def test_deleting_a_channel_takes_it_out_of_its_rules(client):
    r = await client.post("/api/channels", json={"name": "hook", "url": "json://127.0.0.1:9/x"}, headers=ADM)
    ch = (await r.json())["id"]
    r = await client.post("/api/alert-rules", json=dict(RULE, channels=[ch]), headers=ADM)
    rid = (await r.json())["id"]
    assert (await client.delete(f"/api/channels/{ch}", headers=ADM)).status == 200
    assert [x["channels"] for x in await rules(client) if x["id"] == rid] == [[]]


async def test_the_test_button_reports_success_and_failure(client, receiver):
    ok = await client.post("/api/channels", json={"name": "up", "url": f"json://127.0.0.1:{receiver.port}/hook"},
                           headers=ADM)
    down = await client.post("/api/channels", json={"name": "down", "url": f"json://127.0.0.1:{free_port()}/hook"},
                             headers=ADM)
    r = await client.post(f"/api/channels/{(await ok.json())['id']}/test", headers=ADM)
    assert (await r.json()) == {"ok": True, "error": None}
    assert [g["title"] for g in receiver.got] == ["Forge test notification"]
    r = await client.post(f"/api/channels/{(await down.json())['id']}/test", headers=ADM)
    body = await r.json()
    assert body["ok"] is False and body["error"]
    listed = {c["name"]: c for c in (await (await client.get("/api/channels", headers=ADM)).json())["channels"]}
    assert listed["down"]["last_error"] == body["error"] and listed["up"]["last_error"] is None
    assert (await client.post("/api/channels/999/test", headers=ADM)).status == 404


async def test_a_firing_alert_is_notified_listed_exported_and_streamed(client, receiver):
    r = await client.post("/api/channels", json={"name": "hook", "url": f"json://127.0.0.1:{receiver.port}/hook"},
                          headers=ADM)
    ch = (await r.json())["id"]
    await client.post("/api/alert-rules", json=dict(RULE, channels=[ch]), headers=ADM)
    tok = await token(client, "box")
    await push(client, "box", tok)
    events = await client.get("/api/fleet/events")
    await push(client, "box", tok, cpu={"percent": 99.0})
    got = b""
    async with asyncio.timeout(10):
        while b"event: alert" not in got:
            got += await events.content.readany()
    events.close()
    assert b'"node_id":"box"' in got and b'"kind":"firing"' in got
    async with asyncio.timeout(10):
        while not receiver.got:
            await asyncio.sleep(0.05)
    assert receiver.got[0]["title"] == "FIRING: hot on box"
    assert "99" in receiver.got[0]["message"] and "/#/node/box" in receiver.got[0]["message"]
    r = await client.get("/api/alerts?state=firing")
    assert [(a["node_id"], a["rule_name"], a["state"]) for a in (await r.json())["alerts"]] == [("box", "hot", "firing")]
    text = await (await client.get("/metrics")).text()
    assert 'forge_alerts_firing{rule="hot",node="box",severity="critical"} 1' in text
    await push(client, "box", tok)
    async with asyncio.timeout(10):
        while len(receiver.got) < 2:
            await asyncio.sleep(0.05)
    assert [g["title"] for g in receiver.got] == ["FIRING: hot on box", "RESOLVED: hot on box"]
    assert (await (await client.get("/api/alerts?state=firing")).json())["alerts"] == []
    assert "forge_alerts_firing{" not in await (await client.get("/metrics")).text()


async def test_alert_list_filters_and_bad_parameters(client):
    for q in ("state=burning", "limit=0", "limit=x"):
        r = await client.get("/api/alerts?" + q)
        assert r.status == 400 and "error" in await r.json()
    r = await client.get("/api/alerts?node=nobody&limit=5")
    assert (await r.json()) == {"alerts": []}


async def test_maintenance_needs_admin_and_a_known_node(client):
    tok = await token(client, "backup")
    await push(client, "backup", tok)
    until = time.time() + 3600
    assert (await client.post("/api/nodes/backup/maintenance", json={"until": until})).status == 401
    assert (await client.post("/api/nodes/ghost/maintenance", json={"until": until}, headers=ADM)).status == 404
    r = await client.post("/api/nodes/backup/maintenance", json={"until": "tonight"}, headers=ADM)
    assert r.status == 400 and "until" in (await r.json())["message"]
    r = await client.post("/api/nodes/backup/maintenance", json={"until": until}, headers=ADM)
    assert (await r.json()) == {"node": "backup", "until": until}
    store = client.app[HUB].store.alerts
    assert await store.maintenance() == {"backup": until}
    await client.post("/api/nodes/backup/maintenance", json={"until": None}, headers=ADM)
    assert await store.maintenance() == {}


async def test_a_hub_with_a_viewer_token_guards_alert_reads(aiohttp_client, hub_config):
    client = await aiohttp_client(create_app(hub_config(viewer_token="viewer-secret-123")))
    for path in ("/api/alert-rules", "/api/alerts", "/api/alerts/events"):
        r = await client.get(path)
        assert r.status == 401 and (await r.json())["error"] == "unauthorized", path
    r = await client.get("/api/alert-rules", headers={"Authorization": "Bearer viewer-secret-123"})
    assert r.status == 200 and len((await r.json())["rules"]) == 5
    r = await client.get("/api/channels", headers={"Authorization": "Bearer viewer-secret-123"})
    assert r.status == 401  # channels are the admin's alone
    r = await client.post("/api/alert-rules", json=RULE, headers={"Authorization": "Bearer viewer-secret-123"})
    assert r.status == 401
