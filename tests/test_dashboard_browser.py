"""The web dashboard in a real Chromium against a real hub process and real agents.

Each test saves a screenshot under `artifacts/` (ignored by git) for a person to look at.
"""
from __future__ import annotations

import os
import time

import pytest

from conftest import shot, wait_until

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists("/usr/bin/chromium"), reason="needs Debian's /usr/bin/chromium"),
]

# Short thresholds so a stopped agent turns degraded and offline within seconds; agents push
# every 5 s, so "degraded" must stay above that or live agents would flap.
FAST_STATUS = {"FORGE_HUB_DEGRADED_AFTER_S": "7", "FORGE_HUB_OFFLINE_AFTER_S": "12"}


def card(page, node_id: str):
    return page.locator(f'.card[data-node="{node_id}"]')


def wait_pushed(hub, node_id: str, timeout: float = 40) -> float:
    """Block until the hub has a sample from `node_id`; returns the monotonic time it was seen."""
    wait_until(lambda: hub.fleet().get(node_id, {}).get("last_sample_ts"), timeout,
               what=f"{node_id} to push a sample (log: {hub.log('agent-' + node_id)})")
    return time.monotonic()


def test_fleet_shows_live_agents_without_reload(live_hub, page, artifacts):
    hub = live_hub()
    hub.start_agent("alpha", "--jobs", "never")
    page.goto(hub.url + "/#/fleet")
    card(page, "alpha").wait_for(timeout=40_000)
    assert card(page, "alpha").get_attribute("data-status") == "online"

    hub.start_agent("beta", "--jobs", "never")
    wait_pushed(hub, "beta")
    t0 = time.monotonic()
    card(page, "beta").wait_for(timeout=10_000)
    assert time.monotonic() - t0 < 10
    assert page.locator(".card").count() == 2
    assert "2 machines" in page.locator(".counts").inner_text()

    page.fill('input[type="search"]', "bet")
    wait_until(lambda: not card(page, "alpha").is_visible(), 5, what="filter to hide alpha")
    assert card(page, "beta").is_visible()
    page.fill('input[type="search"]', "")
    card(page, "alpha").wait_for(state="visible", timeout=5_000)
    shot(page, artifacts, "fleet_two_agents")


def test_card_opens_drilldown_with_one_cell_per_core(live_hub, page, artifacts):
    hub = live_hub()
    hub.start_agent("alpha", "--jobs", "never")
    wait_pushed(hub, "alpha")
    cores = hub.fleet()["alpha"]["cores"]
    assert cores and cores > 0

    page.goto(hub.url + "/#/fleet")
    card(page, "alpha").click()
    page.wait_for_url("**/#/node/alpha")
    page.locator("[data-core]").first.wait_for(timeout=10_000)
    assert page.locator(".strip [data-core]").count() == cores
    page.locator(".uplot").first.wait_for(timeout=10_000)
    assert page.locator(".uplot").count() == 5
    page.locator("summary", has_text="Per-core history").click()
    page.locator("[data-core-spark]").first.wait_for(timeout=5_000)  # built on the async `toggle` event
    assert page.locator("[data-core-spark]").count() == min(cores, 64)
    page.wait_for_timeout(2500)
    shot(page, artifacts, "node_drilldown")

    # Keyboard: back to the fleet, focus the card, Enter opens the same drill-down.
    page.goto(hub.url + "/#/fleet")
    card(page, "alpha").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/#/node/alpha")

    page.locator('button[data-range="24h"]').click()
    wait_until(lambda: "1-minute averages" in page.locator(".range-note").inner_text(), 10, what="24 h range")
    page.set_viewport_size({"width": 420, "height": 860})
    page.wait_for_timeout(500)
    shot(page, artifacts, "node_narrow_24h")


def test_stopped_agent_turns_degraded_then_offline(live_hub, page, artifacts):
    hub = live_hub(env=FAST_STATUS)
    hub.start_agent("alpha", "--jobs", "never")
    wait_pushed(hub, "alpha")
    page.goto(hub.url + "/#/fleet")
    card(page, "alpha").wait_for(timeout=10_000)
    assert card(page, "alpha").get_attribute("data-status") == "online"

    hub.stop("agent-alpha")
    page.wait_for_selector('.card[data-node="alpha"][data-status="degraded"]', timeout=20_000)
    shot(page, artifacts, "fleet_degraded")
    page.wait_for_selector('.card[data-node="alpha"][data-status="offline"]', timeout=20_000)
    assert "1 offline" in page.locator(".counts").inner_text()
    shot(page, artifacts, "fleet_offline")


def test_page_recovers_after_hub_restart(live_hub, page, artifacts):
    hub = live_hub()
    hub.start_agent("alpha", "--jobs", "never")
    wait_pushed(hub, "alpha")
    page.goto(hub.url + "/#/fleet")
    card(page, "alpha").wait_for(timeout=10_000)

    port = hub.port
    hub.stop_hub()
    page.locator("#conn").wait_for(state="visible", timeout=15_000)
    shot(page, artifacts, "fleet_hub_down")
    hub.start_hub()
    assert hub.port == port

    # A node that first reports after the restart can only appear through a re-opened stream.
    hub.start_agent("gamma", "--jobs", "never")
    wait_pushed(hub, "gamma")
    card(page, "gamma").wait_for(timeout=15_000)
    page.locator("#conn").wait_for(state="hidden", timeout=10_000)
    assert card(page, "alpha").is_visible()
    shot(page, artifacts, "fleet_after_restart")


def test_viewer_token_sign_in_and_remembered_theme(live_hub, page, artifacts):
    hub = live_hub("--viewer-token", "viewer-secret-123")
    # The theme follows the OS until one is chosen here; this OS is set to dark.
    page.emulate_media(color_scheme="dark")
    page.goto(hub.url + "/#/fleet")
    page.locator("form.signin").wait_for(timeout=10_000)
    assert page.locator(".card").count() == 0
    shot(page, artifacts, "signin")

    page.fill("#viewer-token", "viewer-secret-123")
    page.click("form.signin button[type=submit]")
    page.locator(".counts").wait_for(timeout=10_000)
    assert "0 machines" in page.locator(".counts").inner_text()

    assert page.get_attribute("html", "data-theme") == "dark"
    page.click("#theme")
    page.reload()
    page.locator(".counts").wait_for(timeout=10_000)
    assert page.get_attribute("html", "data-theme") == "light"
    shot(page, artifacts, "fleet_light_signed_in")
