"""One benchmark stage in its own process; prints one JSON line with its figures."""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta

import psycopg
from psycopg import sql

from benchmarks import workbench
from smart_warehouse_assets.migrations import ensure_database, migrate
from smart_warehouse_assets.paths import SQL_ROOT
from smart_warehouse_assets.sources.registry import STAGED

# The rows each extracted portal table gives the warehouse, with the columns its registry
# entry reads, moved as is (ml_models reaches the warehouse as columns of predictions).
FLOOR_SOURCES = {entry.table: (entry.portal, entry.floor()) for entry in STAGED}


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def setup(scale: float, prefix: str) -> dict:
    from smart_warehouse_assets.synthetic import seed

    urls = workbench.urls(prefix)
    tmpl = workbench.template_url(prefix)
    for key, url in (*urls.items(), ("warehouse", tmpl)):
        ensure_database(url)
        migrate(url, SQL_ROOT / key)
    started = time.perf_counter()
    manifest = seed({k: v for k, v in urls.items() if k != "warehouse"}, scale=scale,
                    start=workbench.seed_start(), days=workbench.days(), log=lambda *_: None)
    seconds = time.perf_counter() - started
    rows = sum(manifest["rows"].values())
    return {"stage": "setup", "rows": rows, "seconds": seconds, "detail": "seed of the four portals"}


def floor(scale: float, prefix: str) -> dict:
    """Read every needed source row and write it, untransformed, by binary COPY."""
    urls = workbench.urls(prefix)
    workbench.recreate_warehouse(prefix)
    rows = 0
    with psycopg.connect(urls["warehouse"], autocommit=True) as wh:
        started = time.perf_counter()
        for table, (portal, select) in FLOOR_SOURCES.items():
            with psycopg.connect(urls[portal]) as src:
                target = sql.Identifier(f"floor_{table}")
                columns = src.execute(sql.SQL("SELECT * FROM ({}) s LIMIT 0").format(select)).description
                ddl = sql.SQL(", ").join(
                    sql.SQL("{} {}").format(sql.Identifier(f"c{i}"), sql.SQL(_pg_type(src, c.type_code)))
                    for i, c in enumerate(columns))
                wh.execute(sql.SQL("CREATE TABLE {} ({})").format(target, ddl))
                with src.cursor().copy(sql.SQL("COPY ({}) TO STDOUT (FORMAT binary)").format(select)) as cin, \
                        wh.cursor().copy(sql.SQL("COPY {} FROM STDIN (FORMAT binary)").format(target)) as cout:
                    for block in cin:
                        cout.write(block)
                rows += wh.execute(sql.SQL("SELECT count(*) FROM {}").format(target)).fetchone()[0]
        seconds = time.perf_counter() - started
    return {"stage": "floor", "rows": rows, "seconds": seconds, "detail": "binary COPY portal -> warehouse"}


def _pg_type(conn: psycopg.Connection, oid: int) -> str:
    return conn.execute("SELECT format_type(%s, NULL)", (oid,)).fetchone()[0]


def _load_rows(prefix: str) -> int:
    with psycopg.connect(workbench.urls(prefix)["warehouse"]) as wh:
        return wh.execute("SELECT coalesce(sum(rows_extracted), 0) FROM etl_batches "
                          "WHERE status = 'success' AND asset_key LIKE 'staging/%'").fetchone()[0]


def _per_asset(prefix: str) -> dict[str, float]:
    with psycopg.connect(workbench.urls(prefix)["warehouse"]) as wh:
        return {a: round(s, 2) for a, s in wh.execute(
            "SELECT asset_key, extract(epoch FROM finished_at - started_at)::float FROM etl_batches "
            "WHERE status = 'success'")}


def _range() -> tuple[str, str]:
    """Every partition: from the first seeded day to yesterday (IST), as `smart-warehouse load` takes them."""
    from smart_warehouse_assets.partitions import IST

    yesterday = datetime.now(IST).date() - timedelta(days=1)
    return workbench.seed_start().isoformat(), yesterday.isoformat()


