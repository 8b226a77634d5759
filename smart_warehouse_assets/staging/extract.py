"""Extraction into staging, once for every source: land, validate, quarantine, replace.

1. The source rows stream as binary COPY into a temporary landing table (no row loop).
2. Optional look-ups fetch columns from another portal for exactly the landed keys: the
   keys stream into a temporary table there, the joined rows stream back.
3. One set-based pass tags each row with the first rule it breaks (or none).
4. In one warehouse transaction, under the asset's lock: the staging rows and quarantined
   rows of the covered days (or the whole table, for dimension sources) are replaced,
   and the batch is marked successful. A failure anywhere rolls all of it back.

:func:`extract_changes` is the row-level variant of a change-driven run (merge.py): it
lands only the rows changed in the watermark window, replaces those keys (not their days)
and queues them for the fact.
"""

from __future__ import annotations

import re
from datetime import date

import psycopg
from psycopg import sql

from smart_warehouse_assets.batches import Batch, lock_asset
from smart_warehouse_assets.deferred_indexes import deferred, rows_outside
from smart_warehouse_assets.merge import queue
from smart_warehouse_assets.operations.changes import Window
from smart_warehouse_assets.partition_metadata import DayFigures
from smart_warehouse_assets.partitions import DayRange
from smart_warehouse_assets.resources import PostgresResource, copy_between
from smart_warehouse_assets.sources.registry import Lookup, PortalTable, lookup_entry
from smart_warehouse_assets.sql_fragments import aliased


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
# After the range's days are deleted: staged rows (of other days) whose key the range stages now.
_DELETE_MOVED_IN = "DELETE FROM staging.{target} s USING checked c WHERE s.{pk} = c.{pk} AND c.reject_reason IS NULL"
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
        span = {"first": days.first, "last": days.last} if entry.partitioned else {}
        table = f"staging.{spec.staging_table}"
        # Replacing every staged row (but a sliver): the table's indexes are built after it
        # (deferred_indexes.py).
        kept = rows_outside(wh, table, "partition_date", days.first, days.last) if entry.partitioned else 0
        with deferred(wh, table, kept is not None) as bare:
            if entry.partitioned:
                wh.execute(sql.SQL(_DELETE_STAGED_DAYS).format(target), span)
                wh.execute(_DELETE_REJECTED_DAYS, names | span)
                if bare and kept:  # a row kept on another day whose key the range stages now moved here
                    wh.execute(sql.SQL(_DELETE_MOVED_IN).format(target=target, pk=sql.Identifier(spec.pk)))
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
            insert = sql.SQL("INSERT INTO staging.{target} ({cols}) SELECT s.*, %(batch)s FROM ({stage}) s").format(
                target=target, cols=cols, stage=sql.SQL(spec.stage))
            if not bare:  # a key staged on a day outside the range is taken over (moved)
                insert += sql.SQL(" ON CONFLICT ({pk}) DO UPDATE SET {updates}").format(
                    pk=sql.Identifier(spec.pk), updates=sql.SQL(", ").join(
                        sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c))
                        for c in (*spec.stage_columns, "etl_batch_id") if c != spec.pk))
            batch.rows_loaded = wh.execute(insert, names).rowcount
        wh.execute(sql.SQL("ANALYZE staging.{}").format(target))
        batch.succeed(wh)
    return batch


# ------------------------------------------------------------------ row-level (merge.py)

