"""`python -m benchmarks [--scales 1,10,30] [--days 90] [--repeat 3] [--stages ...] [--json PATH]`: measure and print the table.

``--scales`` multiplies the daily volume (citizens, applications, actions per day);
``--days`` sets how many days of history are seeded at that volume.

Each scale gets its own throwaway databases (dropped at the end). Each measured stage runs
in a fresh process so its peak resident memory is its own:

- floor: every source row the warehouse reads, moved out of the portals and into plain
  warehouse tables by binary COPY, no transformation — the fastest this stack moves rows;
- full_load: every asset over every partition in one single-run load, Dagster in-process;
- direct: the same asset functions invoked directly, without a Dagster run;
- dagster_cli: the same full load through `smart-warehouse load` with a persistent
  (SQLite) Dagster instance, as a user runs it — minus `direct`, Dagster's overhead;
- increment: `simulate --days 1`, then the nightly schedule's run (dimensions, the new day,
  the changed days of each source); repeated night after night, on the warehouse that
  dagster_cli left loaded (or on a fresh full load when that stage was not run); the
  median of three consecutive nights, whatever --repeat says;
- cdc: change data capture on a private cluster with wal_level = logical (the shared
  server runs replica): the same world seeded and loaded there, publications and slots set
  up, then applications submitted and decided at ``--cdc-rate`` row changes a second for
  ``--cdc-seconds`` while the consumer makes one pass every ``--cdc-tick`` seconds (the
  sensor's 15 s by default); reports commit-to-warehouse latency p50/p95 (portal commit
  time to warehouse commit) and the changes applied per second. Run once, whatever --repeat.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from benchmarks import workbench

STAGES = ("floor", "full_load", "direct", "dagster_cli", "increment", "cdc")


def measure(scale: float, repeat: int, stages: tuple[str, ...], cdc_args: tuple[str, ...] = ()) -> list[dict]:
    prefix = workbench.prefix_for(scale)
    results = []
    try:
        results.append(workbench.run_stage(scale, "setup", prefix))
        for stage in (s for s in STAGES if s in stages):
            if stage == "increment":  # it changes the portals: consecutive nights are its repeats
                results.append(workbench.run_stage(scale, stage, prefix, "--nights", str(workbench.NIGHTS)))
                continue
            if stage == "cdc":  # a minute of writing already gives thousands of latencies
                results.append(workbench.run_stage(scale, stage, prefix, *cdc_args))
                continue
            runs = [workbench.run_stage(scale, stage, prefix) for _ in range(repeat)]
            best = workbench.median_run(runs)
            best["runs_seconds"] = [r["seconds"] for r in runs]
            results.append(best)
    finally:
        workbench.drop_all(prefix)
    seconds = {r["stage"]: r["seconds"] for r in results}
    for r in results:
        r["ratio_to_floor"] = round(r["seconds"] / seconds["floor"], 2) if "floor" in seconds and r["stage"] != "setup" else None
        if r["stage"] == "dagster_cli" and "direct" in seconds:
            r["dagster_overhead_seconds"] = round(r["seconds"] - seconds["direct"], 1)
    return results


def print_table(rows: list[dict]) -> None:
    print(f"\n{'scale':>6} {'days':>5} {'stage':<12} {'rows':>12} {'seconds':>9} {'rows/s':>10} {'x floor':>8} {'peak MB':>8}")
    for r in rows:
        ratio = "" if r.get("ratio_to_floor") is None else f"{r['ratio_to_floor']:.2f}"
        print(f"{r['scale']:>6} {r['days']:>5} {r['stage']:<12} {r['rows']:>12,} {r['seconds']:>9.1f} "
              f"{r['rows_per_s']:>10,.0f} {ratio:>8} {r['peak_rss_mb']:>8.0f}")
    for r in rows:
        if r["stage"] == "full_load" and r.get("per_asset_seconds"):
            slowest = sorted(r["per_asset_seconds"].items(), key=lambda kv: -kv[1])[:5]
            loads = sum(r["per_asset_seconds"].values())
            print(f"  scale {r['scale']} full load: the loads' own transactions {loads:.1f}s, checks and Dagster "
                  f"{r['seconds'] - loads:.1f}s; slowest: " + ", ".join(f"{a} {s:.1f}s" for a, s in slowest))
        if r["stage"] == "direct" and r.get("per_asset_peak_rise_mb"):
            rises = sorted(r["per_asset_peak_rise_mb"].items(), key=lambda kv: -kv[1])[:5]
            print(f"  scale {r['scale']} direct: peak {r['peak_rss_mb']:.0f} MB, raised most by "
                  + ", ".join(f"{a} +{mb:.0f} MB" for a, mb in rises))
        if r["stage"] == "dagster_cli" and "dagster_overhead_seconds" in r:
            print(f"  scale {r['scale']}: Dagster overhead (persistent instance) {r['dagster_overhead_seconds']}s")
        if r["stage"] in ("increment", "cdc"):
            print(f"  scale {r['scale']} {r['stage']}: {r['detail']}")
        if r["stage"] == "increment":
            print(f"  scale {r['scale']} increment: peak {r['peak_rss_mb']:.0f} MB (the nightly runs); the "
                  f"portals' simulated days peaked at {r['simulate_peak_rss_mb']:.0f} MB in their own processes")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="10", help="comma-separated scales (default 10)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per stage; the median is kept")
    parser.add_argument("--days", type=int, default=90,
                        help="days of seeded history (default 90): the size of the history at a given daily volume")
    parser.add_argument("--stages", default=",".join(STAGES),
                        help=f"comma-separated stages to run (default all: {','.join(STAGES)})")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    parser.add_argument("--cdc-seconds", type=float, default=60, help="cdc: seconds the portal writes (default 60)")
    parser.add_argument("--cdc-rate", type=float, default=500, help="cdc: row changes a second (default 500)")
    parser.add_argument("--cdc-tick", type=float, default=None,
                        help="cdc: seconds between consumer passes (default: the sensor's interval, 15)")
    args = parser.parse_args(argv)
    try:
        scales = [float(s) for s in args.scales.split(",")]
    except ValueError:
        parser.error(f"--scales takes numbers separated by commas, not {args.scales!r}")
    stages = tuple(s.strip() for s in args.stages.split(",") if s.strip())
    if any(s <= 0 or s > 100 for s in scales) or not 1 <= args.repeat <= 9:
        parser.error("scales must lie in (0, 100] and --repeat in 1..9")
    if not 7 <= args.days <= 3660:
        parser.error("--days must lie in 7..3660")
    os.environ[workbench.DAYS_ENV] = str(args.days)
    if not stages or set(stages) - set(STAGES):
        parser.error(f"--stages takes some of {', '.join(STAGES)}")
    rows = []
    for scale in scales:
        cdc_args = ("--seconds", str(args.cdc_seconds), "--rate", str(args.cdc_rate),
                    *(("--tick", str(args.cdc_tick)) if args.cdc_tick is not None else ()))
        rows += measure(scale, args.repeat, stages, cdc_args)
        print_table([r for r in rows if r["scale"] == scale])  # as soon as the scale is done
    print_table(rows)
    if args.json:
        args.json.write_text(json.dumps({"machine": workbench.machine(), "results": rows}, indent=2, default=str))
        print(f"\nwritten: {args.json}")


if __name__ == "__main__":
    main()
