"""Bench job-shop solving through the fleet: a real `forge hub` process and real `forge agent` workers.

Two measurements (issue 6, "Measured"), raw rows as JSON lines, then medians (for docs/PERFORMANCE.md):

* ft10: time to prove ft10 optimal (930), submitted to a hub with one idle
  `forge agent --jobs always` worker (enqueue -> finished, the hub's created_at ->
  finished_at) against `registry.solve("jobshop", payload)` in a fresh interpreter
  (launch -> result), both with threads=1. Runs alternate direct, fleet, direct, fleet...
  so the machine's other load falls on both. The overhead is broken down into claim
  latency, the attempt's time outside the solver (spawned child, imports, model build,
  result post) and the solver's own solve_time; CPU seconds of the solving process
  (rusage for the direct run, psutil polling of the agent's child for the fleet run)
  separate "more work" from "less CPU available".
* batch: --jobs job-shop instances (a pool of JSPLIB instances CP-SAT proves in about
  0.5-4 s with one thread, repeated in turn) submitted as one batch to a fresh hub with
  1 and then 2 workers; wall time from submit to the last result, speed-up t1/t2 from
  the medians, and every makespan checked against the optimum in instances.json.

Everything runs under one time budget (--budget-s): a run that cannot start in time is
skipped and reported, and every wait is bounded by the budget.

    python bench/fleet_jobs_bench.py                              # both, 3 ft10 pairs, 3 batch repeats
    python bench/fleet_jobs_bench.py --only ft10 --pairs 5 --budget-s 600
    python bench/fleet_jobs_bench.py --only batch --workers 1 2 --batch-repeat 2 --jobs 40
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from loopback import free_port, http, isolated_env, stop_process_groups, wait_for_hub

ROOT = Path(__file__).resolve().parents[1]
JSPLIB = ROOT.parent / "shared" / "data" / "jsplib"
ADMIN = "bench-admin-secret-0123456789abcdef"
FINAL = ("succeeded", "failed", "cancelled")
# Proven optimal with threads=1 in 0.4-4 s each on the 2-core bench machine (la19, la26+
# and most orb take longer; la01-la14 take under 0.3 s, where start-up would dominate).
BATCH_POOL = ["la15", "la16", "la18", "la20", "abz6", "ft20", "orb02", "orb04", "orb07", "orb08",
              "orb09", "orb10", "la22", "la23", "la31"]

DIRECT_CHILD = """
import json, resource, sys, time
t_start = time.time()
from forge_desktop.solvers import registry
t_imported = time.time()
result = registry.solve("jobshop", json.load(sys.stdin))
t_done = time.time()
usage = resource.getrusage(resource.RUSAGE_SELF)
json.dump({"t_start": t_start, "t_imported": t_imported, "t_done": t_done,
           "cpu_s": usage.ru_utime + usage.ru_stime, "makespan": result["makespan"],
           "optimal": result["optimal"], "solve_time": result["solve_time"]}, sys.stdout)