def full_load(scale: float, prefix: str) -> dict:
    import dagster as dg

    from smart_warehouse_assets.definitions import build_definitions
    from smart_warehouse_assets.jobs import run_load

    workbench.recreate_warehouse(prefix)
    first, last = _range()
    defs = build_definitions(workbench.urls(prefix))
    with dg.DagsterInstance.ephemeral() as instance:
        started = time.perf_counter()
        run_load(defs, first, last, instance=instance, log_level="WARNING")
        seconds = time.perf_counter() - started
    return {"stage": "full_load", "rows": _load_rows(prefix), "seconds": seconds,
            "per_asset_seconds": _per_asset(prefix), "detail": f"one run over {first}...{last}"}


def direct(scale: float, prefix: str) -> dict:
    """The same asset functions, invoked without a Dagster run, in dependency order."""
    import dagster as dg

    from smart_warehouse_assets.aggregates.daily_applications import agg_daily_applications
    from smart_warehouse_assets.definitions import build_definitions
    from smart_warehouse_assets.dimensions.assets import dimension_assets
    from smart_warehouse_assets.facts.assets import fact_assets
    from smart_warehouse_assets.staging.assets import staging_assets

    workbench.recreate_warehouse(prefix)
    first, last = _range()
    defs = build_definitions(workbench.urls(prefix))
    unbound = {a.key: a for a in (*staging_assets, *dimension_assets, *fact_assets, agg_daily_applications)}
    order = [k for k in defs.resolve_asset_graph().toposorted_asset_keys if k in unbound]
    started = time.perf_counter()
    for key in order:
        assets_def = unbound[key]
        context = dg.build_asset_context(
            resources={k: defs.resources[k] for k in assets_def.required_resource_keys if k in defs.resources},
            partition_key_range=dg.PartitionKeyRange(first, last) if assets_def.partitions_def else None,
        )
        list(assets_def(context))
    seconds = time.perf_counter() - started
    return {"stage": "direct", "rows": _load_rows(prefix), "seconds": seconds,
            "detail": "asset functions called directly (no run, no event log)"}


