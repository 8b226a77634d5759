"""One benchmark stage in its own process; prints one JSON line with its figures."""

from __future__ import annotations

import argparse
import json
import os
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


def _peak_mb(who: tuple[int, ...] = (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)) -> float:
    """The largest peak among ``who``: by default this process's or its largest child's
    (dagster_cli's load runs in a child)."""
    return max(resource.getrusage(w).ru_maxrss for w in who) / 1024


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
    from smart_warehouse_assets.aggregates.daily_decisions import agg_daily_decisions
    from smart_warehouse_assets.aggregates.model_performance import agg_model_performance
    from smart_warehouse_assets.definitions import build_definitions
    from smart_warehouse_assets.dimensions.assets import dimension_assets
    from smart_warehouse_assets.facts.assets import fact_assets
    from smart_warehouse_assets.ml.training_set import training_eligibility_scoring
    from smart_warehouse_assets.staging.assets import staging_assets

    workbench.recreate_warehouse(prefix)
    first, last = _range()
    defs = build_definitions(workbench.urls(prefix))
    unbound = {a.key: a for a in (*staging_assets, *dimension_assets, *fact_assets, agg_daily_applications,
                                  agg_daily_decisions, agg_model_performance, training_eligibility_scoring)}
    order = [k for k in defs.resolve_asset_graph().toposorted_asset_keys if k in unbound]
    started = time.perf_counter()
    per_asset, peak_rise = {}, {}
    for key in order:
        asset_started, peak_before = time.perf_counter(), _peak_mb()
        assets_def = unbound[key]
        context = dg.build_asset_context(
            resources={k: defs.resources[k] for k in assets_def.required_resource_keys if k in defs.resources},
            partition_key_range=dg.PartitionKeyRange(first, last) if assets_def.partitions_def else None,
        )
        list(assets_def(context))
        per_asset[key.to_user_string()] = round(time.perf_counter() - asset_started, 2)
        peak_rise[key.to_user_string()] = round(_peak_mb() - peak_before, 1)
    seconds = time.perf_counter() - started
    # Per asset: the wall time of its function, its checks included (full_load: its batches only).
    # Per asset: how far it raised the process's peak memory (what holds rows in Python).
    return {"stage": "direct", "rows": _load_rows(prefix), "seconds": seconds, "per_asset_seconds": per_asset,
            "per_asset_peak_rise_mb": {k: v for k, v in peak_rise.items() if v > 0},
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


def _local_instance(home: str):
    """The Dagster instance `smart-warehouse` sets up in a new DAGSTER_HOME (jobs.ensure_dagster_home)."""
    from pathlib import Path

    import dagster as dg

    from smart_warehouse_assets.jobs import EVENT_BATCH_SIZE, local_instance_config

    os.environ.setdefault("DAGSTER_EVENT_BATCH_SIZE", EVENT_BATCH_SIZE)
    Path(home, "dagster.yaml").write_text(local_instance_config(Path(home)))
    return dg.DagsterInstance.from_config(home)


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
    # The nightly runs on an instance that keeps its history, as the daemon's does: the one
    # `smart-warehouse` makes for a local home (SQLite files, the batched event log).
    with tempfile.TemporaryDirectory() as instance_home, _local_instance(instance_home) as instance:
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
            with dg.build_schedule_context(instance=instance, scheduled_execution_time=at, resources=res) as context:
                request = nightly_incremental(context)
            result = run_request(defs, request, instance=instance, log_level="WARNING")
            seconds = time.perf_counter() - started
            changes.advance(res["warehouse"], changes.window_of(request.tags), result.run_id)
            with psycopg.connect(urls["warehouse"]) as wh:
                batches = wh.execute("SELECT asset_key, partition_key, rows_extracted FROM etl_batches "
                                     "WHERE run_id = %s AND asset_key LIKE 'staging/%%' ORDER BY asset_key",
                                     (result.run_id,)).fetchall()
                per_asset = {a: round(t, 2) for a, t in wh.execute(
                    "SELECT asset_key, sum(extract(epoch FROM finished_at - started_at))::float FROM etl_batches "
                    "WHERE run_id = %s GROUP BY 1", (result.run_id,))}
            runs.append({"day": day.isoformat(), "seconds": seconds, "rows": sum(n or 0 for *_, n in batches),
                         "spans": {a: span for a, span, _ in batches if span is not None},
                         "per_asset_seconds": per_asset})
    median = workbench.median_run(runs)
    # Its own peak: the portals' simulated days run in child processes, whose peak (the
    # simulator's, not the warehouse's) is reported apart.
    peaks = {"peak_rss_mb": round(_peak_mb((resource.RUSAGE_SELF,)), 1),
             "simulate_peak_rss_mb": round(_peak_mb((resource.RUSAGE_CHILDREN,)), 1)}
    spans = "; ".join(f"{a.split('/')[1]} {d}" for a, d in median["spans"].items())
    return {"stage": "increment", "rows": median["rows"], "seconds": median["seconds"], **peaks,
            "runs_seconds": [round(r["seconds"], 2) for r in runs],
            "seconds_spread": round(statistics.pstdev(r["seconds"] for r in runs), 2),
            "reused_cli_load": reused,
            # Per asset: the wall time of its load transactions in the median night (checks not included).
            "per_asset_seconds": median["per_asset_seconds"],
            "detail": f"nightly run for {median['day']} (median of {len(runs)} nights); "
                      f"rows = the staging rows read (a change-driven run merges the changed rows within each "
                      f"source's span: {spans})"}


# ------------------------------------------------------------------ change data capture

_TEMPLATES = """
SELECT citizen_id, scheme_id, channel, amount_requested FROM service_applications
WHERE submitted_at IS NOT NULL AND citizen_id IS NOT NULL ORDER BY application_id LIMIT 5000
"""
_SUBMIT = """
INSERT INTO service_applications (application_id, application_number, citizen_id, scheme_id, status, channel,
                                  submitted_at, amount_requested, created_at, updated_at, created_by, updated_by)
SELECT gen_random_uuid(), n, c, s, 'submitted', ch, clock_timestamp(), a, clock_timestamp(), clock_timestamp(),
       'bench', 'bench'
FROM unnest(%s::text[], %s::uuid[], %s::uuid[], %s::text[], %s::numeric[]) AS t (n, c, s, ch, a)
"""
# A review or a decision: submitted -> under_review -> approved (or rejected); decided stays decided.
_MOVE = """
UPDATE service_applications t SET
    status = m.next,
    decided_at = CASE WHEN m.next <> t.status AND m.next IN ('approved', 'rejected')
                      THEN greatest(clock_timestamp(), t.submitted_at) ELSE t.decided_at END,
    amount_approved = CASE WHEN m.next <> t.status AND m.next = 'approved' THEN t.amount_requested
                           ELSE t.amount_approved END,
    updated_at = clock_timestamp(), updated_by = 'bench'
FROM (SELECT application_id,
             CASE status WHEN 'submitted' THEN 'under_review'
                         WHEN 'under_review' THEN (CASE WHEN random() < 0.7 THEN 'approved' ELSE 'rejected' END)
                         ELSE status END AS next
      FROM service_applications WHERE application_id = ANY(%s)) m
WHERE t.application_id = m.application_id
"""


def _write_changes(url: str, rate: float, seconds: float, per_tx: int, written: list, done) -> None:
    """The portal's side: applications submitted and moved on at ``rate`` row changes a second,
    ``per_tx`` a transaction, half new submissions and half reviews or decisions."""
    import random

    rng = random.Random(7)
    with psycopg.connect(url, autocommit=True) as conn:
        templates = conn.execute(_TEMPLATES).fetchall()
        movable = [r[0] for r in conn.execute("SELECT application_id FROM service_applications "
                                              "WHERE status IN ('submitted', 'under_review')")]
        serial, start = 0, time.monotonic()
        try:
            while time.monotonic() - start < seconds:
                new = [templates[rng.randrange(len(templates))] for _ in range(per_tx // 2)]
                numbers = [f"BENCH-{serial + i:09d}" for i in range(len(new))]
                serial += len(new)
                with conn.transaction():
                    ids = conn.execute(_SUBMIT + " RETURNING application_id",
                                       (numbers, *(list(col) for col in zip(*new)))).fetchall()
                    moved = rng.sample(movable, min(per_tx - len(new), len(movable)))
                    conn.execute(_MOVE, (moved,))
                movable += [r[0] for r in ids]
                written[0] += len(new) + len(moved)
                pause = start + written[0] / rate - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
        except BaseException as exc:  # handed to the measuring thread, which raises it
            written.append(exc)
        finally:
            done.set()


def cdc(scale: float, prefix: str, seconds: float = 60, rate: float = 500, tick: float | None = None) -> dict:
    """Commit-to-warehouse latency and sustained rate of change data capture: a writer changes
    applications at ``rate`` row changes a second for ``seconds``; the consumer runs one pass
    over the three portals every ``tick`` seconds (the sensor's interval), as the sensor does."""
    import threading

    import dagster as dg

    from smart_warehouse_assets.cdc import live, publications
    from smart_warehouse_assets.definitions import build_definitions, database_resources
    from smart_warehouse_assets.jobs import run_load
    from smart_warehouse_assets.ml.training_set import TRAINING_ENV
    from smart_warehouse_assets.settings import DATABASES, with_dbname
    from smart_warehouse_assets.synthetic import seed

    tick = live.TICK_SECONDS if tick is None else tick
    # The private cluster's warehouse is always cdc_warehouse: its training set goes to a
    # folder of this stage, removed with it, not beside the user's own.
    training = tempfile.TemporaryDirectory(prefix="bench-cdc-training-")
    os.environ[TRAINING_ENV] = training.name
    with training, workbench.logical_cluster(f"bench_cdc_{prefix.split('_')[1]}") as server:
        urls = {}
        with psycopg.connect(server, autocommit=True) as conn:
            for key in DATABASES:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(f"cdc_{key}")))
                urls[key] = with_dbname(server, f"cdc_{key}")
        for key, url in urls.items():
            migrate(url, SQL_ROOT / key)
        seed({k: v for k, v in urls.items() if k != "warehouse"}, scale=scale, start=workbench.seed_start(),
             days=workbench.days(), log=lambda *_: None)
        first, last = _range()
        with dg.DagsterInstance.ephemeral() as instance:
            run_load(build_definitions(urls), first, last, instance=instance, log_level="WARNING")
        for portal in publications.PORTALS:
            publications.setup(urls[portal], portal)
        res = database_resources(urls)
        portals = {p: res[f"{p}_db"] for p in publications.PORTALS}

        written, done = [0], threading.Event()
        writer = threading.Thread(target=_write_changes, args=(urls["citizen"], rate, seconds, 50, written, done))
        latencies, passes, busy = [], 0, 0.0
        started = time.monotonic()
        writer.start()
        while True:
            tick_start = time.monotonic()
            finished = done.is_set()  # read before the pass: a pass after the last write drains it
            results = live.one_pass(portals, res["warehouse"], run_id="bench")
            busy += time.monotonic() - tick_start
            passes += 1
            for r in results:
                latencies += [(r.applied_at - at).total_seconds() for at, n in r.commits for _ in range(n)]
            if finished and not any(r.transactions or r.full for r in results):
                break
            time.sleep(max(0.0, tick - (time.monotonic() - tick_start)))
        elapsed = time.monotonic() - started
        writer.join()
        if len(written) > 1:
            raise written[1]
        with psycopg.connect(urls["warehouse"]) as wh:
            live_rows = wh.execute("SELECT coalesce(sum(applications_submitted), 0) FROM agg_live_applications").fetchone()[0]
    latencies.sort()
    applied = len(latencies)
    pct = (lambda q: round(latencies[min(applied - 1, int(q * applied))], 2)) if applied else (lambda q: None)
    return {"stage": "cdc", "rows": applied, "seconds": elapsed,
            "changes_written": written[0], "changes_applied": applied,
            "written_per_s": round(written[0] / seconds), "applied_per_s": round(applied / elapsed),
            "latency_p50_s": pct(0.50), "latency_p95_s": pct(0.95), "latency_max_s": pct(1.0),
            # What the consumer could sustain: changes applied per second of its own passes.
            "capacity_per_s": round(applied / busy) if busy else None,
            "consumer_busy_share": round(busy / elapsed, 3), "passes": passes, "tick_seconds": tick,
            "live_applications_submitted": int(live_rows),
            "detail": f"{written[0]:,} changes written at {rate:g}/s for {seconds:g} s, a pass every {tick:g} s; "
                      f"latency p50 {pct(0.5)} s, p95 {pct(0.95)} s; consumer busy {busy / elapsed:.0%}, "
                      f"{applied / busy if busy else 0:,.0f} changes per second of its passes"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("stage", choices=["setup", "floor", "full_load", "direct", "dagster_cli", "increment",
                                          "simulate_night", "cdc"])
    parser.add_argument("--scale", type=float, required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--nights", type=int, default=1, help="increment: nights simulated and loaded")
    parser.add_argument("--seconds", type=float, default=60, help="cdc: how long the portal writes")
    parser.add_argument("--rate", type=float, default=500, help="cdc: row changes a second written")
    parser.add_argument("--tick", type=float, default=None, help="cdc: seconds between consumer passes")
    args = parser.parse_args()
    extra = {"nights": args.nights} if args.stage == "increment" else {}
    if args.stage == "cdc":
        extra = {"seconds": args.seconds, "rate": args.rate, "tick": args.tick}
    result = globals()[args.stage](args.scale, args.prefix, **extra)
    result["rows"] = int(result["rows"])
    result.setdefault("peak_rss_mb", round(_peak_mb(), 1))
    result |= {"scale": args.scale, "days": workbench.days(),
               "rows_per_s": round(result["rows"] / result["seconds"]) if result["seconds"] else 0}
    print(json.dumps(result, default=str))


if __name__ == "__main__":
    main()
