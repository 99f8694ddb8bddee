"""Bench the solvers: Trigeiro lot sizing (textbook, facility-location, portfolio) and ft10 job shop.

Every solve is bounded by --time-limit. Prints one table row per solve, then a
markdown table of medians over the runs (every --seeds value, --repeat times each) for
every formulation, and the command line that made them (for docs/PERFORMANCE.md).
HiGHS's random seed moves a solve's time 2-3x on these instances (the same seed
replays the same tree), so compare formulations over several seeds, not one run. The
portfolio races the other two, one HiGHS thread each, so it runs with
--portfolio-threads (default 2);
"cores" is the process CPU time over the wall time of the solve, and the load
average before each solve is printed as the machine may be shared.

    python bench/solvers_bench.py                       # all five Trigeiro + ft10, 120 s each
    python bench/solvers_bench.py --instances G53 G62 --time-limit 60 --seeds 0 1 2
    python bench/solvers_bench.py --skip-jobshop --formulations facility_location
    python bench/solvers_bench.py --skip-jobshop --formulations portfolio --portfolio-threads 2
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from forge_desktop.solvers import registry  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
TRIGEIRO = ["G53", "G57", "G62", "G69", "G72"]
FORMULATIONS = ["textbook", "facility_location", "portfolio"]


def lp_bound(payload: dict) -> float | None:
    """The LP relaxation of a prodplan payload's model (None for the portfolio, which has two)."""
    from forge_desktop.solvers import prodplan

    normalized = registry.validate("prodplan", payload)
    if normalized["formulation"] not in prodplan.BUILDERS:
        return None
    built = prodplan.BUILDERS[normalized["formulation"]](prodplan.Problem.from_payload(normalized))
    highs = built.builder.to_highs()
    highs.setOptionValue("solve_relaxation", True)
    highs.run()
    return highs.getInfo().objective_function_value


def bench_prodplan(instance: str, formulation: str, time_limit: float, mip_gap: float, threads: int,
                   seed: int) -> dict:
    data = json.loads((DATA / "trigeiro" / f"{instance}.json").read_text())
    payload = {**data, "formulation": formulation, "time_limit": time_limit, "mip_gap": mip_gap,
               "threads": threads, "seed": seed}
    first_optimum: list[float] = []
    load = os.getloadavg()[0]
    cpu_before = time.process_time()
    started = time.perf_counter()

    def watch(event: dict) -> None:
        incumbent = event.get("incumbent")
        if not first_optimum and incumbent is not None and incumbent <= data["known_optimum"] + 0.5:
            first_optimum.append(time.perf_counter() - started)

    result = registry.solve("prodplan", payload, progress=watch)
    wall = time.perf_counter() - started
    cores = (time.process_time() - cpu_before) / wall
    entrants = result.get("portfolio", {})
    return {
        "instance": instance, "formulation": formulation, "seed": seed, "nodes": result["nodes"],
        "status": result["status"],
        "won_by": result["formulation"] if entrants else None,
        "received": entrants.get("textbook", {}).get("received"),
        "others": ", ".join(f"{name} {e['status']} {fmt(e['solve_time'], '.1f')} s"
                            for name, e in entrants.items() if name != result["formulation"]),
        "cores": cores, "load": load,
        "objective": result["objective"], "optimum": data["known_optimum"],
        "gap_pct": None if result["gap"] is None else 100 * result["gap"],
        "time": result["solve_time"], "found_optimum_at": first_optimum[0] if first_optimum else None,
        "lp_bound": lp_bound(payload),
    }


def median_or_none(values: list[float | None]) -> float | None:
    """Median of the runs that have a value; None when none has (e.g. optimum never found)."""
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def print_medians(rows: list[dict], instances: list[str], formulations: list[str], runs: str) -> None:
    """One markdown row per instance: median time, gap and time-to-optimum per formulation.

    "x textbook" is the textbook formulation's median time over this one's, the
    speed-up against the issue's reference model (when textbook is in the run).
    """
    print(f"\nmedians over {runs} per cell; 'solved' counts runs that proved the optimum")
    header = " | ".join(f"{f}: time / gap % / opt@ / solved" + (" / won by" if f == "portfolio" else "")
                        + (" / x textbook" if f != "textbook" and "textbook" in formulations else "")
                        for f in formulations)
    print(f"| instance | {header} |")
    print("|---|" + "---|" * len(formulations))
    for instance in instances:
        cells = []
        reference = [r["time"] for r in rows if r["instance"] == instance and r["formulation"] == "textbook"]
        for formulation in formulations:
            group = [r for r in rows if r["instance"] == instance and r["formulation"] == formulation]
            solved = sum(r["status"] == "optimal" for r in group)
            median_time = statistics.median(r["time"] for r in group)
            ratio = (f" / {statistics.median(reference) / median_time:.2f}x"
                     if reference and formulation != "textbook" else "")
            cells.append(f"{median_time:.1f} s / "
                         f"{fmt(median_or_none([r['gap_pct'] for r in group]), '.3f')} / "
                         f"{fmt(median_or_none([r['found_optimum_at'] for r in group]), '.1f')} / "
                         f"{solved}/{len(group)}"
                         + (f" / {', '.join(sorted({fmt(r['won_by']) for r in group}))}"
                            if formulation == "portfolio" else "") + ratio)
        print(f"| {instance} | " + " | ".join(cells) + " |")


