"""Extraction into staging, once for every source: land, validate, quarantine, replace.

1. The source rows stream as binary COPY into a temporary landing table (no row loop).
2. Optional look-ups fetch columns from another portal for exactly the landed keys: the
   keys stream into a temporary table there, the joined rows stream back.
3. One set-based pass tags each row with the first rule it breaks (or none).
4. In one warehouse transaction, under the asset's lock: the staging rows and quarantined
   rows of the covered days (or the whole table, for dimension sources) are replaced,
   and the batch is marked successful. A failure anywhere rolls all of it back.
"""

from __future__ import annotations

import re

import psycopg
from psycopg import sql

from smart_warehouse_assets.batches import Batch, lock_asset
from smart_warehouse_assets.partition_metadata import DayFigures
from smart_warehouse_assets.partitions import DayRange
from smart_warehouse_assets.resources import PostgresResource, copy_between
from smart_warehouse_assets.sources.registry import Lookup, PortalTable


def _column_names(ddl: str) -> list[str]:
    """Column names of "a uuid, b numeric(12,2), ..." (commas inside parentheses are not separators)."""
    return [part.split()[0] for part in re.split(r",(?![^()]*\))", ddl) if part.strip()]


def _temp_table(conn: psycopg.Connection, name: str, ddl: str) -> None:
    conn.execute(
        sql.SQL("CREATE TEMP TABLE {} ({}) ON COMMIT DROP").format(sql.Identifier(name), sql.SQL(ddl))
    )


def _land(entry: PortalTable, source: PostgresResource, wh: psycopg.Connection, days: DayRange | None) -> int:
    landing = entry.staging.landing_ddl
    _temp_table(wh, "land", landing)
    params = {"start": days.start, "end": days.end} if days else None
    with source.connect() as src:
        src.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        return copy_between(src, entry.extraction(), wh, sql.Identifier("land"), _column_names(landing), params)


def _look_up(lookup: Lookup, source: PostgresResource, wh: psycopg.Connection, name: str) -> None:
    _temp_table(wh, name, lookup.landing_ddl)
    columns = _column_names(lookup.landing_ddl)
    with source.connect() as src:
        src.execute("CREATE TEMP TABLE lookup_keys (id uuid PRIMARY KEY) ON COMMIT DROP")
        keys = sql.SQL("SELECT DISTINCT {} FROM land WHERE {} IS NOT NULL").format(
            sql.Identifier(lookup.key_column), sql.Identifier(lookup.key_column)
        )
        copy_between(wh, keys, src, sql.Identifier("lookup_keys"), ["id"])
        src.execute("ANALYZE lookup_keys")
        copy_between(src, sql.SQL(lookup.select), wh, sql.Identifier(name), columns)


_DELETE_STAGED_DAYS = "DELETE FROM staging.{} WHERE partition_date BETWEEN %(first)s AND %(last)s"
_DELETE_REJECTED_DAYS = """
DELETE FROM staging.rejected_rows
WHERE source_database = %(db)s AND source_table = %(table)s
  AND partition_date BETWEEN %(first)s AND %(last)s
"""
# Each extracted row carries its IST day (partition_date) and, when it breaks a rule, its reason.
_PER_DAY = """
SELECT partition_date, count(*), count(*) FILTER (WHERE reject_reason IS NOT NULL)
FROM checked WHERE partition_date IS NOT NULL GROUP BY 1
"""
_DELETE_REJECTED_ALL = """
DELETE FROM staging.rejected_rows WHERE source_database = %(db)s AND source_table = %(table)s
"""
_QUARANTINE = """
INSERT INTO staging.rejected_rows
    (batch_id, source_database, source_table, source_pk, partition_key, partition_date, reason, payload)
SELECT %(batch)s, %(db)s, %(table)s, c.{pk}::text, to_char(c.partition_date, 'YYYY-MM-DD'),
       c.partition_date, c.reject_reason, to_jsonb(c) - 'reject_reason' - 'partition_date'
FROM checked c
WHERE c.reject_reason IS NOT NULL
ON CONFLICT (source_database, source_table, source_pk) DO UPDATE
SET batch_id = EXCLUDED.batch_id, partition_key = EXCLUDED.partition_key,
    partition_date = EXCLUDED.partition_date, reason = EXCLUDED.reason,
    payload = EXCLUDED.payload, rejected_at = EXCLUDED.rejected_at
"""


def extract(
    entry: PortalTable,
    sources: dict[str, PostgresResource],
    warehouse: PostgresResource,
    batch: Batch,
    days: DayRange | None,
    asset_key: str,
) -> Batch:
    """Run the whole extraction for ``days`` (or in full); counts land on ``batch``."""
    spec = entry.staging
    with warehouse.transaction() as wh:
        batch.rows_extracted = _land(entry, sources[entry.portal], wh, days)
        for i, lookup in enumerate(spec.lookups):
            _look_up(lookup, sources[lookup.source_key], wh, f"lookup_{i}")
        wh.execute(sql.SQL("CREATE TEMP TABLE checked ON COMMIT DROP AS {}").format(sql.SQL(spec.checked)))

        lock_asset(wh, asset_key)
        names = {"db": entry.source_database, "table": entry.table, "batch": batch.batch_id}
        target = sql.Identifier(spec.staging_table)
        if entry.partitioned:
            span = {"first": days.first, "last": days.last}
            wh.execute(sql.SQL(_DELETE_STAGED_DAYS).format(target), span)
            wh.execute(_DELETE_REJECTED_DAYS, names | span)
        else:
            wh.execute(sql.SQL("DELETE FROM staging.{}").format(target))
            wh.execute(_DELETE_REJECTED_ALL, names)
        batch.rows_rejected = wh.execute(
            sql.SQL(_QUARANTINE).format(pk=sql.Identifier(spec.pk)), names
        ).rowcount
        if entry.partitioned:
            for day, extracted, rejected in wh.execute(_PER_DAY).fetchall():
                batch.per_day[day] = DayFigures(extracted=extracted, rejected=rejected)

        cols = sql.SQL(", ").join(map(sql.Identifier, (*spec.stage_columns, "etl_batch_id")))
        updates = sql.SQL(", ").join(
            sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c))
            for c in (*spec.stage_columns, "etl_batch_id") if c != spec.pk
        )
        insert = sql.SQL(
            "INSERT INTO staging.{target} ({cols}) SELECT s.*, %(batch)s FROM ({stage}) s "
            "ON CONFLICT ({pk}) DO UPDATE SET {updates}"
        ).format(target=target, cols=cols, stage=sql.SQL(spec.stage), pk=sql.Identifier(spec.pk), updates=updates)
        batch.rows_loaded = wh.execute(insert, names).rowcount
        wh.execute(sql.SQL("ANALYZE staging.{}").format(target))
        batch.succeed(wh)
    return batch