_OWN_CHANGES = """
INSERT INTO changed_keys SELECT t.{pk} FROM public.{table} t
WHERE ({scope}) AND t.updated_at > %(since)s AND t.updated_at <= %(until)s AND t.{pk} IS NOT NULL
ON CONFLICT DO NOTHING
"""
# The look-up table's rows changed in its window: their key (or the columns given).
_LOOKUP_CHANGES = "SELECT {cols} FROM public.{table} t WHERE t.updated_at > %(since)s AND t.updated_at <= %(until)s"
_CHANGES_VIA = """
INSERT INTO changed_keys SELECT t.{pk} FROM public.{table} t JOIN changed_via v ON v.id = t.{column}
WHERE ({scope}) AND t.{pk} IS NOT NULL ON CONFLICT DO NOTHING
"""
_CHANGES_WITH = """
INSERT INTO changed_keys SELECT t.{pk} FROM public.{table} t
WHERE ({scope}) AND t.{column} IN (SELECT c.{column} FROM public.{table} c JOIN changed_keys k ON k.id = c.{pk})
ON CONFLICT DO NOTHING
"""
# Rows whose outcome became known by time alone (PortalTable.matures) in the window of its clock.
_MATURED = """
INSERT INTO changed_keys SELECT t.{pk} FROM public.{table} t
WHERE ({scope}) AND ({matures}) > %(since)s AND ({matures}) <= %(until)s AND t.{pk} IS NOT NULL
ON CONFLICT DO NOTHING
"""
# Rows of a group after the earliest old or new place of a changed row (Staging.changes_after).
_CHANGES_AFTER = """
INSERT INTO changed_keys SELECT t.{pk} FROM public.{table} t
JOIN (SELECT DISTINCT ON (g) * FROM (
          SELECT c.{column}, {order_c} FROM public.{table} c JOIN changed_keys k ON k.id = c.{pk}
          UNION ALL SELECT * FROM old_places) p (g, {order_names})
      ORDER BY g, {order_names}) p ON t.{column} = p.g
WHERE ({scope}) AND ({order_t}) > ({order_p}) AND t.{pk} IS NOT NULL
ON CONFLICT DO NOTHING
"""
# The places the changed rows had when staged (the portal knows only where they are now).
_OLD_PLACES = "SELECT s.{column}, {order_s} FROM staging.{target} s JOIN keys_so_far k ON k.id = s.{pk}"
# Of the look-up rows changed in the window, those whose values differ from what is staged
# with some row of theirs, or that no staged row shows yet (Lookup.staged_as).
# (One join and EXCEPT: an OR of correlated EXISTS runs a scan of staging per look-up row.)
_RESTAGED_VIA = """
SELECT v.{key} FROM lookup_changed v
EXCEPT
SELECT v.{key} FROM lookup_changed v JOIN staging.{target} s ON s.{key_column} = v.{key}
GROUP BY v.{key} HAVING bool_and(({staged}) IS NOT DISTINCT FROM ({looked_up}))
"""
# Another column of the staged rows whose keys changed (queue_by).
_STAGED_OF_KEYS = "SELECT s.{column} FROM staging.{target} s JOIN changed_keys k ON s.{pk} = k.id"
_DELETE_STAGED_KEYS = """
WITH gone AS (DELETE FROM staging.{target} s USING changed_keys k WHERE s.{pk} = k.id
              RETURNING s.{pk}, s.partition_date)
INSERT INTO gone_rows SELECT * FROM gone
"""
_DELETE_REJECTED_KEYS = """
WITH gone AS (DELETE FROM staging.rejected_rows r USING changed_keys k
              WHERE r.source_database = %(db)s AND r.source_table = %(table)s AND r.source_pk = k.id::text
              RETURNING k.id, r.partition_date)
INSERT INTO gone_rows SELECT * FROM gone WHERE partition_date IS NOT NULL
"""
# Rows that were on a day and are on it no more (deleted at the source, or moved to another day).
_LEFT = """
SELECT g.partition_date, count(DISTINCT g.id) FROM gone_rows g
WHERE NOT EXISTS (SELECT 1 FROM checked c WHERE c.{pk} = g.id AND c.partition_date = g.partition_date)
GROUP BY 1
"""
_GONE_DAYS = "SELECT DISTINCT partition_date FROM gone_rows"


