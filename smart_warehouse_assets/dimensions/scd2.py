"""The SCD Type 2 merge, written once for every dimension.

Per natural key, the source row (deduplicated, latest ``updated_at`` wins) is compared
with the current version on the tracked attributes using IS DISTINCT FROM, so nulls
compare as values. A new key opens its first version at the source's ``created_at``; a
changed key closes its current version at the source's ``updated_at`` and opens the new
one there. Everything runs in one transaction under the dimension's lock, so two runs
can never both insert a current row (a partial unique index would refuse it anyway).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from smart_warehouse_assets.batches import Batch, lock_asset
from smart_warehouse_assets.merge import queue, since_keys
from smart_warehouse_assets.sql_fragments import aliased

OPEN_END = "9999-12-31 00:00:00+00"


@dataclass(frozen=True)
class Scd2Dimension:
    table: str
    key: str
    natural_key: str
    tracked: tuple[str, ...]
    source: str  # SELECT giving natural_key, tracked..., created_at, updated_at
    # Columns computed when a version opens, from the source row "x" and its start "x.new_from".
    derived: dict[str, str] = field(default_factory=dict)
    # Point-in-time consumers (asset keys): a changed member's new version alters what they
    # read about that member from its start on, so each changed member is queued for each as
    # ">YYYYMMDD:<table>:<natural key>" (merge.py). A new member is not queued: nothing
    # referred to it before.
    changes_since_for: tuple[str, ...] = ()


_DELTA = """
CREATE TEMP TABLE scd_delta ON COMMIT DROP AS
SELECT s.*, d.{key} AS current_key,
       CASE WHEN d.{key} IS NULL THEN s.created_at
            ELSE greatest(s.updated_at, d.valid_from + interval '1 microsecond') END AS new_from
FROM (SELECT DISTINCT ON ({nk}) * FROM ({source}) src ORDER BY {nk}, updated_at DESC) s
LEFT JOIN public.{table} d ON d.{nk} = s.{nk} AND d.is_current
WHERE d.{key} IS NULL OR ({changed})
"""
# A changed member's new version, as of when it starts (for merge.since_keys).
_NEW_VERSIONS = "SELECT x.new_from, {member} || x.{nk} FROM scd_delta x WHERE current_key IS NOT NULL"
_CLOSE = """
UPDATE public.{table} d SET valid_to = x.new_from, is_current = false
FROM scd_delta x WHERE d.{key} = x.current_key
"""
_OPEN = """
INSERT INTO public.{table} ({nk}, {tracked}, {derived_cols} valid_from, valid_to, is_current, etl_batch_id)
SELECT x.{nk}, {tracked_x}, {derived_exprs} x.new_from, %(open_end)s, true, %(batch)s
FROM scd_delta x
"""


def merge(conn: psycopg.Connection, dim: Scd2Dimension, batch: Batch, asset_key: str) -> dict[str, int]:
    """Apply the staged source to the dimension; returns counts of new, changed and total rows."""
    lock_asset(conn, asset_key)
    ident = sql.Identifier
    names = {
        "key": ident(dim.key),
        "nk": ident(dim.natural_key),
        "table": ident(dim.table),
    }
    changed = sql.SQL(" OR ").join(
        sql.SQL("s.{0} IS DISTINCT FROM d.{0}").format(ident(c)) for c in dim.tracked
    )
    conn.execute(sql.SQL(_DELTA).format(source=sql.SQL(dim.source), changed=changed, **names))
    new, changed_count = conn.execute(
        "SELECT count(*) FILTER (WHERE current_key IS NULL), count(*) FILTER (WHERE current_key IS NOT NULL) FROM scd_delta"
    ).fetchone()
    for asset in dim.changes_since_for:
        queue(conn, asset, since_keys(sql.SQL(_NEW_VERSIONS).format(member=sql.Literal(f"{dim.table}:"), **names)),
              batch.batch_id)
    conn.execute(sql.SQL(_CLOSE).format(**names))
    conn.execute(
        sql.SQL(_OPEN).format(
            tracked=sql.SQL(", ").join(map(ident, dim.tracked)),
            tracked_x=aliased("x", dim.tracked),
            derived_cols=sql.SQL("").join(sql.SQL("{}, ").format(ident(c)) for c in dim.derived),
            derived_exprs=sql.SQL("").join(sql.SQL("({}), ").format(sql.SQL(e)) for e in dim.derived.values()),
            **names,
        ),
        {"open_end": OPEN_END, "batch": batch.batch_id},
    )
    extracted = conn.execute(sql.SQL("SELECT count(*) FROM ({}) s").format(sql.SQL(dim.source))).fetchone()[0]
    batch.rows_extracted = extracted
    batch.rows_loaded = new + changed_count
    conn.execute(sql.SQL("ANALYZE public.{}").format(names["table"]))
    return {"new_members": new, "changed_members": changed_count, "versions_written": new + changed_count}
