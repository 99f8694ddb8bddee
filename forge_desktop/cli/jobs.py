"""`forge jobs`: submit, follow, list, show and cancel jobs."""
from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

from ..client import HubClient
from .access import add_hub_args, admin_client, admin_client_optional
from .errors import CliError
from .jobfiles import load_job_file


def add_parsers(sub: argparse._SubParsersAction) -> None:
    jb = sub.add_parser("jobs", help="submit and follow optimization jobs")
    add_hub_args(jb)
    jsub = jb.add_subparsers(title="actions", metavar="ACTION")
    s = jsub.add_parser("submit", help="submit a job (or a batch / sweep) from a file")
    s.add_argument("file", type=Path, help="JSON job, JSON payload, JSPLIB instance, or MPS/LP model")
    s.add_argument("--type", help="job type when the file is a bare payload or model")
    s.add_argument("--batch", action="store_true", help="the file holds a list of jobs ({'jobs': [...]})")
    s.add_argument("--priority", type=int, default=0)
    s.add_argument("--wait", action="store_true", help="follow progress until the job ends")
    s.set_defaults(func=cmd_jobs_submit)
    ls = jsub.add_parser("list", help="list jobs")
    ls.add_argument("--status", choices=("pending", "running", "succeeded", "failed", "cancelled"))
    ls.add_argument("--type", dest="job_type")
    ls.add_argument("--limit", type=int, default=50)
    ls.set_defaults(func=cmd_jobs_list)
    sh = jsub.add_parser("show", help="show one job with its result")
    sh.add_argument("id", type=int)
    sh.set_defaults(func=cmd_jobs_show)
    ca = jsub.add_parser("cancel", help="cancel a pending or running job, or every such job of a batch")
    ca.add_argument("id", type=int, nargs="?", help="the job's id")
    ca.add_argument("--batch", help="cancel every job of this batch that has not ended")
    ca.set_defaults(func=cmd_jobs_cancel)


def cmd_jobs_submit(args: argparse.Namespace) -> int:
    body = load_job_file(args.file, args.type, args.batch, args.priority)
    client, secret = admin_client(args)
    answer = client.post("/api/jobs", body, token=secret)
    ids = answer.get("ids") or [answer["id"]]
    if len(ids) == 1 and "batch_id" not in answer:
        print(f"submitted job {ids[0]}")
    else:
        print(f"submitted {len(ids)} jobs (batch {answer.get('batch_id')}): ids {ids[0]}..{ids[-1]}")
    if args.wait:
        return wait_for(client, ids)
    return 0


def wait_for(client: HubClient, ids: list[int], poll_s: float = 1.0) -> int:
    """Follow jobs until they end, with one live line; exit status 0 only if all succeeded."""
    final = ("succeeded", "failed", "cancelled")
    t0 = time.time()
    width = max(40, shutil.get_terminal_size((101, 24)).columns - 1)
    while True:
        jobs = [client.get(f"/api/jobs/{i}") for i in ids]
        done = [j for j in jobs if j["status"] in final]
        if len(ids) == 1:
            line = progress_line(jobs[0], time.time() - t0)
        else:
            line = f"{len(done)}/{len(ids)} finished, {sum(j['status'] == 'running' for j in jobs)} running"
        reason = waiting_line(jobs)
        if reason:
            line = f"{line}  {reason}"
        if len(line) > width:  # one terminal line, or the carriage return cannot redraw it
            line = line[:width - 1] + "…"
        print("\r" + line.ljust(min(100, width)), end="", flush=True)
        if len(done) == len(ids):
            print()
            for j in jobs:
                print(summary_line(j))
            return 0 if all(j["status"] == "succeeded" for j in jobs) else 1
        time.sleep(poll_s)


def waiting_line(jobs: list[dict]) -> str | None:
    """Why the job waits (the hub's `waiting`), while none of them runs; for a batch, the first
    pending job's reason."""
    if any(j["status"] == "running" for j in jobs):
        return None
    pending = [j for j in jobs if j["status"] == "pending" and j.get("waiting")]
    return f"waiting: {pending[0]['waiting']}" if pending else None


def progress_line(job: dict, elapsed: float) -> str:
    """The live line. Once the job has ended its figures come from the result, so the line
    left on screen is never the stale last progress report."""
    p = dict(job.get("progress") or {})
    r = job.get("result") or {}
    if job["status"] == "succeeded" and isinstance(r, dict):
        final = r.get("makespan", r.get("objective"))
        p.update({k: v for k, v in (("incumbent", final), ("bound", r.get("bound")), ("gap", r.get("gap")))
                  if v is not None})
        p["percent"] = 100
    parts = [f"job {job['id']} {job['status']}"]
    if job.get("claimed_by"):
        parts.append(f"on {job['claimed_by']}")
    for key, label in (("incumbent", "best"), ("bound", "bound")):
        if isinstance(p.get(key), (int, float)):
            parts.append(f"{label}={p[key]:g}")
    if isinstance(p.get("gap"), (int, float)):
        parts.append(f"gap={format_gap(p['gap'])}")
    if isinstance(p.get("percent"), (int, float)):
        parts.append(f"{p['percent']:.0f}% done")
    parts.append(f"{elapsed:.0f}s")
    return "  ".join(parts)


def format_gap(gap: float) -> str:
    """A relative gap as a percentage readable at any size: 5.2 %, 0.31 %, 0.009 %, 0 %."""
    pct = 100 * gap
    if pct == 0:
        return "0 %"
    if abs(pct) >= 10:
        return f"{pct:.1f} %"
    if abs(pct) >= 0.1:
        return f"{pct:.2f} %"
    return f"{pct:.2g} %" if abs(pct) < 0.001 else f"{pct:.3f} %"


def summary_line(job: dict) -> str:
    """`job 1: succeeded  makespan 55 · optimal`: the summary the hub serves (forge_contracts)."""
    return f"job {job['id']}: {job['status']}  {job.get('summary') or ''}".rstrip()


def cmd_jobs_list(args: argparse.Namespace) -> int:
    client, _ = admin_client_optional(args)
    body = client.get("/api/jobs", query={"status": args.status, "type": args.job_type, "limit": args.limit})
    c = body["counts"]
    print("  ".join(f"{k}={v}" for k, v in c.items()))
    for j in body["jobs"]:
        print(f"{j['id']:>6}  {j['type']:<9} {j['status']:<10} {j.get('claimed_by') or '-':<16} "
              f"{(j.get('label') or '')[:40]:<40}  {j.get('progress_text') or j.get('summary') or ''}".rstrip())
    return 0


def cmd_jobs_show(args: argparse.Namespace) -> int:
    client, _ = admin_client_optional(args)
    job = client.get(f"/api/jobs/{args.id}")
    print(json.dumps(job, indent=2))
    return 0


def cmd_jobs_cancel(args: argparse.Namespace) -> int:
    if (args.id is None) == (args.batch is None):
        raise CliError("give a job id or --batch BATCH_ID (not both)")
    client, secret = admin_client(args)
    if args.batch is not None:
        ids = client.post(f"/api/batches/{args.batch}/cancel", {}, token=secret)["cancelled"]
        print(f"cancelled {len(ids)} job{'s' if len(ids) != 1 else ''} of batch {args.batch}"
              + (f": {', '.join(map(str, ids))}" if ids else " (every job had already ended)"))
        return 0
    client.post(f"/api/jobs/{args.id}/cancel", {}, token=secret)
    print(f"cancelled job {args.id}")
    return 0