def _land_changes(entry: PortalTable, sources: dict[str, PostgresResource], wh: psycopg.Connection,
                  window: Window) -> int:
    """Find the changed keys in the source portal and land exactly those rows, as they stand now.

    Leaves ``changed_keys (id)`` in the warehouse session: every key whose row changed,
    including rows now deleted or out of scope, which are not landed (so they leave staging)."""
    spec = entry.staging
    pk = sql.Identifier(spec.pk)
    _temp_table(wh, "land", spec.landing_ddl)
    wh.execute("CREATE TEMP TABLE changed_keys (id uuid PRIMARY KEY) ON COMMIT DROP")
    with sources[entry.portal].connect() as src:
        src.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        src.execute("CREATE TEMP TABLE changed_keys (id uuid PRIMARY KEY) ON COMMIT DROP")
        if window.until.get(entry.name) is not None:
            src.execute(sql.SQL(_OWN_CHANGES).format(pk=pk, table=sql.Identifier(entry.table),
                                                     scope=entry.condition("scope", "t")),
                        {"since": window.since[entry.name], "until": window.until[entry.name]})
        for lookup in spec.lookups:  # rows whose looked-up row changed show that change too
            other = lookup_entry(f"{lookup.source_key}.{lookup.source_table}")
            if window.until.get(other.name) is None:
                continue
            src.execute("CREATE TEMP TABLE changed_via (id uuid) ON COMMIT DROP")
            span = {"since": window.since[other.name], "until": window.until[other.name]}
            with sources[lookup.source_key].connect() as lk:
                if lookup.staged_as:
                    _restaged_via(lookup, other, spec, lk, wh, src, span)
                else:
                    copy_between(lk, sql.SQL(_LOOKUP_CHANGES).format(cols=aliased("t", [other.staging.pk]),
                                                                    table=sql.Identifier(other.table)),
                                 src, sql.Identifier("changed_via"), ["id"], span)
            src.execute(sql.SQL(_CHANGES_VIA).format(pk=pk, table=sql.Identifier(entry.table),
                                                     column=sql.Identifier(lookup.key_column),
                                                     scope=entry.condition("scope", "t")))
            src.execute("DROP TABLE changed_via")
        if entry.matures:  # no row changed, yet what staging looks up about it did
            clock = lookup_entry(entry.matures[0]).name
            if window.since.get(clock) is not None and window.until.get(clock) is not None:
                src.execute(sql.SQL(_MATURED).format(
                    pk=pk, table=sql.Identifier(entry.table), scope=entry.condition("scope", "t"),
                    matures=sql.SQL(entry.matures[1]).format(t=sql.Identifier("t"))),
                    {"since": window.since[clock], "until": window.until[clock]})
        if spec.changes_with and spec.changes_after:
            _changes_after(entry, src, wh)
        elif spec.changes_with:
            src.execute(sql.SQL(_CHANGES_WITH).format(pk=pk, table=sql.Identifier(entry.table),
                                                      column=sql.Identifier(spec.changes_with),
                                                      scope=entry.condition("scope", "t")))
        src.execute("ANALYZE changed_keys")
        copy_between(src, sql.SQL("SELECT id FROM changed_keys"), wh, sql.Identifier("changed_keys"), ["id"])
        landed = copy_between(src, entry.extraction(changed=True), wh, sql.Identifier("land"),
                              _column_names(spec.landing_ddl))
    wh.execute("ANALYZE changed_keys")
    return landed


def _restaged_via(lookup, other: PortalTable, spec, lk: psycopg.Connection, wh: psycopg.Connection,
                  src: psycopg.Connection, span: dict) -> None:
    """Fill the source's ``changed_via`` with the look-up rows changed in ``span`` whose staged
    values differ (_RESTAGED_VIA): the look-up's changed rows are compared in the warehouse."""
    _temp_table(wh, "lookup_changed", lookup.landing_ddl)
    cols = _column_names(lookup.landing_ddl)
    copy_between(lk, sql.SQL(_LOOKUP_CHANGES).format(cols=aliased("t", cols), table=sql.Identifier(other.table)),
                 wh, sql.Identifier("lookup_changed"), cols, span)
    wh.execute("ANALYZE lookup_changed")
    restaged = sql.SQL(_RESTAGED_VIA).format(
        key=sql.Identifier(cols[0]), key_column=sql.Identifier(lookup.key_column),
        target=sql.Identifier(spec.staging_table),
        staged=aliased("s", [a for a, _ in lookup.staged_as]),
        looked_up=aliased("v", [b for _, b in lookup.staged_as]))
    copy_between(wh, restaged, src, sql.Identifier("changed_via"), ["id"])
    wh.execute("DROP TABLE lookup_changed")