def dagster_cli(scale: float, prefix: str) -> dict:
    workbench.recreate_warehouse(prefix)
    first, last = _range()
    with tempfile.TemporaryDirectory() as home:
        env = workbench.env_for(prefix, scale) | {"DAGSTER_HOME": home}
        started = time.perf_counter()
        out = subprocess.run([sys.executable, "-m", "smart_warehouse_assets.cli", "load"],
                             env=env, capture_output=True, text=True)
        if out.returncode != 0:
            raise SystemExit(f"smart-warehouse load failed:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
        seconds = time.perf_counter() - started
    return {"stage": "dagster_cli", "rows": _load_rows(prefix), "seconds": seconds,
            "detail": f"smart-warehouse load of {first}...{last}, SQLite instance (process start included)"}


def _loaded(prefix: str) -> bool:
    """Whether the warehouse holds a full load whose watermarks were recorded."""
    with psycopg.connect(workbench.urls(prefix)["warehouse"]) as wh:
        return wh.execute("SELECT count(*) FROM etl_watermarks").fetchone()[0] > 0


def simulate_night(scale: float, prefix: str) -> dict:
    """One more day in the portals (the portals' doing, not the warehouse's: its own process)."""
    from smart_warehouse_assets.synthetic.simulator import simulate

    urls = {k: v for k, v in workbench.urls(prefix).items() if k != "warehouse"}
    started = time.perf_counter()
    summary = simulate(urls, days=1, log=lambda *_: None)
    return {"stage": "simulate_night", "rows": 0, "seconds": time.perf_counter() - started,
            "detail": summary["days"][-1]}


def increment(scale: float, prefix: str, nights: int = 1) -> dict:
    """Night after night: simulate a day in the portals, then the nightly schedule's run for it
    (dimensions, the new day, the changed days of each source), as the daemon would launch it."""
    import statistics

    import dagster as dg

    from smart_warehouse_assets.definitions import build_definitions, database_resources
    from smart_warehouse_assets.jobs import run_load, run_request
    from smart_warehouse_assets.operations import changes
    from smart_warehouse_assets.operations.schedules import nightly_incremental
    from smart_warehouse_assets.partitions import IST, parse_day

    urls = workbench.urls(prefix)
    defs = build_definitions(urls)
    res = database_resources(urls)
    portals = {k: res[f"{k}_db"] for k in ("citizen", "dept", "aiml")}
    runs = []
    reused = _loaded(prefix)
    with dg.DagsterInstance.ephemeral() as instance:
        if not reused:  # the CLI stage leaves a full load with its watermarks; else make one
            workbench.recreate_warehouse(prefix)
            first, last = _range()
            full = changes.plan(portals, res["warehouse"], full=True)
            run_load(defs, first, last, instance=instance, log_level="WARNING")
            changes.advance(res["warehouse"], full.window, "bench-full")
        for _ in range(nights):
            day = parse_day(workbench.run_stage(scale, "simulate_night", prefix)["detail"])
            at = datetime.combine(day + timedelta(days=1), datetime.min.time(), IST).replace(hour=1, minute=30)
            started = time.perf_counter()
            # The schedule wants an instance it can reference; the run uses the in-memory one,
            # as the full_load stage does, so the two measure the same thing.
            with tempfile.TemporaryDirectory() as home, dg.DagsterInstance.local_temp(home) as scheduler, \
                    dg.build_schedule_context(instance=scheduler, scheduled_execution_time=at, resources=res) as context:
                request = nightly_incremental(context)
            result = run_request(defs, request, instance=instance, log_level="WARNING")
            seconds = time.perf_counter() - started
            changes.advance(res["warehouse"], changes.window_of(request.tags), result.run_id)
            with psycopg.connect(urls["warehouse"]) as wh:
                batches = wh.execute("SELECT asset_key, partition_key, rows_extracted FROM etl_batches "
                                     "WHERE run_id = %s AND asset_key LIKE 'staging/%%' ORDER BY asset_key",
                                     (result.run_id,)).fetchall()
            runs.append({"day": day.isoformat(), "seconds": seconds, "rows": sum(n or 0 for *_, n in batches),
                         "spans": {a: span for a, span, _ in batches if span is not None}})
    median = workbench.median_run(runs)
    spans = "; ".join(f"{a.split('/')[1]} {d}" for a, d in median["spans"].items())
    return {"stage": "increment", "rows": median["rows"], "seconds": median["seconds"],
            "runs_seconds": [round(r["seconds"], 2) for r in runs],
            "seconds_spread": round(statistics.pstdev(r["seconds"] for r in runs), 2),
            "reused_cli_load": reused,
            "detail": f"nightly run for {median['day']} (median of {len(runs)} nights); "
                      f"rows = the staging rows read (a change-driven run merges the changed rows within each "
                      f"source's span: {spans})"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("stage", choices=["setup", "floor", "full_load", "direct", "dagster_cli", "increment", "simulate_night"])
    parser.add_argument("--scale", type=float, required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--nights", type=int, default=1, help="increment: nights simulated and loaded")
    args = parser.parse_args()
    extra = {"nights": args.nights} if args.stage == "increment" else {}
    result = globals()[args.stage](args.scale, args.prefix, **extra)
    result["rows"] = int(result["rows"])
    result |= {"scale": args.scale, "days": workbench.days(), "peak_rss_mb": round(_peak_mb(), 1),
               "rows_per_s": round(result["rows"] / result["seconds"]) if result["seconds"] else 0}
    print(json.dumps(result, default=str))


if __name__ == "__main__":
    main()
