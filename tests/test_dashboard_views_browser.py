"""Honest views in a real Chromium against a real hub process: a node that stopped reporting
says so and greys what it last sent, long ranges read the averaged tiers, charts zoom together.

Nodes here push through the real ingest API with a real token (samples dated in the past,
as an agent flushing its buffer would), so history days old exists without waiting days.
"""
from __future__ import annotations

import os
import re

import pytest

from conftest import http, shot, wait_until

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists("/usr/bin/chromium"), reason="needs Debian's /usr/bin/chromium"),
]

FAST = {"FORGE_HUB_DEGRADED_AFTER_S": "1", "FORGE_HUB_OFFLINE_AFTER_S": "2", "FORGE_HUB_ROLLUP_INTERVAL_S": "1"}
IDENTITY = {"hostname": "gone", "os": "Linux", "os_version": "6.1", "arch": "x86_64", "cores": 2,
            "agent_version": "0.1.0"}


def sample(ts: float, cpu: float) -> dict:
    return {"schema_version": 1, "ts": ts,
            "cpu": {"percent": cpu, "per_core": [cpu, cpu], "temp_c": None, "package_temp_c": None},
            "memory": {"percent": 40.0, "total": 8 << 30, "used": 3 << 30, "available": 5 << 30},
            "swap": {"total": 0, "used": 0, "percent": 0.0},
            "disk": {"read_bps": 1000.0, "write_bps": 2000.0,
                     "mounts": [{"mount": "/", "fstype": "ext4", "total": 100 << 30, "used": 50 << 30,
                                 "free": 50 << 30, "percent": 50.0}]},
            "net": {"rx_bps": 896_000.0, "tx_bps": 1000.0}, "load": [0.5, 0.4, 0.3], "uptime_s": 5000.0}


def push(hub, node_id: str, token: str, samples: list[dict]) -> None:
    for i in range(0, len(samples), 500):
        st, body = http("POST", f"{hub.url}/api/ingest/{node_id}", {"node": IDENTITY, "samples": samples[i:i + 500]},
                        token=token)
        assert st == 200, body


def hub_now(hub) -> float:
    return http("GET", hub.url + "/api/health")[1]["time"]


def test_offline_node_says_since_when_and_greys_its_last_values(live_hub, page, artifacts):
    hub = live_hub(env=FAST)
    now = hub_now(hub)
    push(hub, "gone", hub.token("gone"), [sample(now - 600 + i, 9.9) for i in range(120)])
    wait_until(lambda: hub.fleet()["gone"]["status"] == "offline", 10, what="the node to turn offline")

    page.goto(hub.url + "/#/node/gone")
    banner = page.locator(".stale-banner")
    banner.wait_for(state="visible", timeout=10_000)
    text = banner.inner_text()
    assert re.match(r"Offline since \d\d:\d\d \(8 min ago\)", text), text
    # Values are the last it sent, and say so: labelled and in the muted colour, not as live readings.
    assert page.locator(".stat-l", has_text="CPU last seen").is_visible()
    cpu_now = page.locator(".stat", has_text="CPU last seen").locator(".stat-v")
    wait_until(lambda: cpu_now.inner_text() == "9.9 %", 10, what="the last CPU value")
    muted = page.evaluate("getComputedStyle(document.querySelector('.stat-l')).color")
    assert cpu_now.evaluate("e => getComputedStyle(e).color") == muted
    # The 5-minute live window would be empty: the page opens on the 1 h range, which holds the data.
    page.locator('.ranges button[aria-pressed="true"]', has_text="1 h").wait_for(timeout=10_000)
    wait_until(lambda: "120 points" in page.locator(".range-note").inner_text(), 10, what="the 1 h history")
    assert "no history" not in page.locator(".range-note").inner_text()
    # No temperature sensor: said in words, never a dash or a 0.
    assert page.locator(".stat", has_text="Package").locator(".stat-v").inner_text() == "unavailable"
    shot(page, artifacts, "node_offline")


