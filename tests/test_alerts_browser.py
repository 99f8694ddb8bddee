"""Alerts in the web dashboard: real Chromium, a real hub process, a real agent, a loopback webhook."""
from __future__ import annotations

import os

import pytest

from conftest import ADMIN, http, shot, wait_until
from test_alerts_e2e import Receiver

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists("/usr/bin/chromium"), reason="needs Debian's /usr/bin/chromium"),
]


def rules(hub) -> list[dict]:
    return http("GET", hub.url + "/api/alert-rules")[1]["rules"]


def test_a_firing_alert_shows_on_the_card_header_title_node_and_alerts_page(live_hub, page, artifacts):
    hub = live_hub()
    hub.start_agent("alpha", "--jobs", "never")
    hub.start_agent("beta", "--jobs", "never")
    page.goto(hub.url + "/#/fleet")
    page.locator('.card[data-node="alpha"]').wait_for(timeout=40_000)
    page.locator('.card[data-node="beta"]').wait_for(timeout=40_000)
    assert page.locator("#alert-count").is_hidden()
    assert not page.title().startswith("(")

    st, _ = http("POST", hub.url + "/api/alert-rules", {
        "name": "memory in use", "metric": "memory", "op": ">", "threshold": 0, "for_s": 0, "nodes": ["alpha"],
        "severity": "critical"}, token=ADMIN)
    assert st == 201
    page.locator('.card.alerting[data-node="alpha"]').wait_for(timeout=20_000)
    assert "alerting" not in page.locator('.card[data-node="beta"]').get_attribute("class")
    assert page.locator("#alert-count").inner_text() == "1 firing"
    wait_until(lambda: page.title().startswith("(1) "), 5, what="the count in the tab title")
    shot(page, artifacts, "alerts_fleet_card")

    page.locator('.card[data-node="alpha"]').click()
    page.locator(".node-alert").wait_for(timeout=10_000)
    assert "memory in use" in page.locator(".node-alert").inner_text()
    wait_until(lambda: page.title().startswith("(1) ") and "alpha" in page.title(), 10,
               what="the node's title keeping the count")

    page.click("#alert-count")
    page.wait_for_url("**/#/alerts")
    row = page.locator(".firing-table tbody tr")
    row.first.wait_for(timeout=10_000)
    assert row.count() == 1 and "alpha" in row.inner_text() and "memory in use" in row.inner_text()
    page.locator(".history-table tbody tr").first.wait_for(timeout=10_000)
    shot(page, artifacts, "alerts_page")


def test_rules_and_channels_are_created_and_tested_from_the_page(live_hub, page, artifacts):
    hub = live_hub()
    rx = Receiver()
    try:
        page.goto(hub.url + "/#/alerts")
        page.locator(".rules-table tbody tr").first.wait_for(timeout=20_000)
        assert page.locator(".rules-table tbody tr").count() == 5  # stock rules, read without signing in
        page.fill("#alerts-admin-secret", "wrong")
        page.click("text=Sign in to edit")
        page.locator("[role=alert]").filter(has_text="admin secret").wait_for(timeout=10_000)
        page.fill("#alerts-admin-secret", ADMIN)
        page.click("text=Sign in to edit")

        page.locator(".channel-form").wait_for(timeout=10_000)
        url = f"json://127.0.0.1:{rx.port}/hook"
        page.fill("input[name=channel-name]", "hook")
        page.fill("input[name=channel-url]", url)
        page.click("text=Add channel")
        page.locator(".channels-table tbody tr").first.wait_for(timeout=10_000)
        page.locator(".channels-table tbody tr button", has_text="Test").click()
        page.locator(".test-result.ok").wait_for(timeout=15_000)
        assert [g["title"] for g in rx.got] == ["Forge test notification"]

        page.fill("input[name=channel-name]", "broken")
        page.fill("input[name=channel-url]", "bogus://nothing")
        page.click("text=Add channel")
        page.locator("[role=alert]").filter(has_text="url").wait_for(timeout=10_000)

        form = page.locator(".rule-form")
        form.locator("input[name=name]").fill("cpu pegged")
        form.locator("select[name=metric]").select_option("cpu")
        form.locator("input[name=threshold]").fill("97")
        form.locator("input[name=for_s]").fill("120")
        form.locator("select[name=severity]").select_option("critical")
        form.locator("input[name=channel]").check()
        form.locator("button[type=submit]").click()
        page.locator(".rules-table tbody tr", has_text="cpu pegged").wait_for(timeout=10_000)
        made = [r for r in rules(hub) if r["name"] == "cpu pegged"]
        assert len(made) == 1
        st, chans = http("GET", hub.url + "/api/channels", token=ADMIN)
        assert {k: made[0][k] for k in ("metric", "op", "threshold", "for_s", "severity", "nodes", "channels")} == {
            "metric": "cpu", "op": ">", "threshold": 97, "for_s": 120, "severity": "critical", "nodes": ["*"],
            "channels": [chans["channels"][0]["id"]]}

        form.locator("input[name=for_s]").fill("-5")
        form.locator("input[name=name]").fill("bad")
        form.evaluate("f => f.noValidate = true")
        form.locator("button[type=submit]").click()
        page.locator("[role=alert]").filter(has_text="for_s").wait_for(timeout=10_000)
        assert len(rules(hub)) == 6
        shot(page, artifacts, "alerts_editors")
    finally:
        rx.close()
