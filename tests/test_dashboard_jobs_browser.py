"""The dashboard's Jobs, job, batch and "Add a machine" pages in a real Chromium, against a
real hub process and a real worker solving real jobs.

Screenshots go to `artifacts/` (ignored by git) for a person to look at.
"""
from __future__ import annotations

import os
import shlex
import subprocess
import urllib.request

import pytest

from conftest import shot, ADMIN, FIXTURES, LiveHub, http, wait_until

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists("/usr/bin/chromium"), reason="needs Debian's /usr/bin/chromium"),
]

WORKER_TYPES = "sleep,jobshop,prodplan,mps"
FT06 = FIXTURES / "jsplib" / "instances" / "ft06"
SMALL_PLAN = {"periods": 4, "capacity": 100, "items": [
    {"id": "A", "demand": [20, 40, 30, 50], "unit_time": 1, "setup_time": 10, "setup_cost": 100, "holding_cost": 1},
    {"id": "B", "demand": [30, 10, 60, 20], "unit_time": 1, "setup_time": 5, "setup_cost": 80, "holding_cost": 2}]}


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    """One hub that takes test jobs, and one worker that runs every job type (jobs queue behind it)."""
    h = LiveHub(tmp_path_factory.mktemp("jobs-ui"), {"FORGE_HUB_ALLOW_TEST_JOBS": "1"})
    h.start_hub()
    h.spawn("agent-w1", h.forge("agent", "--hub", h.url, "--node-id", "w1", "--token", h.token("w1"), "--jobs", "always"),
            env=dict(h.env, FORGE_WORKER_TYPES=WORKER_TYPES))
    yield h
    h.close()


def submit(hub: LiveHub, body: dict) -> dict:
    st, out = http("POST", hub.url + "/api/jobs", body, token=ADMIN, timeout=30)
    assert st == 201, out
    return out


def row(page, job_id: int):
    return page.locator(f'.jobs-table tr[data-job="{job_id}"]')


def test_queue_shows_ft06_finish_live_and_its_gantt_chart(hub, page, artifacts):
    page.goto(hub.url + "/#/jobs")
    page.locator("h1", has_text="Jobs").wait_for()
    job_id = submit(hub, {"type": "jobshop", "payload": {"jsplib": FT06.read_text()}})["id"]

    row(page, job_id).wait_for(timeout=10_000)  # appears without a reload
    page.wait_for_selector(f'.jobs-table tr[data-job="{job_id}"][data-status="succeeded"]', timeout=60_000)
    assert "makespan 55" in row(page, job_id).inner_text()
    shot(page, artifacts, "jobs_queue")

    row(page, job_id).locator("a", has_text=f"#{job_id}").click()
    page.wait_for_url(f"**/#/jobs/{job_id}")
    page.locator(".gantt-svg").wait_for(timeout=10_000)
    assert page.locator(".gantt-lane").count() == 6
    assert page.locator(".gantt-op").count() == 36
    assert page.locator('[data-stat="makespan"] .stat-v').inner_text() == "55"
    assert page.locator('[data-stat="optimal"] .stat-v').inner_text() == "proved"

    op = page.locator('.gantt-op[data-job="2"]').first
    op.hover()
    tip = page.locator(".gantt .chart-tip")
    tip.wait_for(state="visible", timeout=3_000)
    assert "Job 2" in tip.inner_text()
    assert page.locator('.gantt-op.hl[data-job="2"]').count() == 6  # the job's other operations light up
    shot(page, artifacts, "job_jobshop_gantt")


def test_prodplan_job_shows_its_plan_table_and_capacity_chart(hub, page, artifacts):
    job_id = submit(hub, {"type": "prodplan", "payload": SMALL_PLAN, "label": "two items"})["id"]
    done = hub.wait_job_final(job_id)
    assert done["status"] == "succeeded", done
    result = done["result"]

    page.goto(f"{hub.url}/#/jobs/{job_id}")
    page.locator(".plan-table").wait_for(timeout=10_000)
    assert page.locator(".plan-table thead th").count() == 2 + 4 + 1  # item, row name, 4 periods, total
    for item in ("A", "B"):
        cells = page.locator(f'.plan-table tr[data-item="{item}"][data-row="produce"] td.num').all_inner_texts()
        want = [p["produce"] for p in result["plan"] if p["item"] == item]
        assert [float(c.replace(",", "")) for c in cells[:4]] == pytest.approx(want)
        setups = page.locator(f'.plan-table tr[data-item="{item}"][data-row="setup"] td.num').all_inner_texts()[:4]
        assert [s == "●" for s in setups] == [bool(p["setup"]) for p in result["plan"] if p["item"] == item]

    page.locator(".capacity-svg").wait_for(timeout=5_000)
    assert page.locator(".cap-period").count() == 4
    page.locator('.cap-period[data-period="1"] .cap-prod').hover()
    tip = page.locator(".capacity .chart-tip")
    tip.wait_for(state="visible", timeout=3_000)
    use = result["capacity_use"][1]
    assert "Period 2" in tip.inner_text() and f"of {use['capacity']}" in tip.inner_text()
    assert page.locator('[data-stat="objective"] .stat-v').inner_text().replace(",", "") == f"{result['objective']:g}"
    shot(page, artifacts, "job_prodplan")


