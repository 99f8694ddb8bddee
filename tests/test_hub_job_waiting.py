"""Why a pending job waits (`waiting`, from worker heartbeats) and the admin job actions
(retry, resubmit with another seed), against a real hub process on loopback."""
from __future__ import annotations

import time

import pytest

from conftest import ADMIN, FIXTURES, http, wait_until
from hub.waiting import WORKER_STALE_S, WorkerView, jobs_ahead, waiting_reason

FT06 = (FIXTURES / "jsplib" / "instances" / "ft06").read_text()


def worker(id_: str, age: float = 1.0, **state) -> WorkerView:
    return WorkerView(id=id_, age_s=age, state={"types": ["jobshop", "prodplan", "mps"], **state})


JOB = {"id": 7, "type": "jobshop", "cores": 1, "priority": 0}


def test_no_worker_at_all_says_so_and_how_to_start_one():
    assert waiting_reason(JOB, []).startswith("no worker is connected")


def test_a_worker_silent_too_long_is_not_connected_and_its_last_contact_is_named():
    text = waiting_reason(JOB, [worker("studio", age=WORKER_STALE_S + 200, reason="idle", cores=3)])
    assert text.startswith("no worker is connected") and "studio" in text and "min ago" in text


def test_each_able_worker_says_what_holds_it_back():
    text = waiting_reason(JOB, [
        worker("studio", reason="user active", detail="last input 40s ago, waiting for 180s", cores=0),
        worker("laptop", reason="on battery", detail="running on battery", cores=0),
        worker("builder", reason="idle", cores=2, types=["prodplan"]),
    ])
    assert text == ("2 workers run jobshop: studio is in use (last input 40s ago, waiting for 180s), "
                    "laptop is on battery")


def test_every_allowed_core_busy_reads_all_cores_busy_with_the_queue_ahead():
    text = waiting_reason(JOB, [worker("a", reason="idle", cores=2, busy_cores=2),
                                worker("b", reason="mode always", cores=1, running=[3])], ahead=4)
    assert text.startswith("all cores busy") and "4 jobs are ahead of it" in text


def test_no_worker_running_the_type_names_what_they_run():
    text = waiting_reason(JOB, [worker("w", reason="idle", cores=4, types=["prodplan"])])
    assert text == "no connected worker runs jobshop jobs (w runs prodplan)"


def test_paused_and_too_few_cores():
    big = {**JOB, "cores": 4}
    assert waiting_reason(big, [worker("p", paused=True, reason="paused"),
                                worker("s", reason="idle", cores=2)]) == \
        "2 workers run jobshop: p has jobs paused, s has 2 free cores (the job needs 4)"


def test_jobs_ahead_counts_higher_priority_and_older_jobs_of_its_type():
    pending = [{"id": 3, "type": "jobshop", "priority": 0}, {"id": 9, "type": "jobshop", "priority": 5},
               {"id": 10, "type": "jobshop", "priority": 0}, {"id": 2, "type": "mps", "priority": 9}, JOB]
    assert jobs_ahead(JOB, pending) == 2


@pytest.fixture
def hub(live_hub):
    return live_hub()


def submit(hub, seed=None) -> int:
    payload = {"jsplib": FT06, **({"seed": seed} if seed is not None else {})}
    st, body = http("POST", hub.url + "/api/jobs", {"type": "jobshop", "payload": payload}, token=ADMIN)
    assert st == 201, body
    return body["id"]


def test_pending_job_waiting_follows_worker_heartbeats(hub):
    jid = submit(hub)
    job = hub.job(jid)
    assert job["status"] == "pending" and job["waiting"].startswith("no worker is connected")
    tok = hub.token("studio")
    st, _ = http("POST", hub.url + "/api/workers/studio/heartbeat",
                 {"running": [], "paused": False, "reason": "user active", "cores": 0,
                  "detail": "last input 40s ago, waiting for 180s", "types": ["jobshop"]}, token=tok)
    assert st == 200
    assert hub.job(jid)["waiting"] == "1 worker runs jobshop: studio is in use (last input 40s ago, waiting for 180s)"
    st, listing = http("GET", hub.url + "/api/jobs?status=pending")
    assert [j["waiting"] for j in listing["jobs"]] == [hub.job(jid)["waiting"]]


def test_an_agent_without_a_worker_is_not_counted_as_one(live_hub):
    """An agent started with `--jobs never` runs no worker, so none is near to take the job."""
    h = live_hub()
    h.start_agent("w-never", "--jobs", "never")
    jid = submit(h)
    wait_until(lambda: h.fleet().get("w-never"), 30, what="the agent to report")
    assert h.job(jid)["waiting"].startswith("no worker is connected")


def test_retry_and_resubmit_are_admin_only_and_make_new_jobs(hub):
    jid = submit(hub, seed=3)
    st, body = http("POST", f"{hub.url}/api/jobs/{jid}/retry", {})
    assert st == 401 and body["error"]
    st, body = http("POST", f"{hub.url}/api/jobs/{jid}/retry", {}, token=ADMIN)
    assert st == 409 and body["error"] == "not_retryable"
    st, _ = http("POST", f"{hub.url}/api/jobs/{jid}/cancel", {}, token=ADMIN)
    assert st == 200
    st, body = http("POST", f"{hub.url}/api/jobs/{jid}/retry", {}, token=ADMIN)
    assert st == 201 and body["retry_of"] == jid
    retried = hub.job(body["id"])
    assert retried["status"] == "pending" and retried["payload"] == hub.job(jid)["payload"]

    st, body = http("POST", f"{hub.url}/api/jobs/{jid}/resubmit", {}, token=ADMIN)
    assert st == 201 and body["seed"] == 4 and hub.job(body["id"])["payload"]["seed"] == 4
    st, body = http("POST", f"{hub.url}/api/jobs/{jid}/resubmit", {"seed": 3}, token=ADMIN)
    assert st == 400 and "already ran" in body["message"]
    st, body = http("POST", f"{hub.url}/api/jobs/{jid}/resubmit", {"seed": "x"}, token=ADMIN)
    assert st == 400 and body["error"]
    st, body = http("POST", f"{hub.url}/api/jobs/99999/retry", {}, token=ADMIN)
    assert st == 404 and body["error"]
    # The hub's clock is the one job pages count elapsed time from.
    assert abs(hub.job(jid)["server_now"] - time.time()) < 5