"""


class BudgetExceeded(RuntimeError):
    pass


@dataclass
class Budget:
    """One deadline for the whole bench; waits and runs are bounded by it."""
    seconds: float
    start: float = field(default_factory=time.monotonic)

    def left(self) -> float:
        return self.seconds - (time.monotonic() - self.start)

    def check(self, what: str) -> None:
        if self.left() <= 0:
            raise BudgetExceeded(f"time budget of {self.seconds:.0f} s ran out during {what}")

    def allows(self, needed_s: float) -> bool:
        return self.left() >= needed_s


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


def instances() -> dict[str, dict]:
    return {m["name"]: m for m in json.loads((JSPLIB / "instances.json").read_text())}


def jobshop_payload(name: str, time_limit: float) -> dict:
    meta = instances()[name]
    return {"jsplib": (JSPLIB / meta["path"]).read_text(), "time_limit": time_limit, "threads": 1}


@dataclass
class Fleet:
    """One hub process and its agent processes in a throwaway home folder."""
    home: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="forge-fleet-jobs-bench-")))
    procs: list[subprocess.Popen] = field(default_factory=list)
    agents: dict[str, subprocess.Popen] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = isolated_env(self.home, ADMIN)
        self.env.pop("FORGE_WORKER_TYPES", None)

    def _spawn(self, name: str, *args: str) -> subprocess.Popen:
        log = open(self.home / f"{name}.log", "ab")
        proc = subprocess.Popen([sys.executable, "-P", "-m", "forge_desktop.cli", *args], env=self.env,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=str(ROOT))
        self.procs.append(proc)
        return proc

    def start_hub(self, budget: Budget) -> None:
        self._spawn("hub", "hub", "--host", "127.0.0.1", "--port", str(self.port),
                    "--data-dir", str(self.home / "hub"))
        if not wait_for_hub(self.url, min(30.0, max(budget.left(), 0.0))):
            raise RuntimeError(f"hub did not start; see {self.home / 'hub.log'}")

    def token(self, node: str) -> str:
        st, body = http("POST", self.url + "/api/tokens", {"node_id": node}, token=ADMIN)
        if st != 201:
            raise RuntimeError(f"token for {node}: {st} {body}")
        return body["token"]

    def start_agents(self, nodes: list[str], budget: Budget) -> None:
        """Start the workers and wait until each has reported itself ready to take jobs."""
        for node in nodes:
            self.agents[node] = self._spawn("agent-" + node, "agent", "--hub", self.url, "--node-id", node,
                                            "--token", self.token(node), "--jobs", "always")
        deadline = time.monotonic() + min(60.0, max(budget.left(), 0.0))
        while time.monotonic() < deadline:
            if all(self.worker_cores().get(n, 0) >= 1 for n in nodes):
                time.sleep(0.5)  # the first long-poll claim follows the first heartbeat
                return
            time.sleep(0.2)
        raise RuntimeError(f"workers {nodes} not ready: {self.worker_cores()}; logs in {self.home}")

    def worker_cores(self) -> dict[str, int]:
        path = self.home / "hub" / "forge.db"
        if not path.exists():
            return {}
        try:
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
                rows = db.execute("SELECT id, state FROM workers").fetchall()
        except sqlite3.Error:
            return {}
        return {node: int(json.loads(state).get("cores") or 0) for node, state in rows}

    def submit(self, jobs: list[dict], label: str | None = None) -> dict:
        body = {"jobs": jobs, "label": label} if len(jobs) > 1 else jobs[0]
        st, answer = http("POST", self.url + "/api/jobs", body, token=ADMIN)
        if st != 201:
            raise RuntimeError(f"submit refused: {st} {answer}")
        return answer

    def job(self, job_id: int) -> dict:
        st, body = http("GET", f"{self.url}/api/jobs/{job_id}")
        if st != 200:
            raise RuntimeError(f"GET job {job_id}: {st} {body}")
        return body

    def batch_jobs(self, batch_id: str, n: int) -> list[dict]:
        st, body = http("GET", f"{self.url}/api/jobs?batch={batch_id}&limit={max(n, 1)}&results=1")
        if st != 200:
            raise RuntimeError(f"GET batch {batch_id}: {st} {body}")
        return body["jobs"]

    def cpu_seconds(self, proc: subprocess.Popen) -> tuple[float, float]:
        """(own, reaped children's) CPU seconds, user + system, of one of our processes.

        A worker reaps each job's child before posting its result, so the children's
        figure taken after the job finished counts that child's whole life, exactly.
        """
        t = psutil.Process(proc.pid).cpu_times()
        return t.user + t.system, t.children_user + t.children_system

    def close(self) -> None:
        stop_process_groups(self.procs)


# --- ft10: fleet against direct --------------------------------------------------------------

def direct_solve(payload: dict, budget: Budget) -> dict:
    """registry.solve in a fresh interpreter: launch -> result in hand."""
    budget.check("a direct solve")
    t0 = time.time()
    proc = subprocess.Popen([sys.executable, "-P", "-c", DIRECT_CHILD], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=str(ROOT), text=True)
    try:
        out, err = proc.communicate(json.dumps(payload), timeout=max(budget.left(), 1.0))
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise BudgetExceeded("time budget ran out during a direct solve") from None
    if proc.returncode != 0:
        raise RuntimeError(f"direct solve failed ({proc.returncode}): {err[-2000:]}")
    r = json.loads(out)
    return {"mode": "direct", "wall_s": r["t_done"] - t0, "solve_time": r["solve_time"],
            "outside_solver_s": r["t_done"] - t0 - r["solve_time"],
            "interpreter_and_registry_import_s": r["t_imported"] - t0, "cpu_s": r["cpu_s"],
            "makespan": r["makespan"], "optimal": r["optimal"], "load_avg": load_average()}


def fleet_solve(fleet: Fleet, node: str, payload: dict, budget: Budget) -> dict:
    """Submit one job to the idle worker `node`; enqueue -> finished from the hub's own timestamps."""
    budget.check("a fleet solve")
    agent, hub = fleet.agents[node], fleet.procs[0]
    agent_before, children_before = fleet.cpu_seconds(agent)
    hub_before = fleet.cpu_seconds(hub)[0]
    t_post = time.time()
    job_id = fleet.submit([{"type": "jobshop", "payload": payload}])["id"]
    t_answer = time.time()
    while True:
        budget.check(f"fleet job {job_id}")
        job = fleet.job(job_id)
        if job["status"] in FINAL:
            break
        time.sleep(0.5)  # gently: the bench's own polling must not compete with the solver
    agent_after, children_after = fleet.cpu_seconds(agent)
    hub_after = fleet.cpu_seconds(hub)[0]
    if job["status"] != "succeeded":
        raise RuntimeError(f"fleet job {job_id} {job['status']}: {job.get('error')}")
    attempt = job["attempts"][-1]
    result = job["result"]
    wall = job["finished_at"] - job["created_at"]
    return {"mode": "fleet", "job": job_id, "wall_s": wall, "solve_time": result["solve_time"],
            "outside_solver_s": wall - result["solve_time"],
            "submit_http_s": t_answer - t_post, "created_after_post_s": job["created_at"] - t_post,
            "claim_s": attempt["started_at"] - job["created_at"],
            "attempt_outside_solver_s": job["finished_at"] - attempt["started_at"] - result["solve_time"],
            "cpu_s": children_after - children_before, "agent_cpu_s": agent_after - agent_before,
            "hub_cpu_s": hub_after - hub_before, "attempts": len(job["attempts"]),
            "makespan": result["makespan"], "optimal": result["optimal"], "load_avg": load_average()}


def fresh_interpreter_import_s(statement: str, repeat: int = 3) -> float:
    """Median seconds a fresh interpreter spends on `statement` (timed inside it)."""
    code = f"import time\nt = time.perf_counter()\n{statement}\nprint(time.perf_counter() - t)"
    runs = [float(subprocess.run([sys.executable, "-P", "-c", code], capture_output=True, text=True,
                                 check=True, cwd=str(ROOT)).stdout) for _ in range(repeat)]
    return statistics.median(runs)


def http_round_trip_s(fleet: Fleet, job_id: int, n: int = 10) -> float:
    """Median GET of a finished ft10 job (its result is the body the worker posts): an HTTP round trip."""
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fleet.job(job_id)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def ft10_section(pairs: int, time_limit: float, budget: Budget, section: dict) -> None:
    """Alternate direct and fleet solves of ft10; rows land in `section` as they finish."""
    payload = jobshop_payload("ft10", time_limit)
    section.update(rows=[], extras={}, optimum=instances()["ft10"]["optimum"], skipped_pairs=0)
    rows, extras = section["rows"], section["extras"]
    fleet = Fleet()
    try:
        fleet.start_hub(budget)
        fleet.start_agents(["w0"], budget)
        for i in range(pairs):
            need = 2.5 * max((r["wall_s"] for r in rows), default=25.0)
            if not budget.allows(need):
                section["skipped_pairs"] = pairs - i
                print(f"ft10: budget left {budget.left():.0f} s < {need:.0f} s needed: "
                      f"skipping {pairs - i} pair(s)", flush=True)
                break
            for row in (direct_solve(payload, budget), fleet_solve(fleet, "w0", payload, budget)):
                row["pair"] = i
                rows.append(row)
                print(json.dumps(row), flush=True)
        fleet_rows = [r for r in rows if r["mode"] == "fleet"]
        if fleet_rows:
            extras["http_round_trip_s"] = http_round_trip_s(fleet, fleet_rows[-1]["job"])
        extras["import_registry_s"] = fresh_interpreter_import_s("from forge_desktop.solvers import registry")
        extras["import_agent_main_and_runner_s"] = fresh_interpreter_import_s(
            "import forge_desktop.cli, forge_desktop.runner\nfrom forge_desktop.solvers import registry")
        extras["import_cp_model_s"] = fresh_interpreter_import_s("from ortools.sat.python import cp_model")
        print(json.dumps({"micro": extras}), flush=True)
    finally:
        fleet.close()


def median(rows: list[dict], key: str) -> float | None:
    values = [r[key] for r in rows if r.get(key) is not None]
    return statistics.median(values) if values else None


def report_ft10(section: dict) -> None:
    rows = section["rows"]
    wrong = [r for r in rows if r["makespan"] != section["optimum"] or not r["optimal"]]
    direct = [r for r in rows if r["mode"] == "direct"]
    fleet = [r for r in rows if r["mode"] == "fleet"]
    if not direct or not fleet:
        print("ft10: no complete pair measured", flush=True)
        return
    d, f = median(direct, "wall_s"), median(fleet, "wall_s")
    pair_ratios = [fr["wall_s"] / dr["wall_s"] for dr, fr in zip(direct, fleet)]
    print(f"ft10 ({len(fleet)} pairs): direct median {d:.2f} s (solve_time {median(direct, 'solve_time'):.2f} s, "
          f"cpu {median(direct, 'cpu_s'):.2f} s); fleet median {f:.2f} s (solve_time "
          f"{median(fleet, 'solve_time'):.2f} s, cpu {median(fleet, 'cpu_s'):.2f} s); "
          f"ratio of medians {f / d:.3f}, per-pair ratios {', '.join(f'{x:.3f}' for x in pair_ratios)} "
          f"(median {statistics.median(pair_ratios):.3f}); solve_time ratio "
          f"{median(fleet, 'solve_time') / median(direct, 'solve_time'):.3f}; solver CPU ratio "
          f"{median(fleet, 'cpu_s') / median(direct, 'cpu_s'):.3f}", flush=True)
    print(f"ft10 beside the solver during a fleet job: agent {median(fleet, 'agent_cpu_s'):.2f} s CPU, hub "
          f"{median(fleet, 'hub_cpu_s'):.2f} s CPU; load average {median(direct, 'load_avg'):.2f} (direct) / "
          f"{median(fleet, 'load_avg'):.2f} (fleet)", flush=True)
    print(f"ft10 outside the solver: direct {median(direct, 'outside_solver_s'):.3f} s "
          f"(interpreter + registry import {median(direct, 'interpreter_and_registry_import_s'):.3f} s); "
          f"fleet {median(fleet, 'outside_solver_s'):.3f} s = claim {median(fleet, 'claim_s'):.3f} s + attempt "
          f"outside solver {median(fleet, 'attempt_outside_solver_s'):.3f} s; submit HTTP "
          f"{median(fleet, 'submit_http_s'):.3f} s (before created_at)", flush=True)
    x = section["extras"]
    if "import_cp_model_s" in x:
        print(f"ft10 micro: HTTP round trip with the ft10 result {1000 * x.get('http_round_trip_s', 0):.1f} ms; "
              f"fresh-interpreter imports: registry {x['import_registry_s']:.3f} s, agent main + runner + "
              f"registry {x['import_agent_main_and_runner_s']:.3f} s, cp_model {x['import_cp_model_s']:.3f} s",
              flush=True)
    print(f"ft10: {len(wrong)} run(s) not proving {section['optimum']}", flush=True)


# --- batch: 1 against 2 workers --------------------------------------------------------------

def batch_specs(names: list[str], jobs: int, time_limit: float) -> list[dict]:
    return [{"type": "jobshop", "payload": jobshop_payload(names[i % len(names)], time_limit),
             "label": names[i % len(names)]} for i in range(jobs)]


def batch_run(workers: int, specs: list[dict], budget: Budget) -> dict:
    """A fresh hub and `workers` agents; one batch submitted; wall time to the last result."""
    known = instances()
    fleet = Fleet()
    try:
        fleet.start_hub(budget)
        fleet.start_agents([f"w{i}" for i in range(workers)], budget)
        load_before = load_average()
        t_post = time.time()
        answer = fleet.submit(specs, label=f"bench {workers} worker(s)")
        while True:
            budget.check(f"the {workers}-worker batch")
            rows = fleet.batch_jobs(answer["batch_id"], len(specs))
            if all(r["status"] in FINAL for r in rows):
                break
            time.sleep(0.25)
    finally:
        fleet.close()
    done = [r for r in rows if r["status"] == "succeeded"]
    checked, wrong = 0, []
    for r in done:
        optimum = known[r["label"]]["optimum"]
        if optimum is not None:
            checked += 1
            if r["result"]["makespan"] != optimum or not r["result"]["optimal"]:
                wrong.append({"id": r["id"], "instance": r["label"], "makespan": r["result"]["makespan"],
                              "optimal": r["result"]["optimal"], "optimum": optimum})
    last = max(r["finished_at"] for r in rows if r["finished_at"])
    per_worker: dict[str, int] = {}
    for r in done:
        per_worker[r["claimed_by"]] = per_worker.get(r["claimed_by"], 0) + 1
    solve_sum = sum(r["result"]["solve_time"] for r in done)
    outside = [r["finished_at"] - r["claimed_at"] - r["result"]["solve_time"] for r in done]
    return {"workers": workers, "jobs": len(specs), "succeeded": len(done), "wall_s": last - t_post,
            "wall_from_created_s": last - min(r["created_at"] for r in rows), "solve_time_sum_s": solve_sum,
            "outside_solver_per_job_s": statistics.median(outside) if outside else None, "per_worker": per_worker, "checked_against_optimum": checked, "wrong": wrong,
            "load_avg_before": load_before, "load_avg_after": load_average()}


def batch_section(worker_counts: list[int], repeat: int, jobs: int, names: list[str], time_limit: float,
                  budget: Budget, rows: list[dict]) -> None:
    """Repeats of the batch, 1 and 2 workers interleaved so the machine's other load falls on both."""
    specs = batch_specs(names, jobs, time_limit)
    for r in range(repeat):
        for w in worker_counts:
            same = [x["wall_s"] for x in rows if x["workers"] == w]
            need = 1.2 * max(same) + 15 if same else 30.0
            if not budget.allows(need):
                print(f"batch: budget left {budget.left():.0f} s < {need:.0f} s needed: skipping repeat {r + 1} "
                      f"with {w} worker(s)", flush=True)
                continue
            row = batch_run(w, specs, budget)
            row["repeat"] = r
            rows.append(row)
            print(json.dumps(row), flush=True)


def report_batch(rows: list[dict], worker_counts: list[int], jobs: int) -> None:
    medians = {}
    for w in worker_counts:
        mine = [r for r in rows if r["workers"] == w]
        if not mine:
            continue
        medians[w] = median(mine, "wall_s")
        print(f"batch: {w} worker(s), {jobs} jobs: median {medians[w]:.1f} s over {len(mine)} run(s) "
              f"(runs {', '.join(format(r['wall_s'], '.1f') for r in mine)}; solver time summed "
              f"{median(mine, 'solve_time_sum_s'):.1f} s; per job outside the solver "
              f"{median(mine, 'outside_solver_per_job_s'):.2f} s)", flush=True)
    base = min(medians, default=None)
    for w in medians:
        if w != base:
            print(f"batch: speed-up {base} -> {w} worker(s): {medians[base] / medians[w]:.2f}x", flush=True)
    wrong = [x for r in rows for x in r["wrong"]]
    checked = sum(r["checked_against_optimum"] for r in rows)
    failed = sum(r["jobs"] - r["succeeded"] for r in rows)
    print(f"batch: {checked} results checked against the known optimum, {len(wrong)} wrong, {failed} job(s) "
          f"not succeeded", flush=True)
    for x in wrong:
        print(f"batch: WRONG {json.dumps(x)}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", choices=("ft10", "batch"), action="append")
    ap.add_argument("--budget-s", type=float, default=900.0, help="hard limit for the whole bench (default 900)")
    ap.add_argument("--pairs", type=int, default=3, help="ft10 direct/fleet pairs (default 3)")
    ap.add_argument("--ft10-time-limit", type=float, default=120.0)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--jobs", type=int, default=40, help="jobs per batch (default 40)")
    ap.add_argument("--batch-repeat", type=int, default=3)
    ap.add_argument("--batch-time-limit", type=float, default=60.0)
    ap.add_argument("--instances", nargs="+", default=BATCH_POOL,
                    help="the batch's instances, repeated in turn up to --jobs")
    args = ap.parse_args()
    unknown = sorted(set(args.instances) - set(instances()))
    if unknown:
        ap.error(f"--instances: not in {JSPLIB / 'instances.json'}: {', '.join(unknown)}")
    only = set(args.only or ("ft10", "batch"))
    budget = Budget(args.budget_s)
    print(f"# {shlex.join(['python', 'bench/fleet_jobs_bench.py', *sys.argv[1:]])}  (cpus={os.cpu_count()}, "
          f"load average {load_average()})", flush=True)
    ft10: dict = {}
    batch: list[dict] = []
    try:
        if "ft10" in only:
            ft10_section(args.pairs, args.ft10_time_limit, budget, ft10)
        if "batch" in only:
            batch_section(args.workers, args.batch_repeat, args.jobs, args.instances,
                          args.batch_time_limit, budget, batch)
    except BudgetExceeded as e:
        print(f"STOPPED: {e}; the summary below covers the runs that finished", flush=True)
    if ft10:
        report_ft10(ft10)
    if batch:
        report_batch(batch, args.workers, args.jobs)
    print(f"# done in {budget.seconds - budget.left():.0f} s", flush=True)


if __name__ == "__main__":
    main()