def test_sweep_batch_page_compares_its_scenarios(hub, page, artifacts):
    out = submit(hub, {"sweep": {"type": "prodplan", "base": SMALL_PLAN, "grid": {"capacity": [0.8, 1, 1.2]},
                                 "label": "capacity sweep"}})
    jobs = [hub.wait_job_final(i) for i in out["ids"]]
    assert all(j["status"] == "succeeded" for j in jobs), jobs
    best = min(j["result"]["objective"] for j in jobs)

    page.goto(f"{hub.url}/#/batch/{out['batch_id']}")
    page.locator(".batch-table tbody tr").first.wait_for(timeout=10_000)
    rows = page.locator(".batch-table tbody tr")
    assert rows.count() == 3
    assert page.locator("h1").inner_text() == "capacity sweep"
    assert page.locator(".batch-table td.factor").all_inner_texts() == ["× 0.8", "× 1", "× 1.2"]
    best_row = page.locator(".batch-table tr.best")
    assert best_row.count() == 1
    assert float(best_row.locator("td.ranked").inner_text().replace(",", "")) == pytest.approx(best)

    page.locator('.batch-table th[data-key="r:objective"] button').click()
    shown = [float(t.replace(",", "")) for t in page.locator(".batch-table td.ranked").all_inner_texts()]
    assert shown == sorted(j["result"]["objective"] for j in jobs)
    page.locator('.batch-table th[data-key="r:objective"] button').click()
    assert page.locator('.batch-table th[data-key="r:objective"]').get_attribute("aria-sort") == "descending"
    shown = [float(t.replace(",", "")) for t in page.locator(".batch-table td.ranked").all_inner_texts()]
    assert shown == sorted(shown, reverse=True)
    shot(page, artifacts, "batch_sweep")


def test_failed_job_shows_its_error_plainly(hub, page, artifacts):
    job_id = submit(hub, {"type": "sleep", "payload": {"seconds": 0, "crash": True}, "max_attempts": 1})["id"]
    failed = hub.wait_job_final(job_id)
    assert failed["status"] == "failed" and failed["error"]

    page.goto(hub.url + "/#/jobs?status=failed")
    row(page, job_id).wait_for(timeout=10_000)
    assert page.locator("select[aria-label='Show status']").input_value() == "failed"
    assert set(page.locator(".jobs-table tbody tr").evaluate_all("rs => rs.map(r => r.dataset.status)")) == {"failed"}
    assert failed["error"].splitlines()[0] in row(page, job_id).inner_text()

    page.goto(f"{hub.url}/#/jobs/{job_id}")
    page.locator(".job-error").wait_for(timeout=10_000)
    assert page.locator(".job-error").inner_text() == failed["error"]
    assert page.locator(".job-error-panel h2").inner_text() == "Why it failed"
    assert page.locator(".attempts-table tbody tr").count() == 1
    shot(page, artifacts, "job_failed")


def test_running_job_has_a_moving_progress_bar_and_cancel_shows_live(hub, page, artifacts):
    job_id = submit(hub, {"type": "sleep", "payload": {"seconds": 30}})["id"]
    wait_until(lambda: hub.job(job_id)["status"] == "running", 60, what="sleep job to start")
    page.goto(hub.url + "/#/jobs")
    bar = row(page, job_id).locator("[role=progressbar]")
    bar.wait_for(state="visible", timeout=10_000)
    first = float(bar.get_attribute("aria-valuenow"))
    wait_until(lambda: float(bar.get_attribute("aria-valuenow")) > first, 10, what="the progress bar to move")
    shot(page, artifacts, "jobs_running")

    page.goto(f"{hub.url}/#/jobs/{job_id}")
    page.locator(".panel [role=progressbar]").wait_for(state="visible", timeout=10_000)
    st, body = http("POST", f"{hub.url}/api/jobs/{job_id}/cancel", token=ADMIN)
    assert st == 200, body
    page.wait_for_selector('.node-head .job-status[data-status="cancelled"]', timeout=10_000)
    assert page.locator(".panel [role=progressbar]").is_hidden()


