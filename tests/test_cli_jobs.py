"""`forge jobs` as a user runs it: real CLI processes against a real hub process.

Bad input must end with a readable message and exit status 2, with nothing enqueued.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES, LiveHub, http, wait_until

FT06 = FIXTURES / "jsplib" / "instances" / "ft06"


def forge_jobs(hub: LiveHub, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run `forge jobs ...`; output is decoded by hand so the progress line's carriage returns survive."""
    out = subprocess.run([sys.executable, "-m", "forge_desktop.cli", "jobs", "--hub", hub.url, *args],
                         env=hub.env, capture_output=True, timeout=timeout, cwd=str(hub.home))
    return subprocess.CompletedProcess(out.args, out.returncode, out.stdout.decode(), out.stderr.decode())


def total_jobs(hub: LiveHub) -> int:
    st, body = http("GET", hub.url + "/api/jobs?limit=1")
    assert st == 200, body
    return sum(body["counts"].values())


@pytest.fixture
def hub(live_hub) -> LiveHub:
    return live_hub(env={"FORGE_HUB_ALLOW_TEST_JOBS": "1"})


def write(tmp_path: Path, name: str, content: object) -> Path:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


@pytest.mark.parametrize("name, content, args, message", [
    ("missing.json", None, [], "cannot read"),
    ("notes.txt", "just some words\n", [], "is not JSON, a JSPLIB instance or an .mps/.lp model; pass --type"),
    ("bare.json", {"seconds": 1}, [], "is a bare payload; pass --type"),
    ("list.json", {"jobs": []}, [], "a batch must be a list of jobs"),
    ("unknown.json", {"type": "nope", "payload": {}}, [], "job.type 'nope' is not a job type this hub runs"),
    ("typed.json", {"seconds": 1}, ["--type", "nope"], "'nope' is not a job type"),
    ("bad.json", {"type": "sleep", "payload": {"seconds": -1}}, [], "payload.seconds"),
    ("extra.json", {"type": "sleep", "payload": {"sekonds": 1}}, [], "sekonds"),
    ("batch.json", {"jobs": [{"type": "sleep", "payload": {}}, {"type": "sleep", "payload": {"seconds": "x"}}]},
     [], "jobs[1]"),
    ("jobshop.json", {"jobs": [[[0, 3], [7, 2]]], "machines": 2}, ["--type", "jobshop"], "payload"),
    ("cut.json", '{"type": "sleep", "payload": {"seco', [], "Unterminated string starting at (line 1, column 31, character 30); the file ends early"),
    ("cut2.json", '{"jobs": [[[0, 3], [1,', ["--type", "jobshop"], "is not valid JSON: Expecting value (line 1, column 23"),
    ("broken.json", '{"type": "sleep",, "payload": {}}', [], "is not valid JSON: Expecting property name"),
    ("notes.txt", "just some words\n", ["--type", "prodplan"], "is not JSON: a prodplan job needs a JSON payload"),
    ("model.lp", "Maximize\n obj: x + y\nSubject To\n c1: x + 2..5 y <= 4\nEnd\n", [],
     "payload.model: line 4, column 12: '2..5' is not a number"),
])
def test_bad_submissions_explain_themselves_and_enqueue_nothing(hub, tmp_path, name, content, args, message):
    path = tmp_path / name if content is None else write(tmp_path, name, content)
    out = forge_jobs(hub, "submit", str(path), *args)
    assert out.returncode == 2, out
    assert out.stderr.startswith("forge: ") and message in out.stderr, out.stderr
    assert "Traceback" not in out.stderr
    assert total_jobs(hub) == 0


