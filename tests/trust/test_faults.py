"""The load survives faults with nothing lost or doubled.

Two of the issue's faults are tested where the load itself is tested:
- a process killed (SIGKILL) in the middle of writing a range: the warehouse keeps exactly
  the previous rows, etl_batches shows the batch not successful, the next run completes —
  tests/warehouse/test_killed_run.py;
- the warehouse rejecting a write (a constraint): the partition is rolled back whole —
  tests/warehouse/test_load.py::test_a_rejected_write_rolls_the_partition_back_whole.
The others are here.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import date

import dagster as dg
import psycopg
import pytest
from psycopg import sql

from smart_warehouse_assets.settings import dbname_of, derived_url
from tests.conftest import LAST_DAY, TEST_START, kill_load_while_blocked, load_warehouse
from tests.operations.helpers import training_days
from tests.trust.conftest import cli_env, count, wait_for
from tests.warehouse.helpers import DIMENSIONS, FACTS, contents, rows

STAGING = ("citizens", "schemes", "departments", "service_applications", "processing_actions", "predictions")


def _snapshot(wh: str) -> dict[str, list]:
    """Every warehouse table's rows without what names a load (batch ids, quarantine ids and times)."""
    out = {t: contents(wh, t) for t in (*DIMENSIONS, *FACTS)}
    out |= {f"staging.{t}": contents(wh, t, "staging") for t in STAGING}
    out["staging.rejected_rows"] = sorted(r[2:-1] for r in contents(wh, "rejected_rows", "staging"))
    return out


def _admin() -> psycopg.Connection:
    return psycopg.connect(derived_url("postgres"), autocommit=True)


def test_a_portal_gone_mid_run_is_retried_then_fails_clearly_leaving_no_partial_day(loaded):
    urls, _ = loaded
    wh, citizen_db = urls["warehouse"], dbname_of(urls["citizen"])
    before = _snapshot(wh)
    batches_before = count(wh, "SELECT max(batch_id) FROM etl_batches")
    gone = threading.Event()

    def take_the_portal_away():
        # Once the extraction is reading service_applications (held up by our lock), the
        # portal stops accepting connections and every session in it is cut.
        wait_for(lambda: count(wh.rsplit("/", 1)[0] + "/postgres",
                               "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock' "
                               "AND query LIKE 'COPY%%service_applications%%'", (citizen_db,)),
                 what="the extraction to read service_applications")
        with _admin() as admin:
            admin.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS false").format(sql.Identifier(citizen_db)))
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (citizen_db,))
        gone.set()

    saboteur = threading.Thread(target=take_the_portal_away, daemon=True)
    locker = psycopg.connect(urls["citizen"])
    try:
        locker.execute("LOCK TABLE service_applications IN ACCESS EXCLUSIVE MODE")
        saboteur.start()
        result = load_warehouse(urls, TEST_START, LAST_DAY, raise_on_error=False)
    finally:
        saboteur.join(timeout=5)
        locker.close()
        with _admin() as admin:
            admin.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS true").format(sql.Identifier(citizen_db)))
    assert gone.is_set() and not result.success

    events = result.all_events
    retried = {e.step_key for e in events if e.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY}
    failed = {e.step_key: e.step_failure_data.error for e in events if e.is_step_failure}
    assert "staging__service_applications" in retried and "staging__service_applications" in failed
    error, reasons = failed["staging__service_applications"], []
    while error is not None:
        reasons.append(error.message)
        error = error.cause
    assert "Exceeded max_retries" in reasons[0]
    assert any(f"Cannot connect to database {citizen_db!r}" in r and "not currently accepting connections" in r
               for r in reasons), reasons
    # Nothing downstream of the lost source ran; no day is half replaced anywhere.
    done = {e.asset_key.to_user_string() for e in events if e.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION}
    assert not done & {"staging/service_applications", "fact_service_applications", "agg_daily_applications"}
    assert _snapshot(wh) == before
    statuses = dict(rows(wh, "SELECT asset_key, status FROM etl_batches WHERE batch_id > %s AND asset_key = "
                             "'staging/service_applications'", (batches_before,)))
    assert statuses == {"staging/service_applications": "failed"}