def test_add_page_says_so_when_the_hub_offers_no_downloads(hub, page):
    page.goto(hub.url + "/#/add")
    note = page.locator("p", has_text="offers no builds")
    note.wait_for(timeout=10_000)
    assert "forge hub --downloads DIR" in note.inner_text()
    assert page.locator(".download").count() == 0


def new_machine_env(h: LiveHub, name: str) -> dict:
    home = h.home / name
    home.mkdir()
    return dict(h.env, HOME=str(home), FORGE_DATA_DIR=str(home / "forge"), XDG_CONFIG_HOME=str(home / "config"),
                XDG_DATA_HOME=str(home / "data"), CENTRAL_URL="")


def test_add_machine_join_code_and_shown_command_bring_a_machine_in(live_hub, browser, artifacts, tmp_path):
    builds = tmp_path / "builds"
    builds.mkdir()
    for name in ("forge-1.0-linux-x86_64.tar.gz", "forge-1.0-windows-setup.exe", "Forge-1.0-macos.zip"):
        (builds / name).write_bytes(os.urandom(2048))
    (builds / ".partial").write_bytes(b"half an upload")
    h = live_hub("--downloads", str(builds))
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=h.url)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(h.url + "/#/add")
        for os_key, name in (("linux", "linux-x86_64.tar.gz"), ("windows", "windows-setup.exe"), ("macos", "macos.zip")):
            link = page.locator(f'.os-card[data-os="{os_key}"] a.download')
            link.wait_for(timeout=10_000)
            assert link.count() == 1 and name in link.inner_text()
            with urllib.request.urlopen(h.url + link.get_attribute("href"), timeout=10) as resp:
                assert resp.read() == (builds / link.inner_text()).read_bytes()
        assert page.locator("p", has_text="offers no builds").is_hidden()

        page.fill("#admin-secret", "not-the-secret")
        page.click("text=Create join code")
        page.locator(".join-form ~ .error").wait_for(state="visible", timeout=5_000)
        assert "did not accept this admin secret" in page.locator(".join-form ~ .error").inner_text()

        page.fill("#admin-secret", ADMIN)
        page.click("text=Create join code")
        page.locator("#join-code").wait_for(state="visible", timeout=5_000)
        code = page.locator("#join-code").inner_text()
        assert "left" in page.locator(".join-expiry").inner_text()
        assert page.evaluate("sessionStorage.getItem('forge.adminSecret')") == ADMIN
        assert page.evaluate("localStorage.getItem('forge.adminSecret')") is None

        linux = page.locator('.os-card[data-os="linux"] .cmd').first
        command = linux.locator(".cmd-text").inner_text()
        assert command == f"forge join {h.url} {code}"
        assert page.locator('.os-card[data-os="windows"] .cmd-text').first.inner_text() == f"forge.exe join {h.url} {code}"
        linux.locator("button.copy").click()
        assert page.evaluate("navigator.clipboard.readText()") == command
        shot(page, artifacts, "add_machine")

        # The shown command, run as the new machine would (its own home, config and keyring).
        env = new_machine_env(h, "laptop")
        argv = shlex.split(command)
        assert argv[0] == "forge"
        r = subprocess.run(h.forge(*argv[1:], "--node-id", "laptop"), env=env, capture_output=True, text=True,
                           timeout=60, cwd=str(h.home))
        assert r.returncode == 0, r.stderr
        h.spawn("agent-laptop", h.forge("agent", "--jobs", "never"), env=env)
        joined = page.locator(".joined")
        joined.wait_for(state="visible", timeout=30_000)
        assert "laptop" in joined.inner_text()
        shot(page, artifacts, "add_machine_joined")
    finally:
        context.close()
    assert not errors, f"page errors: {errors}"


