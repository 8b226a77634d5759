"""What each day's page in the Dagster UI shows: that day's own figures, never the range's.

A run over a range of days yields one materialization per asset, and Dagster records it
once per day of the range. Each day's figures ride on that day's own event through
``context.add_asset_metadata(partition_key=...)`` (public since 1.6): the range's events
are written anyway, so a 363-day backfill shows 363 different counts at no extra event.
Figures of the run as a whole follow, with a ``run_`` prefix. Days inside the run's range that
the asset did not reload (a change-driven run reloads only its changed span) say so:
``reloaded: false``, with what the day holds and no rows loaded. A row-level merge
(merge.py) writes ``merged: true`` on each day a changed row entered or left, with the rows
it wrote there (``rows_loaded``) and the rows that left it (``rows_left``); the run's
``run_merged_days`` lists every day touched, also those outside the run's range. A range
run of an aggregate that recomputed days outside its range, which its facts changed
(merge.py, range runs), lists them as ``run_followed_days``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import dagster as dg
import psycopg
from psycopg import sql

from smart_warehouse_assets.partitions import DayRange, compress
from smart_warehouse_assets.quality.spec import Check, Observation

if TYPE_CHECKING:  # batches holds DayFigures per day, so it imports this module
    from smart_warehouse_assets.batches import Batch


@dataclass
class DayFigures:
    """One day of one load: what came in, what was written, what went to quarantine."""

    extracted: int = 0
    loaded: int = 0
    rejected: int = 0
    in_partition: int = 0  # rows of the day in the table after the load
    left: int = 0  # a row-level merge: rows that were on the day and are no more (deleted, moved)


_DAY_COUNTS = """
SELECT {day}, count(*), count(*) FILTER (WHERE etl_batch_id = %(batch)s)
FROM {table} WHERE {column} BETWEEN %(first)s AND %(last)s GROUP BY 1
"""
# A merge's days: every day's rows (the day's index can answer alone), and the rows the batch
# wrote on the days it touched only (the batch's index finds them).
_DAY_TOTALS = "SELECT {day}, count(*) FROM {table} WHERE {column} BETWEEN %(first)s AND %(last)s GROUP BY 1"
_DAY_WRITTEN = """
SELECT {day}, count(*) FROM {table} WHERE etl_batch_id = %(batch)s AND {column} = ANY(%(only)s) GROUP BY 1
"""
# The table's other rows, so that its total needs no second pass over the range (through the
# day's index: few rows lie outside the range of a load of every day).
_OUTSIDE = "SELECT count(*) FROM {table} WHERE {column} < %(first)s OR {column} > %(last)s OR {column} IS NULL"


def count_days(conn: psycopg.Connection, table: sql.Composable, column: str, run_days: DayRange,
               batch_id: int, per_day: dict[date, DayFigures], *, date_key: bool,
               written: DayRange | None = None) -> int:
    """Fill in, per day of the run's range, the rows ``table`` holds and the rows the batch
    wrote (on the days of ``written`` only, when a merge names them); returns the rows the
    whole table holds. ``column`` holds the day as a date, or as a YYYYMMDD integer when
    ``date_key``."""
    ident = sql.Identifier(column)
    day = sql.SQL("to_date({}::text, 'YYYYMMDD')").format(ident) if date_key else ident
    first, last = (run_days.first_key, run_days.last_key) if date_key else (run_days.first, run_days.last)
    params = {"batch": batch_id, "first": first, "last": last}
    names = {"day": day, "table": table, "column": ident}
    rows = conn.execute(sql.SQL(_OUTSIDE).format(**names), params).fetchone()[0]
    if written is None or not written.selective:
        for d, total, loaded in conn.execute(sql.SQL(_DAY_COUNTS).format(**names), params):
            figures = per_day.setdefault(d, DayFigures())
            figures.in_partition, figures.loaded = total, loaded
            rows += total
        return rows
    for d, total in conn.execute(sql.SQL(_DAY_TOTALS).format(**names), params):
        per_day.setdefault(d, DayFigures()).in_partition = total
        rows += total
    params["only"] = written.day_keys() if date_key else written.days()
    for d, loaded in conn.execute(sql.SQL(_DAY_WRITTEN).format(**names), params):
        per_day.setdefault(d, DayFigures()).loaded = loaded
    return rows


def _verdicts_by_day(verdicts: Sequence[tuple[Check, list[Observation]]]) -> dict[date | None, list[str]]:
    failed: dict[date | None, list[str]] = {}
    for check, observations in verdicts:
        for obs in observations:
            if not obs.passed:
                failed.setdefault(obs.day, []).append(f"{check.name} ({obs.severity}: observed {obs.observed}, "
                                                     f"expected {obs.expected})")
    return failed


def attach(context: dg.AssetExecutionContext, key: dg.AssetKey, run_days: DayRange, loaded: DayRange,
           batch: Batch, verdicts: Sequence[tuple[Check, list[Observation]]]) -> None:
    """Give every day of the run's range its own metadata on its materialization event: the
    day's figures first, then the run's (named ``run_*``)."""
    failed = _verdicts_by_day(verdicts)
    judged = len(verdicts)
    merged = batch.merged_days is not None
    run = {
        "run_partition_range": run_days.label,
        "run_reloaded_days": "none (row-level merge)" if merged else loaded.label,
        "run_rows_extracted": batch.rows_extracted,
        "run_rows_loaded": batch.rows_loaded,
        "run_rows_rejected": batch.rows_rejected,
    }
    if merged:
        run["run_merged_days"] = compress(batch.merged_days) or "none"
    if batch.followed:
        run["run_followed_days"] = compress(batch.followed)
    written = set(loaded.days())
    for day in run_days.days():
        f = batch.per_day.get(day, DayFigures())
        reloaded = not merged and day in written
        metadata: dict = {"dagster/partition_row_count": f.in_partition, "reloaded": reloaded}
        if merged:
            metadata["merged"] = day in batch.merged_days
        if day in written:
            problems = failed.get(day, []) + failed.get(None, [])
            metadata |= {
                "rows_extracted": f.extracted, "rows_loaded": f.loaded, "rows_rejected": f.rejected,
            }
            if merged:
                metadata["rows_left"] = f.left
            metadata |= {
                "etl_batch_id": batch.batch_id,
                "checks": ("FAILED: " + "; ".join(problems)) if problems
                else (f"all {judged} passed" if judged else "not evaluated"),
            }
        else:
            metadata |= {"rows_extracted": 0, "rows_loaded": 0, "rows_rejected": 0,
                         "checks": "not judged: the day was not reloaded (its sources did not change)"
                         if not merged else "not judged: no row of the day changed"}
        context.add_asset_metadata(metadata | run, asset_key=key, partition_key=day.isoformat())
