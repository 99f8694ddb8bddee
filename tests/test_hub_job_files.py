"""Submitting a job as a file (POST /api/jobs/upload, sniffed as `forge jobs submit` does) and
cancelling a whole batch (POST /api/batches/{id}/cancel), against a real hub process on loopback."""
from __future__ import annotations

import pytest

from conftest import ADMIN, FIXTURES, LiveHub, http

FT06 = (FIXTURES / "jsplib" / "instances" / "ft06").read_text()
MIP = """NAME          SMALLMIP
ROWS
 N  COST
 L  R1
 L  R2
COLUMNS
    MARKER                 'MARKER'                 'INTORG'
    A         COST        -3.0   R1           1.0
    A         R2           2.0
    MARKER                 'MARKER'                 'INTEND'
    B         COST        -2.0   R1           1.0
RHS
    RHS       R1           4.0   R2           5.0
BOUNDS
 UP BND       A            3.0
ENDATA
"""


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    h = LiveHub(tmp_path_factory.mktemp("jobfiles"))
    h.start_hub()
    yield h
    h.close()


def upload(hub, filename: str, content: str, token: str | None = ADMIN, **extra) -> tuple[int, dict]:
    return http("POST", hub.url + "/api/jobs/upload", {"filename": filename, "content": content, **extra},
                token=token)


def test_a_check_says_what_the_file_is_and_submits_nothing(hub):
    st, body = upload(hub, "small.mps", MIP, check=True)
    assert st == 200, body
    assert body == {"kind": "MPS model", "type": "mps", "jobs": 1, "label": "SMALLMIP",
                    "shape": "2 rows, 2 columns (1 integer)"}
    st, body = upload(hub, "ft06.txt", FT06, check=True)
    assert st == 200 and (body["kind"], body["type"], body["shape"]) == ("JSPLIB instance", "jobshop",
                                                                         "6 jobs × 6 machines")
    st, body = upload(hub, "model.lp", "Maximize\n obj: x + y\nSubject To\n c1: x + y <= 4\nGenerals\n x\nEnd\n",
                      check=True)
    assert st == 200 and (body["kind"], body["shape"]) == ("LP model", "1 rows, 2 columns (1 integer)"), body
    assert http("GET", hub.url + "/api/jobs")[1]["total"] == 0


def test_an_uploaded_file_becomes_the_job_the_cli_would_submit(hub):
    st, body = upload(hub, "ft06.txt", FT06, priority=5)
    assert st == 201, body
    job = hub.job(body["id"])
    assert (job["type"], job["label"], job["priority"], job["status"]) == ("jobshop", "ft06", 5, "pending")
    assert job["payload"]["machines"] == 6
    st, body = upload(hub, "model.lp", "Maximize\n obj: x + y\nSubject To\n c1: x + y <= 4\nEnd\n")
    assert st == 201 and hub.job(body["id"])["payload"]["format"] == "lp"


@pytest.mark.parametrize("filename, content, extra, code, words", [
    ("bad.mps", MIP.replace("1.0\n    A         R2", "1.O\n    A         R2", 1), {}, "invalid_payload",
     "line 8: '1.O' is not a number"),
    ("bad.mps", MIP.replace(" L  R2", " X  R2"), {}, "invalid_payload", "line 5: a ROWS line is a type"),
    ("bad.mps", MIP.replace("B         COST", "B         CST"), {}, "invalid_payload",
     "line 11: column B names row 'CST'"),
    ("bad.lp", "Maximize\n obj: x + y\nSubject To\n c1: x + y << 4\nEnd\n", {}, "invalid_payload",
     "payload.model: line 4, column 12: '<<' is not a comparison"),
    ("bad.lp", "Maximize\n obj: 3 x + 2 y\nSubject To\n c1: x + y\n c2: x <= 3\nEnd\n", {}, "invalid_payload",
     "line 4, column 2: constraint c1 has no comparison"),
    ("job.json", '{"type": "jobshop", "payload": {', {}, "bad_file", "line 1, column 33"),
    ("payload.json", '{"jobs": 3}', {}, "bad_file", "a batch must be a list of jobs"),
    ("notes.txt", "hello there", {}, "bad_file", "is not JSON, a JSPLIB instance or an .mps/.lp model"),
    ("empty.mps", "  \n", {}, "bad_file", "empty.mps is empty"),
    ("ft06.txt", FT06, {"type": "chess"}, "unknown_job_type", "not a job type this hub runs"),
    ("ft06.txt", FT06, {"priority": 5000}, "bad_request", "'priority' must be an integer"),
])
def test_a_bad_file_is_a_clear_400_and_stores_nothing(hub, filename, content, extra, code, words):
    before = http("GET", hub.url + "/api/jobs")[1]["total"]
    st, body = upload(hub, filename, content, **extra)
    assert st == 400 and body["error"] == code and words in body["message"], body
    assert http("GET", hub.url + "/api/jobs")[1]["total"] == before


def test_upload_is_admin_only(hub):
    st, body = upload(hub, "ft06.txt", FT06, token=None)
    assert st == 401 and body["error"]


def test_cancel_a_batch_stops_what_has_not_ended(hub):
    jobs = [{"type": "jobshop", "payload": {"jsplib": FT06, "seed": s}} for s in range(4)]
    st, body = http("POST", hub.url + "/api/jobs", {"jobs": jobs, "label": "seeds"}, token=ADMIN)
    assert st == 201, body
    batch, ids = body["batch_id"], body["ids"]
    st, _ = http("POST", f"{hub.url}/api/jobs/{ids[0]}/cancel", {}, token=ADMIN)
    assert st == 200
    st, body = http("POST", f"{hub.url}/api/batches/{batch}/cancel", {})
    assert st == 401 and body["error"]
    st, body = http("POST", f"{hub.url}/api/batches/{batch}/cancel", {}, token=ADMIN)
    assert st == 200 and body == {"batch_id": batch, "cancelled": ids[1:]}
    assert {j["status"] for j in http("GET", f"{hub.url}/api/batches/{batch}")[1]["jobs"]} == {"cancelled"}
    st, body = http("POST", f"{hub.url}/api/batches/{batch}/cancel", {}, token=ADMIN)
    assert st == 200 and body["cancelled"] == []
    st, body = http("POST", f"{hub.url}/api/batches/nope/cancel", {}, token=ADMIN)
    assert st == 404 and body["error"] == "not_found"