def test_two_parameter_sweep_gets_a_pivot_of_its_objective(hub, page, artifacts):
    out = submit(hub, {"sweep": {"type": "prodplan", "base": SMALL_PLAN,
                                 "grid": {"holding_cost": [0.5, 2], "setup_cost": [0.5, 1, 2]}, "label": "grid"}})
    jobs = [hub.wait_job_final(i) for i in out["ids"]]
    assert all(j["status"] == "succeeded" for j in jobs), jobs
    by_factors = {j["label"]: j["result"]["objective"] for j in jobs}

    page.goto(f"{hub.url}/#/batch/{out['batch_id']}")
    table = page.locator(".pivot-table")
    table.wait_for(timeout=10_000)
    assert page.locator(".pivot-panel h2").inner_text() == "Objective over the grid"
    assert table.locator("thead th").all_inner_texts()[1:] == ["× 0.5", "× 1", "× 2"]
    assert table.locator("tbody th").all_inner_texts() == ["× 0.5", "× 2"]
    cells = table.locator("tbody tr")
    for r, hold in enumerate((0.5, 2)):
        for c, setup in enumerate((0.5, 1, 2)):
            shown = cells.nth(r).locator("td").nth(c).locator("a").inner_text()
            assert float(shown.replace(",", "")) == pytest.approx(
                by_factors[f"holding_cost×{hold:g}, setup_cost×{setup:g}"], rel=1e-3)
    best = table.locator("td.best")
    assert sorted(by_factors.values())[0] < sorted(by_factors.values())[1], "the grid has one best scenario"
    assert best.count() == 1
    assert float(best.locator("a").inner_text().replace(",", "")) == pytest.approx(min(by_factors.values()), rel=1e-3)
    assert page.locator("[data-action=cancel-batch]").is_hidden(), "nothing left to cancel"
    shot(page, artifacts, "batch_pivot")
    page.set_viewport_size({"width": 1440, "height": 900})
    page.emulate_media(color_scheme="dark")
    shot(page, artifacts, "batch_pivot_1440_dark")
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: the page never scrolls sideways
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert table.is_visible()
    shot(page, artifacts, "batch_pivot_390_dark")
    page.emulate_media(color_scheme="light")
    shot(page, artifacts, "batch_pivot_390")
    best_id = best.get_attribute("data-job")
    best.locator("a").click()
    page.wait_for_url(f"**/#/jobs/{best_id}")


def test_cancel_a_whole_batch_from_its_page(hub, page, artifacts):
    out = submit(hub, {"jobs": [{"type": "sleep", "payload": {"seconds": 60}} for _ in range(3)], "label": "naps"})
    wait_until(lambda: hub.job(out["ids"][0])["status"] == "running", 60, what="the first nap to start")
    page.goto(f"{hub.url}/#/batch/{out['batch_id']}")
    button = page.locator("[data-action=cancel-batch]")
    button.wait_for(timeout=10_000)
    page.on("dialog", lambda d: d.accept())
    button.click()
    page.get_by_label("Admin secret").fill(ADMIN)
    page.get_by_role("button", name="Sign in").click()
    page.locator(".action-msg", has_text="Cancelled 3 jobs.").wait_for(timeout=10_000)
    wait_until(lambda: page.locator('.batch-table .job-status[data-status="cancelled"]').count() == 3, 10,
               what="three cancelled rows")
    assert {hub.job(i)["status"] for i in out["ids"]} == {"cancelled"}
    assert button.is_hidden()
    shot(page, artifacts, "batch_cancelled")


def test_submit_a_file_says_what_it_is_then_queues_it(hub, page, artifacts, tmp_path):
    bad = tmp_path / "broken.mps"
    bad.write_text("NAME X\nROWS\n N COST\n L R1\nCOLUMNS\n    A  COST  1.0  R9  2.0\nRHS\nENDATA\n")
    page.goto(hub.url + "/#/jobs")
    page.get_by_role("button", name="Submit a file…").click()
    page.get_by_label("Job file").set_input_files(str(bad))
    page.get_by_label("Admin secret").fill(ADMIN)
    page.get_by_role("button", name="Sign in").click()
    seen = page.locator(".upload-seen")
    seen.wait_for(timeout=10_000)
    wait_until(lambda: "line 6" in seen.inner_text(), 10, what="the parse error")
    assert "names row 'R9', which ROWS does not declare" in seen.inner_text()
    assert page.get_by_role("button", name="Submit", exact=True).is_disabled()
    shot(page, artifacts, "jobs_upload_error")
    bad_lp = tmp_path / "broken.lp"
    bad_lp.write_text("Maximize\n obj: 3 x + 2 y\nSubject To\n c1: x + y <= z\nEnd\n")
    page.get_by_label("Job file").set_input_files(str(bad_lp))
    wait_until(lambda: "line 4, column 15" in seen.inner_text(), 10, what="the LP parse error")
    assert "expected a number after '<=', found 'z'" in seen.inner_text()
    assert page.get_by_role("button", name="Submit", exact=True).is_disabled()

    page.get_by_label("Job file").set_input_files(str(FT06))
    wait_until(lambda: "JSPLIB instance" in seen.inner_text(), 10, what="the file to be recognised")
    assert seen.inner_text() == "ft06: JSPLIB instance · 1 jobshop job · “ft06” · 6 jobs × 6 machines"
    shot(page, artifacts, "jobs_upload_check")
    page.set_viewport_size({"width": 390, "height": 844})
    page.emulate_media(color_scheme="dark")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, artifacts, "jobs_upload_check_390_dark")
    page.set_viewport_size({"width": 1280, "height": 860})
    page.get_by_role("button", name="Submit", exact=True).click()
    link = page.locator(".upload-panel .action-msg a")
    link.wait_for(timeout=10_000)
    job_id = int(link.inner_text().lstrip("job #"))
    job = hub.job(job_id)
    assert (job["type"], job["label"]) == ("jobshop", "ft06")
    row(page, job_id).wait_for(timeout=10_000)


