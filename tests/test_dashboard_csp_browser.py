"""The dashboard under its Content-Security-Policy in real Chromium (issue 13 item 7): every
page loads and draws its charts with no CSP violation (the inline theme script included)."""
from __future__ import annotations

import time

import pytest

from conftest import http

pytestmark = pytest.mark.browser


def test_dashboard_runs_under_its_csp_without_violations(live_hub, page):
    hub = live_hub()
    tok = hub.token("csp-node")
    now = time.time()
    http("POST", hub.url + "/api/ingest/csp-node", {"node": {"hostname": "csp", "cores": 2}, "samples": [
        {"schema_version": 1, "ts": now - i, "cpu": {"percent": 10.0 + i, "per_core": [5.0, 15.0]},
         "memory": {"percent": 30.0}} for i in range(5)]}, token=tok)
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.context.add_init_script("document.addEventListener('securitypolicyviolation', e => "
                                 "console.error('Content Security Policy violation: ' + e.violatedDirective))")
    for route in ("/#/", "/#/fleet", "/#/jobs", "/#/add", "/#/node/csp-node"):
        page.goto(hub.url + route)
        page.wait_for_function("document.querySelector('main').children.length > 0", timeout=15000)
        page.wait_for_timeout(500)
    page.wait_for_selector("canvas", timeout=15000)  # uPlot charts drew (it sets styles from script)
    assert violations == []