def bench_jobshop(name: str, time_limit: float, threads: int) -> dict:
    text = (DATA / "jsplib" / "instances" / name).read_text()
    result = registry.solve("jobshop", {"jsplib": text, "time_limit": time_limit, "threads": threads})
    return {"instance": name, "threads": threads, "status": result["status"],
            "makespan": result["makespan"], "lower_bound": result["lower_bound"],
            "time": result["solve_time"]}


def fmt(value: object, spec: str = "") -> str:
    if value is None:
        return "-"
    return format(value, spec) if spec else str(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instances", nargs="+", default=TRIGEIRO, choices=TRIGEIRO)
    parser.add_argument("--formulations", nargs="+", default=FORMULATIONS, choices=FORMULATIONS)
    parser.add_argument("--time-limit", type=float, default=120.0, help="seconds per solve")
    parser.add_argument("--mip-gap", type=float, default=1e-6, help="relative gap that counts as solved")
    parser.add_argument("--repeat", type=int, default=1, help="solves per (instance, formulation, seed)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0],
                        help="HiGHS random seeds; every (instance, formulation) runs once per seed, medians")
    parser.add_argument("--threads", type=int, default=1,
                        help="HiGHS threads per textbook or facility_location solve")
    parser.add_argument("--portfolio-threads", type=int, default=2,
                        help="the portfolio job's threads (each of its two solves uses one)")
    parser.add_argument("--skip-jobshop", action="store_true")
    parser.add_argument("--jobshop-threads", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args(argv)
    command = "python " + " ".join(shlex.quote(a) for a in ["bench/solvers_bench.py", *(argv or sys.argv[1:])])

    print(f"{'instance':8} {'formulation':18} {'status':10} {'objective':>10} {'optimum':>8} "
          f"{'gap %':>7} {'time s':>7} {'opt@ s':>7} {'LP bound':>10} {'seed':>4} {'nodes':>6} {'cores':>5} "
          f"{'load':>5}  won by")
    rows = []
    for instance in args.instances:
        for formulation in args.formulations:
            for seed in [s for s in args.seeds for _ in range(args.repeat)]:
                threads = args.portfolio_threads if formulation == "portfolio" else args.threads
                row = bench_prodplan(instance, formulation, args.time_limit, args.mip_gap, threads, seed)
                rows.append(row)
                won = (f"  {row['won_by']} (stopped: {row['others']}; textbook took {row['received']} "
                       f"of facility location's plans)") if row["won_by"] else ""
                print(f"{instance:8} {formulation:18} {row['status']:10} {fmt(row['objective']):>10} "
                      f"{row['optimum']:>8} {fmt(row['gap_pct'], '.3f'):>7} {row['time']:>7.1f} "
                      f"{fmt(row['found_optimum_at'], '.1f'):>7} {fmt(row['lp_bound'], '10.0f'):>10} "
                      f"{seed:>4} {fmt(row['nodes']):>6} {row['cores']:>5.2f} {row['load']:>5.2f}{won}", flush=True)
    if rows:
        runs = f"seeds {' '.join(map(str, args.seeds))}" + (f", {args.repeat} runs each" if args.repeat > 1 else "")
        print_medians(rows, args.instances, args.formulations, runs)
    if not args.skip_jobshop:
        print(f"\n{'instance':8} {'threads':>7} {'status':10} {'makespan':>8} {'bound':>6} {'time s':>7}")
        for threads in args.jobshop_threads:
            times = []
            for _ in range(args.repeat):
                row = bench_jobshop("ft10", args.time_limit, threads)
                times.append(row["time"])
                print(f"{row['instance']:8} {threads:>7} {row['status']:10} {fmt(row['makespan']):>8} "
                      f"{fmt(row['lower_bound']):>6} {row['time']:>7.2f}", flush=True)
            if args.repeat > 1:
                print(f"ft10 threads={threads} median {statistics.median(times):.2f} s")
    print(f"\ncommand: {command}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