def served_meta(hub: LiveHub) -> dict:
    st, meta = http("GET", hub.url + "/api/meta")
    assert st == 200, meta
    return meta


def status_options(page) -> list[str]:
    return page.locator("select[aria-label='Show status'] option").evaluate_all("os => os.map(o => o.value)")


def css_colour(page, var: str) -> str:
    return page.evaluate(f"(() => {{ const s = document.createElement('span'); s.style.color = 'var({var})'; "
                         "document.body.append(s); const c = getComputedStyle(s).color; s.remove(); return c; })()")


def test_jobs_page_takes_its_statuses_and_colours_from_the_hubs_meta(hub, page, artifacts):
    from forge_contracts import vocabulary
    meta = served_meta(hub)
    statuses = [t["name"] for t in meta["job_statuses"]]
    assert statuses == list(vocabulary.JOB_STATUSES)
    job_id = submit(hub, {"type": "sleep", "payload": {"seconds": 0}, "label": "meta"})["id"]
    assert hub.wait_job_final(job_id)["status"] == "succeeded"

    page.goto(hub.url + "/#/jobs")
    row(page, job_id).wait_for(timeout=10_000)
    assert status_options(page) == ["", *statuses]
    assert [c.split(" ", 1)[1] for c in page.locator(".toolbar .counts").inner_text().split(" · ")] == statuses
    pill = row(page, job_id).locator(".job-status")
    tone = {t["name"]: t["tone"] for t in meta["job_statuses"]}["succeeded"]
    assert pill.get_attribute("data-tone") == tone == "good"
    assert pill.evaluate("e => getComputedStyle(e).color") == css_colour(page, "--ok")

    # The same page against a meta that says otherwise follows it: the words and tones are the hub's.
    def changed(route):
        body = route.fetch().json()
        body["job_statuses"] = [{**t, "tone": "warn"} if t["name"] == "succeeded" else t
                                for t in reversed(body["job_statuses"])]
        body["job_statuses"].append({"name": "archived", "meaning": "kept", "tone": "muted", "colour": "#7a7f87",
                                     "final": True})
        route.fulfill(json=body)
    page.route("**/api/meta", changed)
    page.reload()
    row(page, job_id).wait_for(timeout=10_000)
    assert status_options(page) == ["", *reversed(statuses), "archived"]
    assert page.locator(".toolbar .counts").inner_text().endswith("0 archived")
    assert pill.get_attribute("data-tone") == "warn"
    assert pill.evaluate("e => getComputedStyle(e).color") == css_colour(page, "--warn")
    page.screenshot(path="/tmp/uivocab_jobs_meta_changed.png")


def test_jobs_page_without_the_meta_still_lists_jobs_and_says_why(hub, page, artifacts):
    job_id = submit(hub, {"type": "sleep", "payload": {"seconds": 0}, "label": "no meta"})["id"]
    hub.wait_job_final(job_id)
    page.route("**/api/meta", lambda route: route.fulfill(status=503, json={"error": "unavailable",
                                                                           "message": "meta is down"}))
    page.goto(hub.url + "/#/jobs")
    row(page, job_id).wait_for(timeout=10_000)
    notice = page.locator("main p.error[role=alert]")
    assert "GET /api/meta" in notice.inner_text() and "meta is down" in notice.inner_text()
    st, body = http("GET", hub.url + "/api/jobs?limit=1")
    assert status_options(page) == ["", *body["counts"]]  # the queue's own statuses stand in
    assert row(page, job_id).locator(".job-status").get_attribute("data-tone") == "neutral"
    page.screenshot(path="/tmp/uivocab_jobs_no_meta.png")
    shot(page, artifacts, "jobs_without_meta")
