"""A load that replaces a whole fact builds its secondary indexes after the rows, atomically.

The indexes come back with the same definitions; a failure mid-load leaves the old rows with
their indexes; a reader holding the table keeps the load on the ordinary path instead of
waiting for it (or making it wait) until the reader is done.
"""

from __future__ import annotations

import threading

import dagster as dg
import psycopg

from tests.conftest import LAST_DAY, TEST_START, load_warehouse
from tests.warehouse.helpers import contents, rows

FACT = "fact_service_applications"
ONLY_FACT = dg.AssetSelection.assets(dg.AssetKey(FACT))


def _indexes(url: str) -> list[tuple[str, str]]:
    return rows(url, "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = %s "
                     "ORDER BY 1", (FACT,))


def _index_objects(url: str) -> dict[str, int]:
    """Each index's object id: a new id means the index was built anew."""
    return dict(rows(url, "SELECT indexrelname, indexrelid FROM pg_stat_user_indexes WHERE relname = %s", (FACT,)))


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
