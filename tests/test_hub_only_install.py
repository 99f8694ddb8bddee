"""A hub-only or agent-only machine: Qt, OR-Tools and HiGHS not installed.

The processes run with tests/fixtures/import_blocker on PYTHONPATH, which makes those
packages unimportable and logs every attempt (even one somebody catches), so the test
sees both "it works without them" and "it never tried to load them".
"""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from conftest import FIXTURES, http, wait_until

BLOCKER = Path(__file__).resolve().parent / "fixtures" / "import_blocker"
DESKTOP_ONLY = "PySide6,shiboken6,pyqtgraph,ortools,highspy"  # numpy is the hub's too (the block codec)
FT06 = (FIXTURES / "jsplib" / "instances" / "ft06").read_text()


def blocked(extra: str = "") -> dict:
    return {"PYTHONPATH": str(BLOCKER), "FORGE_BLOCK_IMPORTS": ",".join(filter(None, [DESKTOP_ONLY, extra]))}


def test_hub_runs_and_serves_jobs_without_qt_or_solvers(live_hub):
    hub = live_hub(env=blocked("forge_desktop.solvers,forge_desktop.ui"))
    st, body = http("POST", hub.url + "/api/jobs", {"type": "jobshop", "payload": {"jsplib": FT06}}, token=hub.admin)
    assert st == 201, body
    st, body = http("POST", hub.url + "/api/jobs", {"type": "jobshop", "payload": {"jobs": [[[9, 1]]],
                                                                                   "machines": 2}}, token=hub.admin)
    assert st == 400 and body["error"] == "invalid_payload" and "payload.jobs[0][0]" in body["message"]
    tok = hub.token("w")
    st, claimed = http("POST", hub.url + "/api/jobs/claim", {"types": ["jobshop"]}, token=tok)
    assert st == 200 and claimed["job"]["payload"]["machines"] == 6
    st, _ = http("POST", f"{hub.url}/api/jobs/{claimed['job']['id']}/result", token=tok, body={
        "attempt": 1, "result": {"makespan": 55, "optimal": True, "lower_bound": 55, "status": "optimal"}})
    assert st == 200
    assert hub.job(claimed["job"]["id"])["summary"] == "makespan 55 · optimal"
    st, meta = http("GET", hub.url + "/api/meta")
    assert st == 200 and {t["name"] for t in meta["job_types"]} == {"jobshop", "prodplan", "mps"}
    hub.stop_hub()
    assert "forge-blocked-import" not in hub.log("hub"), hub.log("hub")


def test_agent_pushes_samples_without_qt_or_solvers(live_hub):
    hub = live_hub()
    agent = hub.spawn("agent-plain", hub.forge("agent", "--hub", hub.url, "--node-id", "plain", "--token",
                                               hub.token("plain"), "--jobs", "never"),
                      env=dict(hub.env, **blocked()))
    wait_until(lambda: hub.fleet().get("plain", {}).get("last_sample_ts", 0) > time.time() - 5, 30,
               what=f"samples from the agent (log: {hub.log('agent-plain')})")
    assert agent.poll() is None
    hub.stop("agent-plain")
    assert "forge-blocked-import" not in hub.log("agent-plain"), hub.log("agent-plain")
