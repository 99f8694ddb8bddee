"""`forge tokens list` shows when each node's token was last used (issue 13 item 9): a real
hub, a real agent pushing, the real CLI."""
from __future__ import annotations

import subprocess
import time

from conftest import LiveHub, http, wait_until


def test_tokens_list_shows_last_use_of_a_pushing_agent(tmp_path):
    """Issue 13 item 9, as a user sees it: `forge tokens list` after an agent has pushed."""
    hub = LiveHub(tmp_path, {"FORGE_HUB_TOKEN_USE_INTERVAL_S": "0.5"})
    hub.start_hub()
    try:
        hub.token("idle-box")
        hub.start_agent("busy-box", "--jobs", "never", "--push-interval", "1")
        wait_until(lambda: "busy-box" in str(http("GET", hub.url + "/api/fleet")[1]), 30, what="the agent's push")

        def listing() -> str:
            out = subprocess.run(hub.forge("tokens", "--hub", hub.url, "--admin-secret", hub.admin, "list"),
                                 env=hub.env, capture_output=True, text=True, timeout=30).stdout
            return out if "busy-box" in out and "busy-box" not in [l.split()[0] for l in out.splitlines()
                                                                   if l.endswith("never")] else ""
        out = wait_until(listing, 15, what="busy-box's last use in `forge tokens list`")
        lines = {l.split()[0]: l for l in out.splitlines() if l.strip()}
        assert lines["idle-box"].endswith("last used never")
        assert time.strftime("%Y-%m-%d") in lines["busy-box"]
    finally:
        hub.close()