@pytest.mark.parametrize("order", ["earlier_first", "later_first"])
def test_two_overlapping_backfills_one_after_the_other_end_like_one_clean_load(make_database_set, seeded_template,
                                                                              loaded_template, order):
    # Earlier days first: the later run's actions breach the SLA of applications submitted
    # before its range (agg_daily_applications of days the first run loaded). Later days
    # first: the earlier run's applications are decided on days of the later range
    # (agg_daily_decisions of days the first run loaded), and belong to the history of its
    # applicants' later predictions (the training set). Neither run's range holds those days.
    urls = make_database_set(template=seeded_template[0])
    ranges = [(TEST_START, date(2026, 9, 9)), (date(2026, 9, 5), LAST_DAY)]
    for first, last in ranges if order == "earlier_first" else ranges[::-1]:
        assert load_warehouse(urls, first, last).success
    got, want = _snapshot(urls["warehouse"]), _snapshot(loaded_template[0]["warehouse"])
    for table in want:
        assert got[table] == want[table], table
    assert training_days(urls["warehouse"]) == training_days(loaded_template[0]["warehouse"])
    # The case arose: the second run's aggregate wrote rows of days outside its range.
    table, (first, last) = (("agg_daily_applications", ranges[1]) if order == "earlier_first"
                            else ("agg_daily_decisions", ranges[0]))
    outside = count(urls["warehouse"], sql.SQL(
        "SELECT count(*) FROM {} t JOIN etl_batches b ON b.batch_id = t.etl_batch_id "
        "WHERE b.partition_start = %s AND b.partition_end = %s "
        "AND to_date(t.date_key::text, 'YYYYMMDD') NOT BETWEEN %s AND %s").format(sql.Identifier(table)),
        (first, last, first, last))
    assert outside > 0


def test_two_overlapping_backfills_at_once_end_like_one_clean_load(make_database_set, seeded_template,
                                                                   loaded_template, tmp_path):
    urls = make_database_set(template=seeded_template[0])
    ranges = [(TEST_START, date(2026, 9, 9)), (date(2026, 9, 5), LAST_DAY)]
    procs = [
        subprocess.Popen([sys.executable, "-m", "smart_warehouse_assets.cli", "load", "--start", first.isoformat(),
                          "--end", last.isoformat()], env=cli_env(urls, tmp_path / f"home{i}"),
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for i, (first, last) in enumerate(ranges)
    ]
    outputs = [p.communicate(timeout=600)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    clean = loaded_template[0]["warehouse"]
    got, want = _snapshot(urls["warehouse"]), _snapshot(clean)
    for table in want:
        assert got[table] == want[table], table
    assert count(urls["warehouse"], "SELECT count(*) FROM etl_batches WHERE status <> 'success'") == 0
    # The two runs did overlap in time (each asset's loads queue on its advisory lock).
    spans = rows(urls["warehouse"], "SELECT run_id, min(started_at), max(finished_at) FROM etl_batches GROUP BY 1")
    assert len(spans) == 2 and max(s[1] for s in spans) < min(s[2] for s in spans)


def test_a_dimension_merge_interrupted_midway_leaves_one_current_row_per_key(loaded, tmp_path):
    urls, _ = loaded
    wh = urls["warehouse"]
    moved = [str(c) for (c,) in rows(urls["citizen"], "SELECT citizen_id FROM citizens ORDER BY citizen_id LIMIT 2")]
    with psycopg.connect(urls["citizen"]) as conn:
        conn.execute("UPDATE citizens SET district = 'Nashik', updated_at = '2026-09-10 12:00+05:30' "
                     "WHERE citizen_id = ANY(%s::uuid[])", (moved,))
    before = contents(wh, "dim_citizen")
    # The merge closes the changed members' current versions in one UPDATE; holding one of
    # those rows stops it there, with the other possibly closed already.
    kill_load_while_blocked(urls, tmp_path, ["load", "--start", "2026-09-10", "--end", "2026-09-10"],
                            hold="SELECT 1 FROM dim_citizen WHERE citizen_id = %s AND is_current FOR UPDATE",
                            hold_params=(moved[1],), blocked_on="%UPDATE public.%dim_citizen%",
                            what="the merge to block half way")
    one_current = """SELECT count(*) FROM (SELECT citizen_id FROM dim_citizen WHERE citizen_key <> -1
                     GROUP BY 1 HAVING count(*) FILTER (WHERE is_current) <> 1) x"""
    assert count(wh, one_current) == 0
    assert contents(wh, "dim_citizen") == before
    assert rows(wh, "SELECT status FROM etl_batches WHERE asset_key = 'dim_citizen' ORDER BY batch_id DESC LIMIT 1") \
        == [("running",)]

    result = load_warehouse(urls, date(2026, 9, 10), date(2026, 9, 10),
                            selection=dg.AssetSelection.assets(["staging", "citizens"], "dim_citizen"))
    assert result.success
    assert count(wh, one_current) == 0
    assert rows(wh, "SELECT citizen_id::text, count(*), count(*) FILTER (WHERE is_current AND district = 'Nashik') "
                    "FROM dim_citizen WHERE citizen_id = ANY(%s::uuid[]) GROUP BY 1 ORDER BY 1", (moved,)) \
        == [(c, 2, 1) for c in sorted(moved)]