def test_30_days_reads_the_hour_tier_and_charts_zoom_together(live_hub, page, artifacts):
    hub = live_hub(env=FAST)
    now = hub_now(hub)
    token = hub.token("old")
    # 20 days, one quarter-hour each day: two raw samples a minute apart-ish, 20 % and 60 %.
    starts = [(int(now) // 900 - 96 * d) * 900 for d in range(1, 21)]
    push(hub, "old", token, [s for t in starts for s in (sample(t + 5, 20.0), sample(t + 35, 60.0))])
    url = f"{hub.url}/api/nodes/old/snapshot?resolution=1h&points=100&since={now - 31 * 86400}"
    wait_until(lambda: len(http("GET", url)[1]["samples"]) == 20, 30, what="the 1-hour tier to be rolled up")

    page.goto(hub.url + "/#/node/old")
    # Offline, its newest data a day old: the page opens on the shortest range that shows it.
    page.locator('.ranges button[aria-pressed="true"]', has_text="7 d").wait_for(timeout=10_000)
    with page.expect_response(lambda r: "/snapshot?" in r.url and "resolution=1h" in r.url) as resp:
        page.locator(".ranges button", has_text="30 d").click()
    body = resp.value.json()
    assert body["resolution"] == "1h" and "every=" not in resp.value.url
    assert [s["cpu"]["percent"] for s in body["samples"]] == [40.0] * 20  # hour averages, not raw samples
    assert [s["ts"] % 3600 for s in body["samples"]] == [0] * 20
    note = page.locator(".range-note")
    wait_until(lambda: "20 points" in note.inner_text(), 10, what="the range note")
    assert "1-hour averages" in note.inner_text() and note.get_attribute("data-resolution") == "1h"

    charts = page.locator(".chart")
    assert charts.count() == 5
    def spans():
        return [float(c.get_attribute("data-x-max")) - float(c.get_attribute("data-x-min"))
                for c in charts.all()]
    wait_until(lambda: all(abs(s - 30 * 86400) < 60 for s in spans()), 10, what="every chart to show 30 d")

    # Drag across the CPU chart: every chart on the page zooms to the same span.
    over = page.locator(".chart .u-over").first
    box = over.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.5, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.75, y, steps=8)
    page.mouse.up()
    wait_until(lambda: all(s < 9 * 86400 for s in spans()), 5, what="the charts to zoom")
    mins = {c.get_attribute("data-x-min") for c in charts.all()}
    assert len(mins) == 1 and max(spans()) > 6 * 86400
    shot(page, artifacts, "node_zoomed")

    # One cursor across the page: pointing at the CPU chart shows the same moment in the memory chart.
    page.mouse.move(box["x"] + box["width"] * 0.4, y)
    times = page.locator(".chart .u-legend .u-series:first-child .u-value")
    wait_until(lambda: times.nth(0).inner_text() not in ("", "–"), 5, what="the cursor's time")
    assert times.nth(0).inner_text() == times.nth(1).inner_text() == times.nth(4).inner_text()

    page.get_by_role("button", name="Reset zoom").click()
    wait_until(lambda: all(abs(s - 30 * 86400) < 60 for s in spans()), 5, what="the zoom to reset")


def _ft06() -> str:
    from conftest import FIXTURES
    return (FIXTURES / "jsplib" / "instances" / "ft06").read_text()


def test_pending_job_says_why_it_waits_on_its_page_and_in_the_list(live_hub, page, artifacts):
    hub = live_hub()
    st, body = http("POST", hub.url + "/api/jobs", {"type": "jobshop", "payload": {"jsplib": _ft06()}},
                    token=hub.admin)
    jid = body["id"]
    tok = hub.token("studio")
    st, _ = http("POST", hub.url + "/api/workers/studio/heartbeat",
                 {"running": [], "paused": False, "reason": "on battery", "detail": "running on battery",
                  "cores": 0, "types": ["jobshop"]}, token=tok)
    assert st == 200
    page.goto(f"{hub.url}/#/jobs/{jid}")
    page.locator(".job-waiting").wait_for(timeout=10_000)
    wait_until(lambda: "studio is on battery" in page.locator(".job-waiting").inner_text(), 10,
               what="the reason on the job page")
    assert page.locator(".job-waiting").inner_text() == "1 worker runs jobshop: studio is on battery."
    shot(page, artifacts, "job_pending_reason")
    page.goto(f"{hub.url}/#/jobs")
    row = page.locator(f'.jobs-table tr[data-job="{jid}"]')
    row.wait_for(timeout=10_000)
    assert "studio is on battery" in row.inner_text()


def test_cancel_then_retry_then_resubmit_from_the_job_page_behind_admin_sign_in(live_hub, page, artifacts):
    hub = live_hub()
    st, body = http("POST", hub.url + "/api/jobs", {"type": "jobshop", "payload": {"jsplib": _ft06(), "seed": 7}},
                    token=hub.admin)
    jid = body["id"]
    page.goto(f"{hub.url}/#/jobs/{jid}")
    page.get_by_role("button", name="Cancel job").click()
    # No secret yet: the page asks for one, refuses a wrong one with the hub's message, then acts.
    page.get_by_label("Admin secret").fill("wrong-secret")
    page.get_by_role("button", name="Sign in").click()
    page.locator(".action-msg.error").wait_for(timeout=10_000)
    assert "did not accept" in page.locator(".action-msg").inner_text()
    assert hub.job(jid)["status"] == "pending"
    page.get_by_label("Admin secret").fill(hub.admin)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector('.node-head .job-status[data-status="cancelled"]', timeout=10_000)
    assert hub.job(jid)["status"] == "cancelled"
    assert page.get_by_role("button", name="Cancel job").is_hidden()

    page.get_by_role("button", name="Retry").click()
    link = page.locator(".action-msg a")
    link.wait_for(timeout=10_000)
    new_id = int(link.inner_text().lstrip("job #"))
    assert new_id != jid and hub.job(new_id)["status"] == "pending"
    assert hub.job(new_id)["payload"] == hub.job(jid)["payload"]

    assert page.locator(".seed-input").input_value() == "8"
    page.locator(".seed-input").fill("42")
    page.get_by_role("button", name="Resubmit with seed").click()
    wait_until(lambda: "seed 42" in page.locator(".action-msg").inner_text(), 10, what="the resubmit")
    again = int(page.locator(".action-msg a").inner_text().lstrip("job #"))
    assert hub.job(again)["payload"]["seed"] == 42
    shot(page, artifacts, "job_actions")
    page.locator(".action-msg a").click()
    page.wait_for_url(f"**/#/jobs/{again}")
    page.locator(".job-waiting").wait_for(timeout=10_000)


def live_sample(ts: float, cpu: float, disk: float, temp: float | None) -> dict:
    s = sample(ts, cpu)
    s["disk"]["mounts"][0]["percent"] = disk
    s["cpu"]["package_temp_c"] = temp
    return s


def test_fleet_table_sorts_by_column_is_remembered_and_colours_thresholds(live_hub, page, artifacts):
    hub = live_hub()
    now = hub_now(hub)
    for node_id, cpu, disk, temp in (("alpha", 20.0, 97.0, None), ("bravo", 95.0, 40.0, 85.0), ("charlie", 50.0, 60.0, 45.0)):
        push(hub, node_id, hub.token(node_id), [live_sample(now - 1, cpu, disk, temp)])
    page.goto(hub.url + "/#/fleet")
    page.get_by_role("button", name="Table").click()
    rows = page.locator(".fleet-table tbody tr")
    wait_until(lambda: rows.count() == 3, 10, what="three rows")
    order = lambda: rows.evaluate_all("rs => rs.map(r => r.dataset.node)")
    assert order() == ["alpha", "bravo", "charlie"]  # by name

    page.locator(".fleet-table th", has_text="CPU").get_by_role("button").click()
    wait_until(lambda: order() == ["bravo", "charlie", "alpha"], 5, what="busiest CPU first")
    page.locator(".fleet-table th", has_text="CPU").get_by_role("button").click()
    wait_until(lambda: order() == ["alpha", "charlie", "bravo"], 5, what="the order reversed")
    assert page.locator(".fleet-table th", has_text="CPU").get_attribute("aria-sort") == "descending"
    page.locator(".fleet-table th", has_text="Fullest disk").get_by_role("button").click()
    wait_until(lambda: order() == ["alpha", "charlie", "bravo"], 5, what="fullest disk first")

    row = lambda n: page.locator(f'.fleet-table tr[data-node="{n}"]')
    assert row("alpha").locator('td[data-col="disk"] .bar').get_attribute("data-level") == "bad"
    assert row("bravo").locator('td[data-col="cpu"] .bar').get_attribute("data-level") == "bad"
    assert row("charlie").locator('td[data-col="cpu"] .bar').get_attribute("data-level") is None
    assert row("bravo").locator('td[data-col="temp"]').inner_text() == "85 °C"
    assert row("bravo").locator('td[data-col="temp"]').get_attribute("data-level") == "warn"
    assert row("alpha").locator('td[data-col="temp"]').inner_text() == "unavailable"
    assert row("alpha").locator('td[data-col="os"]').inner_text() == "Linux 6.1 · x86-64"
    shot(page, artifacts, "fleet_table")

    # The view and its sort survive a reload.
    page.reload()
    wait_until(lambda: rows.count() == 3 and order() == ["alpha", "charlie", "bravo"], 10, what="the remembered table")
    assert page.locator(".grid").is_hidden()
    page.set_viewport_size({"width": 390, "height": 800})
    page.get_by_role("button", name="Cards").click()
    card_height = page.locator('.card[data-node="alpha"]').bounding_box()["height"]
    assert card_height < 90  # a compact row on a phone, not a 148 px card
    shot(page, artifacts, "fleet_phone")


def test_cards_sort_names_naturally_and_say_when_last_pushed_on_hover(live_hub, page):
    """Numbered names sort by number (node-2 before node-10), letters as a person reads them
    (Alpha, beta), and a card's "last seen" gives the push's date when the pointer reaches it."""
    hub = live_hub()
    now = hub_now(hub)
    for node_id in ("node-10", "beta", "node-2b", "Alpha", "node-2", "node-02x"):
        push(hub, node_id, hub.token(node_id), [live_sample(now - 1, 10.0, 50.0, None)])
    page.goto(hub.url + "/#/fleet")
    cards = page.locator(".grid .card")
    wait_until(lambda: cards.count() == 6, 10, what="six cards")
    order = cards.evaluate_all("cs => cs.map(c => c.dataset.node)")
    assert order == ["Alpha", "beta", "node-2", "node-2b", "node-02x", "node-10"]
    assert order == page.evaluate("ids => ids.sort(new Intl.Collator(undefined, { numeric: true }).compare)", order)
    seen = page.locator('.card[data-node="beta"] .seen')
    seen.hover()
    wait_until(lambda: (seen.get_attribute("title") or "").startswith("last push "), 5, what="the last push's date")


def test_add_page_waits_for_the_machine_and_says_when_it_joined(live_hub, page, artifacts):
    hub = live_hub()
    st, health = http("GET", hub.url + "/api/health")
    assert health["loopback_only"] is True
    page.goto(hub.url + "/#/add")
    page.locator("p", has_text="listens on a loopback address only").wait_for(timeout=10_000)
    page.fill("#admin-secret", hub.admin)
    page.click("text=Create join code")
    code = page.locator("#join-code")
    code.wait_for(state="visible", timeout=10_000)
    joined = page.locator(".joined")
    assert "Waiting for a machine to join" in page.locator(".join-wait").inner_text()
    st, body = http("POST", hub.url + "/api/join", {"code": code.inner_text(), "node_id": "newbox"})
    assert st == 201, body
    push(hub, "newbox", body["token"], [sample(hub_now(hub), 5.0)])
    wait_until(lambda: "newbox joined at" in joined.inner_text(), 15, what="the page to see the machine join")
    assert "after the code was made" in joined.inner_text()
    assert page.locator(".join-wait").is_hidden()
    shot(page, artifacts, "add_joined")


INFEASIBLE_LP = "Minimize\n obj: x\nSubject To\n c1: x >= 5\n c2: x <= 3\nEnd\n"


def test_infeasible_is_amber_not_succeeded_and_a_traceback_shows_once_trimmed(live_hub, page, artifacts):
    hub = live_hub(env={"FORGE_HUB_ALLOW_TEST_JOBS": "1"})
    hub.spawn("agent-w1", hub.forge("agent", "--hub", hub.url, "--node-id", "w1", "--token", hub.token("w1"),
                                    "--jobs", "always"), env=dict(hub.env, FORGE_WORKER_TYPES="sleep,mps"))
    st, body = http("POST", hub.url + "/api/jobs", {"type": "mps", "payload": {"model": INFEASIBLE_LP, "format": "lp"}},
                    token=hub.admin)
    assert st == 201, body
    lp = hub.wait_job_final(body["id"], timeout=90)
    assert lp["status"] == "succeeded" and lp["result"]["status"] == "infeasible"
    st, body = http("POST", hub.url + "/api/jobs", {"type": "sleep", "payload": {"seconds": 0, "fail": True},
                                                    "max_attempts": 1}, token=hub.admin)
    failed = hub.wait_job_final(body["id"], timeout=60)
    assert "Traceback" in failed["error"] and "/forge_desktop/" in failed["error"]

    page.goto(f"{hub.url}/#/jobs/{lp['id']}")
    badge = page.locator(".node-head .job-status")
    wait_until(lambda: badge.inner_text() == "infeasible", 10, what="the infeasible outcome")
    assert badge.get_attribute("data-status") == "nosolution"
    ok_green = page.evaluate("(() => { const s = document.createElement('span'); s.style.color = 'var(--ok)'; "
                             "document.body.append(s); const c = getComputedStyle(s).color; s.remove(); return c; })()")
    assert badge.evaluate("e => getComputedStyle(e).color") != ok_green
    shot(page, artifacts, "job_infeasible")

    page.goto(f"{hub.url}/#/jobs/{failed['id']}")
    page.locator(".job-error").wait_for(timeout=10_000)
    message = failed["error"].split("\n")[0]
    assert page.locator(".job-error").inner_text() == message
    body_text = page.inner_text("main")
    assert body_text.count(message) == 1  # not again in the attempts table, nor at the traceback's end
    page.locator(".job-trace summary").click()
    trace = page.locator(".job-trace pre").inner_text()
    assert trace.startswith("Traceback (most recent call last):")
    assert str(hub.home) not in trace and "/site-packages/" not in trace and 'File "/' not in trace
    assert "forge_desktop/" in trace
    shot(page, artifacts, "job_traceback")


def test_theme_follows_the_os_until_one_is_chosen(live_hub, page):
    hub = live_hub()
    page.emulate_media(color_scheme="light")
    page.goto(hub.url + "/#/fleet")
    page.locator(".counts").wait_for(timeout=10_000)
    assert page.get_attribute("html", "data-theme") == "light"
    page.emulate_media(color_scheme="dark")
    wait_until(lambda: page.get_attribute("html", "data-theme") == "dark", 5, what="the page to follow the OS")
    page.click("#theme")  # chosen: light, whatever the OS says from now on
    page.emulate_media(color_scheme="dark")
    page.reload()
    page.locator(".counts").wait_for(timeout=10_000)
    assert page.get_attribute("html", "data-theme") == "light"


@pytest.mark.parametrize("os_name, version, arch, shown", [
    ("Darwin", "23.4.0", "arm64", "macOS 14.4 · arm64"),  # a kernel release where mac_ver gave nothing
    ("Darwin", "14.4.1", "arm64", "macOS 14.4 · arm64"),
    ("Windows", "10.0.22631", "AMD64", "Windows 11 · x86-64"),
    ("Windows", "10.0.19045", "AMD64", "Windows 10 · x86-64"),
    ("Linux", "6.8.0-31-generic", "aarch64", "Linux 6.8 · arm64"),
])
def test_cards_and_rows_name_the_os_as_people_do(live_hub, page, os_name, version, arch, shown):
    hub = live_hub()
    ident = {**IDENTITY, "os": os_name, "os_version": version, "arch": arch}
    st, body = http("POST", f"{hub.url}/api/ingest/box", {"node": ident, "samples": [sample(hub_now(hub), 5.0)]},
                    token=hub.token("box"))
    assert st == 200, body
    page.goto(hub.url + "/#/fleet")
    os_cell = page.locator('.card[data-node="box"] .card-os')
    os_cell.wait_for(timeout=10_000)
    assert os_cell.inner_text() == shown


def test_node_page_ranges_are_the_hubs_served_time_ranges(live_hub, page, artifacts):
    """The range buttons, and what each asks the snapshot route for, are GET /api/meta's
    `time_ranges`; a meta that says otherwise is followed, and without one the page shows
    its newest samples live and says why."""
    hub = live_hub()
    now = hub_now(hub)
    push(hub, "here", hub.token("here"), [sample(now - 60 + i, 30.0) for i in range(60)])
    served = http("GET", hub.url + "/api/meta")[1]["time_ranges"]
    page.goto(hub.url + "/#/node/here")
    buttons = page.locator(".ranges button")
    page.locator('.ranges button[aria-pressed="true"]', has_text=served[0]["label"]).wait_for(timeout=10_000)
    assert buttons.all_inner_texts() == [r["label"] for r in served]
    assert [b.get_attribute("data-range") for b in buttons.all()] == [r["key"] for r in served]
    for rng in served[1:]:
        with page.expect_response(lambda r: "/snapshot?" in r.url and "since=" in r.url) as resp:
            buttons.nth(served.index(rng)).click()
        asked = dict(p.split("=", 1) for p in resp.value.url.split("?", 1)[1].split("&"))
        assert (asked["points"], asked["resolution"], asked.get("every")) == \
            (str(rng["points"]), rng["resolution"], None if rng["every"] is None else str(rng["every"])), rng
        assert resp.value.status == 200 and resp.value.json()["resolution"] == rng["resolution"]
        assert now - float(asked["since"]) == pytest.approx(rng["seconds"], abs=30)
    shot(page, artifacts, "node_ranges_from_meta")

    def changed(route):
        body = route.fetch().json()
        body["time_ranges"] = [{**served[0], "label": "last 5 min"},
                               {"key": "90m", "label": "90 min", "seconds": 5400, "resolution": "1m", "points": 90,
                                "step": 60, "every": None, "live": False, "refresh_s": 60}]
        route.fulfill(json=body)
    page.route("**/api/meta", changed)
    page.reload()
    page.locator('.ranges button[aria-pressed="true"]', has_text="last 5 min").wait_for(timeout=10_000)
    assert buttons.all_inner_texts() == ["last 5 min", "90 min"]
    with page.expect_response(lambda r: "/snapshot?" in r.url and "since=" in r.url) as resp:
        buttons.nth(1).click()
    assert "points=90&resolution=1m" in resp.value.url

    page.unroute("**/api/meta")
    page.route("**/api/meta", lambda route: route.fulfill(status=503, json={"error": "unavailable",
                                                                           "message": "meta is down"}))
    page.reload()
    note = page.locator(".range-note")
    wait_until(lambda: "60 points" in note.inner_text(), 10, what="the newest samples without the meta")
    assert "live" in note.inner_text() and buttons.count() == 0
    notice = page.locator("p.range-error")
    assert "GET /api/meta" in notice.inner_text() and "meta is down" in notice.inner_text()
    page.screenshot(path="/tmp/uivocab_node_no_meta.png")


def test_time_axis_labels_name_each_tick_once_at_every_range(live_hub, page, artifacts):
    """The node page's time axis says what a tick is at the range's scale, and never names the
    same day or month twice: a year is labelled by months (weekday and day, "Sun 1", repeat
    within a year)."""
    hub = live_hub()
    now = hub_now(hub)
    push(hub, "here", hub.token("here"), [sample(now - 60 + i, 30.0) for i in range(60)])
    served = http("GET", hub.url + "/api/meta")[1]["time_ranges"]
    page.goto(hub.url + "/#/node/here")
    chart = page.locator(".chart").first
    buttons = page.locator(".ranges button")
    page.locator('.ranges button[aria-pressed="true"]', has_text=served[0]["label"]).wait_for(timeout=10_000)
    months = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    seen = {}
    for i, rng in enumerate(served):
        buttons.nth(i).click()
        wait_until(lambda: abs(float(chart.get_attribute("data-x-max") or 0) - float(chart.get_attribute("data-x-min") or 0)
                               - rng["seconds"]) < 120, 10, what=f"the chart to span {rng['label']}")
        wait_until(lambda: chart.get_attribute("data-x-labels"), 5, what="the axis labels")
        page.wait_for_timeout(200)
        labels = [t for t in chart.get_attribute("data-x-labels").split("|") if t]
        seen[rng["key"]] = labels
        days = [t for t in labels if ":" not in t]  # between midnights a week's ticks say the hour
        assert len(labels) >= 2 and len(set(days)) == len(days), (rng["label"], labels)
    year = seen[served[-1]["key"]]
    assert served[-1]["seconds"] >= 360 * 86400 and all(t.split()[0] in months for t in year), year
    assert any(len(t.split()) == 2 and t.split()[1].isdigit() and len(t.split()[1]) == 4 for t in year[:1]), \
        "the first month names its year"
    thirty = [r for r in served if 20 * 86400 < r["seconds"] < 40 * 86400][0]
    assert all(any(m in t for m in months) and any(ch.isdigit() for ch in t) for t in seen[thirty["key"]]), seen
    shot(page, artifacts, "node_year_axis")
