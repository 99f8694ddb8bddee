"""`every=S` on a node's snapshot: long ranges thinned to one averaged bucket per S seconds."""
from __future__ import annotations

from conftest import http, wait_until
from test_dashboard_views_browser import hub_now, push, sample


def test_every_keeps_one_minute_bucket_per_step_and_refuses_what_it_cannot_mean(live_hub):
    hub = live_hub(env={"FORGE_HUB_ROLLUP_INTERVAL_S": "1"})
    now = hub_now(hub)
    start = (int(now) // 3600 - 3) * 3600  # three hours ago, on the hour
    push(hub, "n", hub.token("n"), [sample(start + 60 * m + 10, float(m)) for m in range(60)])
    base = f"{hub.url}/api/nodes/n/snapshot?resolution=1m&points=1000&since={start - 1}"
    wait_until(lambda: len(http("GET", base)[1]["samples"]) == 60, 30, what="an hour of minute buckets")
    st, body = http("GET", base + "&every=900")
    assert st == 200
    assert [s["ts"] for s in body["samples"]] == [start + 900 * k for k in range(4)]
    assert [s["cpu"]["percent"] for s in body["samples"]] == [0.0, 15.0, 30.0, 45.0]
    for query, words in (("&every=90", "multiple of 60"), ("&every=x", "integer")):
        st, err = http("GET", base + query)
        assert st == 400 and words in err["message"], err
    st, err = http("GET", f"{hub.url}/api/nodes/n/snapshot?resolution=1s&every=60")
    assert st == 400 and "1m or 1h" in err["message"]