def _changes_after(entry: PortalTable, src: psycopg.Connection, wh: psycopg.Connection) -> None:
    """Add to the source's ``changed_keys`` the rows of each changed row's group that come
    after its place now (in the portal) or its place when staged (in the warehouse)."""
    spec = entry.staging
    ident = sql.Identifier
    order, places = spec.changes_after, [f"o{i}" for i in range(len(spec.changes_after))]
    names = {"pk": ident(spec.pk), "table": ident(entry.table), "column": ident(spec.changes_with),
             "target": ident(spec.staging_table), "scope": entry.condition("scope", "t"),
             "order_names": sql.SQL(", ").join(map(ident, places)), "order_p": aliased("p", places),
             "order_c": aliased("c", order), "order_s": aliased("s", order), "order_t": aliased("t", order)}
    src.execute(sql.SQL("CREATE TEMP TABLE old_places ON COMMIT DROP AS SELECT {column}, {order} "
                        "FROM public.{table} LIMIT 0").format(order=sql.SQL(", ").join(map(ident, order)), **names))
    wh.execute("CREATE TEMP TABLE keys_so_far (id uuid PRIMARY KEY) ON COMMIT DROP")
    copy_between(src, sql.SQL("SELECT id FROM changed_keys"), wh, ident("keys_so_far"), ["id"])
    copy_between(wh, sql.SQL(_OLD_PLACES).format(**names), src, ident("old_places"),
                 [spec.changes_with, *spec.changes_after])
    src.execute(sql.SQL(_CHANGES_AFTER).format(**names))
    wh.execute("DROP TABLE keys_so_far")


def extract_changes(
    entry: PortalTable,
    sources: dict[str, PostgresResource],
    warehouse: PostgresResource,
    batch: Batch,
    window: Window,
    asset_key: str,
) -> set[date]:
    """Merge the rows changed in ``window`` into staging by key and queue the keys for the
    assets of ``queue_for``, in one transaction. Returns the days touched: the days the
    changed rows were staged on before and the days they are staged (or quarantined) on now."""
    spec = entry.staging
    target, pk = sql.Identifier(spec.staging_table), sql.Identifier(spec.pk)
    touched: set[date] = set()
    with warehouse.transaction() as wh:
        batch.rows_extracted = _land_changes(entry, sources, wh, window)
        for i, lookup in enumerate(spec.lookups):
            _look_up(lookup, sources[lookup.source_key], wh, f"lookup_{i}")
        wh.execute(sql.SQL("CREATE TEMP TABLE checked ON COMMIT DROP AS {}").format(sql.SQL(spec.checked)))

        lock_asset(wh, asset_key)
        names = {"db": entry.source_database, "table": entry.table, "batch": batch.batch_id}
        wh.execute("CREATE TEMP TABLE gone_rows (id uuid, partition_date date) ON COMMIT DROP")
        by_column = [(asset, sql.SQL(_STAGED_OF_KEYS).format(column=sql.Identifier(column), target=target, pk=pk))
                     for asset, column in spec.queue_by]
        for asset, values in by_column:  # as the rows stood before the change
            queue(wh, asset, values, batch.batch_id)
        wh.execute(sql.SQL(_DELETE_STAGED_KEYS).format(target=target, pk=pk), names)
        wh.execute(_DELETE_REJECTED_KEYS, names)
        batch.rows_rejected = wh.execute(sql.SQL(_QUARANTINE).format(pk=pk), names).rowcount
        for day, extracted, rejected in wh.execute(_PER_DAY).fetchall():
            batch.per_day[day] = DayFigures(extracted=extracted, rejected=rejected)
        for day, n in wh.execute(sql.SQL(_LEFT).format(pk=pk)).fetchall():
            batch.per_day.setdefault(day, DayFigures()).left = n
        touched = {d for (d,) in wh.execute(_GONE_DAYS)} | set(batch.per_day)

        cols = sql.SQL(", ").join(map(sql.Identifier, (*spec.stage_columns, "etl_batch_id")))
        insert = sql.SQL("INSERT INTO staging.{target} ({cols}) SELECT s.*, %(batch)s FROM ({stage}) s").format(
            target=target, cols=cols, stage=sql.SQL(spec.stage))
        batch.rows_loaded = wh.execute(insert, names).rowcount
        for asset in spec.queue_for:
            queue(wh, asset, sql.SQL("SELECT id FROM changed_keys"), batch.batch_id)
        for asset, values in by_column:  # and as they stand now
            queue(wh, asset, values, batch.batch_id)
        batch.succeed(wh)
    return touched