def test_submit_wait_shows_live_progress_and_ends_with_the_result(hub, tmp_path):
    hub.spawn("agent-solver", hub.forge("agent", "--hub", hub.url, "--node-id", "solver", "--token",
                                        hub.token("solver"), "--jobs", "always"),
              env=dict(hub.env, FORGE_WORKER_TYPES="sleep,jobshop"))
    out = forge_jobs(hub, "submit", str(FT06), "--wait", timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("submitted job 1\n")
    assert out.stdout.rstrip().splitlines()[-1] == "job 1: succeeded  makespan 55 · optimal", "the hub's summary"
    last_frame = out.stdout.split("\n")[1].split("\r")[-1]
    assert last_frame.startswith("job 1 succeeded") and "best=55" in last_frame and "100% done" in last_frame, \
        "the line left on screen shows the result, not the last progress report"
    slow = write(tmp_path, "slow.json", {"type": "sleep", "payload": {"seconds": 4}})
    out = forge_jobs(hub, "submit", str(slow), "--wait", timeout=120)
    assert out.returncode == 0, out.stderr
    frames = [f.strip() for f in out.stdout.split("\r") if f.strip()]
    running = [f for f in frames if f.startswith("job 2 running  on solver")]
    assert running, frames
    assert any("%" in f for f in running), "the live line shows the job's percent done"
    assert out.stdout.rstrip().splitlines()[-1].startswith("job 2: succeeded")


def test_submit_wait_exits_nonzero_when_the_job_fails(live_hub, tmp_path):
    hub = live_hub(env={"FORGE_HUB_ALLOW_TEST_JOBS": "1", "FORGE_WORKER_TYPES": "sleep"})
    hub.start_agent("solver", "--jobs", "always")
    path = write(tmp_path, "fail.json", {"type": "sleep", "payload": {"fail": True}, "max_attempts": 1})
    out = forge_jobs(hub, "submit", str(path), "--wait", timeout=60)
    assert out.returncode == 1, out
    summary = out.stdout[out.stdout.index("job 1: failed"):]
    assert "RuntimeError: sleep job asked to fail" in summary


def test_batch_list_show_and_cancel(hub, tmp_path):
    path = write(tmp_path, "many.json", [{"seconds": 5}, {"seconds": 6}, {"seconds": 7}])
    out = forge_jobs(hub, "submit", str(path), "--batch", "--type", "sleep")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("submitted 3 jobs (batch ") and "ids 1..3" in out.stdout

    out = forge_jobs(hub, "cancel", "2")
    assert (out.returncode, out.stdout.strip()) == (0, "cancelled job 2")
    assert forge_jobs(hub, "cancel", "2").returncode == 0, "cancelling twice is idempotent"
    missing = forge_jobs(hub, "cancel", "99")
    assert missing.returncode == 2 and "no job 99" in missing.stderr

    listing = forge_jobs(hub, "list")
    assert listing.returncode == 0
    lines = listing.stdout.splitlines()
    assert lines[0] == "pending=2  running=0  succeeded=0  failed=0  cancelled=1"
    assert [line.split()[:3] for line in lines[1:]] == [["3", "sleep", "pending"], ["2", "sleep", "cancelled"],
                                                        ["1", "sleep", "pending"]]
    pending = forge_jobs(hub, "list", "--status", "pending")
    assert [line.split()[0] for line in pending.stdout.splitlines()[1:]] == ["3", "1"]

    shown = forge_jobs(hub, "show", "3")
    assert shown.returncode == 0
    job = json.loads(shown.stdout)
    assert (job["id"], job["payload"], job["status"], job["attempts"]) == (3, {"seconds": 7.0, "fail": False,
                                                                                "crash": False}, "pending", [])
    assert forge_jobs(hub, "show", "99").returncode == 2


def test_messages_never_suggest_type_for_broken_json(hub, tmp_path):
    out = forge_jobs(hub, "submit", str(write(tmp_path, "cut.json", '{"type": "sleep", "pay')))
    assert out.returncode == 2 and "--type" not in out.stderr, out.stderr


def test_gaps_are_formatted_as_percentages():
    from forge_contracts.jobtypes import summarize_job
    from forge_desktop.cli.jobs import format_gap, progress_line, summary_line
    assert format_gap(9.07e-05) == "0.009 %"
    assert format_gap(0.0523) == "5.23 %"
    assert format_gap(0) == "0 %"
    job = {"id": 1, "type": "mps", "status": "succeeded", "result": {"objective": 3.5, "gap": 9.07e-05}}
    assert summary_line(dict(job, summary=summarize_job(job))) == "job 1: succeeded  objective 3.5 · gap 0.009 %"
    assert "gap=0.31 %" in progress_line({"id": 1, "status": "running", "progress": {"gap": 0.0031}}, 2)


def test_the_label_column_shows_the_instance_name(hub):
    for path in (FT06, FIXTURES / "trigeiro" / "G53.json"):
        assert forge_jobs(hub, "submit", str(path)).returncode == 0
    listing = forge_jobs(hub, "list").stdout.splitlines()
    assert listing[1].split()[1:] == ["prodplan", "pending", "-", "TRIGEIRO1989-G53"], listing
    assert listing[2].split()[1:] == ["jobshop", "pending", "-", "ft06"], listing


def test_jobs_show_into_head_ends_without_broken_pipe(hub):
    from test_solvers_mps import SMALL_MIP
    model = "* padding comment line for a large model\n" * 5000 + SMALL_MIP
    st, body = http("POST", hub.url + "/api/jobs", {"type": "mps", "payload": {"model": model, "format": "mps"}},
                    token=hub.admin)
    assert st == 201, body
    cmd = f"{sys.executable} -m forge_desktop.cli jobs --hub {hub.url} show {body['id']} | head -1"
    out = subprocess.run(["sh", "-c", cmd], env=hub.env, capture_output=True, text=True, timeout=60,
                         cwd=str(hub.home))
    assert out.stdout.strip() == "{"
    assert "BrokenPipeError" not in out.stderr and "Traceback" not in out.stderr, out.stderr


def test_submit_wait_says_why_a_pending_job_waits(hub, tmp_path):
    """No worker is connected: `--wait` says so on its live line instead of a bare "pending 299s"."""
    path = write(tmp_path, "nap.json", {"type": "sleep", "payload": {"seconds": 1}})
    log = tmp_path / "wait.out"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "forge_desktop.cli", "jobs", "--hub", hub.url, "submit",
                                 str(path), "--wait"], env=hub.env, stdout=out, stderr=subprocess.STDOUT,
                                cwd=str(hub.home))
    try:
        wait_until(lambda: "waiting: no worker is connected" in log.read_bytes().decode(), 30, what="the waiting reason")
        frame = log.read_bytes().decode().split("\r")[-1]
        assert frame.startswith("job 1 pending") and "waiting: no worker is connected" in frame, frame
        st, _ = http("POST", f"{hub.url}/api/jobs/1/cancel", {}, token=hub.admin)
        assert st == 200
        assert proc.wait(30) == 1, "a cancelled job is not a success"
    finally:
        if proc.poll() is None:
            proc.kill()
    assert log.read_text().rstrip().splitlines()[-1] == "job 1: cancelled"


def test_cancel_a_whole_batch(hub, tmp_path):
    path = write(tmp_path, "naps.json", [{"seconds": 5}, {"seconds": 6}, {"seconds": 7}])
    out = forge_jobs(hub, "submit", str(path), "--batch", "--type", "sleep")
    batch = out.stdout.split("(batch ")[1].split(")")[0]
    assert forge_jobs(hub, "cancel", "1").returncode == 0
    out = forge_jobs(hub, "cancel", "--batch", batch)
    assert (out.returncode, out.stdout.strip()) == (0, f"cancelled 2 jobs of batch {batch}: 2, 3")
    out = forge_jobs(hub, "cancel", "--batch", batch)
    assert out.stdout.strip() == f"cancelled 0 jobs of batch {batch} (every job had already ended)"
    missing = forge_jobs(hub, "cancel", "--batch", "nope")
    assert missing.returncode == 2 and "no batch 'nope'" in missing.stderr
    both = forge_jobs(hub, "cancel", "1", "--batch", batch)
    assert both.returncode == 2 and "a job id or --batch" in both.stderr
