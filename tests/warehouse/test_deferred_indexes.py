"""A load that replaces a whole fact builds its secondary indexes after the rows, atomically.

The indexes come back with the same definitions; a failure mid-load leaves the old rows with
their indexes; a reader holding the table keeps the load on the ordinary path instead of
waiting for it (or making it wait) until the reader is done; a few rows of a later day (what
a change-driven run stages of today) do not keep a reload of every day off this path.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import dagster as dg
import psycopg

from tests.conftest import LAST_DAY, TEST_START, load_warehouse
from tests.warehouse.helpers import contents, rows

FACT = "fact_service_applications"
ONLY_FACT = dg.AssetSelection.assets(dg.AssetKey(FACT))


def _indexes(url: str) -> list[tuple[str, str]]:
    return rows(url, "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = %s "
                     "ORDER BY 1", (FACT,))


def _index_objects(url: str, table: str = f"public.{FACT}") -> dict[str, int]:
    """Each index's object id: a new id means the index was built anew."""
    return dict(rows(url, "SELECT indexrelname, indexrelid FROM pg_stat_user_indexes "
                          "WHERE schemaname = %s AND relname = %s", tuple(table.split("."))))


def test_a_whole_reload_builds_the_same_indexes_and_a_failure_keeps_the_old_ones(loaded):
    urls = loaded[0]
    wh = urls["warehouse"]
    before_rows, before_indexes, oids = contents(wh, FACT), _indexes(wh), _index_objects(wh)
    assert len(before_indexes) > 2  # the key and several secondary indexes

    assert load_warehouse(urls, TEST_START, LAST_DAY, selection=ONLY_FACT).success
    assert contents(wh, FACT) == before_rows
    assert _indexes(wh) == before_indexes
    rebuilt = _index_objects(wh)
    # Every index, the key's included, is a new object: built after the rows.
    assert rebuilt.keys() == oids.keys() and not set(rebuilt.values()) & set(oids.values())

    # A row the table refuses half-way through: the load fails, the old rows and indexes stay.
    with psycopg.connect(wh) as conn:
        conn.execute(f"ALTER TABLE {FACT} ADD CONSTRAINT refuse_rejected CHECK (status <> 'rejected') NOT VALID")
    failed = load_warehouse(urls, TEST_START, LAST_DAY, selection=ONLY_FACT, raise_on_error=False)
    assert not failed.success
    with psycopg.connect(wh) as conn:
        conn.execute(f"ALTER TABLE {FACT} DROP CONSTRAINT refuse_rejected")
    assert contents(wh, FACT) == before_rows
    assert _indexes(wh) == before_indexes
    assert _index_objects(wh) == rebuilt


def test_a_reader_holding_the_fact_does_not_stall_a_whole_reload(loaded):
    urls = loaded[0]
    wh = urls["warehouse"]
    before_rows, before_indexes, oids = contents(wh, FACT), _indexes(wh), _index_objects(wh)
    done: list = []
    with psycopg.connect(wh) as reader:  # an analyst's open transaction that has read the fact
        reader.execute(f"SELECT count(*) FROM {FACT}").fetchone()
        loader = threading.Thread(target=lambda: done.append(
            load_warehouse(urls, TEST_START, LAST_DAY, selection=ONLY_FACT).success), daemon=True)
        loader.start()
        loader.join(timeout=300)
        assert done == [True]  # finished while the reader still holds the table
        reader.rollback()
    assert contents(wh, FACT) == before_rows
    assert _indexes(wh) == before_indexes
    # The ordinary path: the indexes were kept up to date, not built anew.
    assert _index_objects(wh) == oids


ACTION_TABLES = ("staging.processing_actions", "public.fact_application_processing")
ACTIONS = dg.AssetSelection.assets(dg.AssetKey.from_user_string("staging/processing_actions"),
                                   dg.AssetKey("fact_application_processing"))
_DAYS_OF = {"staging.processing_actions": "SELECT action_id, partition_date FROM staging.processing_actions "
                                         "WHERE action_id = ANY(%s) ORDER BY 1, 2",
            "public.fact_application_processing": "SELECT action_id, to_date(action_date_key::text, 'YYYYMMDD') "
                                                  "FROM fact_application_processing WHERE action_id = ANY(%s) "
                                                  "ORDER BY 1, 2"}


def test_a_reload_of_every_day_keeps_a_later_sliver_takes_its_moved_rows_over_and_builds_indexes_after(loaded):
    # The nightly run stages what changed in its window whatever the day, so a few rows of
    # today lie after the last partition the weekly reload replaces. Here two actions move to
    # the day after the loaded days and that day alone is loaded (most of each table lies
    # outside it: the ordinary path); then one moves back and every loaded day is reloaded.
    urls, _ = loaded
    wh = urls["warehouse"]
    later = LAST_DAY + timedelta(days=1)
    with psycopg.connect(urls["dept"]) as dept:
        moved = sorted(a for (a,) in dept.execute(
            "UPDATE processing_actions SET action_at = action_at + interval '1 day', updated_at = now() "
            "WHERE action_id IN (SELECT action_id FROM processing_actions WHERE status <> 'deleted' "
            "AND (action_at AT TIME ZONE 'Asia/Kolkata')::date = %s ORDER BY action_id LIMIT 2) "
            "RETURNING action_id", (LAST_DAY,)))
    assert len(moved) == 2
    staged = rows(wh, "SELECT count(*) FROM staging.processing_actions")
    before = {t: _index_objects(wh, t) for t in ACTION_TABLES}

    assert load_warehouse(urls, later, later, selection=ACTIONS).success
    for table in ACTION_TABLES:
        assert rows(wh, _DAYS_OF[table], (moved,)) == [(a, later) for a in moved], table
        assert _index_objects(wh, table) == before[table], table  # kept up to date, not rebuilt

    with psycopg.connect(urls["dept"]) as dept:
        dept.execute("UPDATE processing_actions SET action_at = action_at - interval '1 day', updated_at = now() "
                     "WHERE action_id = %s", (moved[0],))
    assert load_warehouse(urls, TEST_START, LAST_DAY, selection=ACTIONS).success
    for table in ACTION_TABLES:
        # The row that moved back is taken over (once, on its day), the other stays where it is.
        assert rows(wh, _DAYS_OF[table], (moved,)) == [(moved[0], LAST_DAY), (moved[1], later)], table
        rebuilt = _index_objects(wh, table)
        assert rebuilt.keys() == before[table].keys() and not set(rebuilt.values()) & set(before[table].values())
    assert rows(wh, "SELECT count(*) FROM staging.processing_actions") == staged
    assert rows(wh, "SELECT count(*) FROM fact_application_processing") == staged
