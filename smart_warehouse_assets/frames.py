"""Query results as polars frames, streamed out of PostgreSQL as CSV.

Why not ``fetchall()``: a Python tuple of boxed values costs roughly ten times the bytes of
the same row in a polars column, and the whole result is held twice while the frame is
built, so a full load's peak memory grew with the warehouse (agg_model_performance at
scale 10). CSV keeps the transfer to one buffer of text that polars parses in native code;
booleans arrive as ``t``/``f`` and timestamps in UTC, both converted here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from io import BytesIO

import polars as pl
import psycopg
from psycopg import sql

from smart_warehouse_assets.partitions import DayRange

_UTC_TIMESTAMP = "%Y-%m-%d %H:%M:%S%.f%#z"
# Rows held in memory at once when a load reads many days: it reads them in groups of days of
# about this many rows, so its memory stays flat however long the history (the training set's
# 532,115 rows at once held ~400 MB at scale 10).
GROUP_ROWS = 100_000


def day_groups(days: DayRange, rows_per_day: Mapping[date, int]) -> list[DayRange]:
    """``days`` in consecutive groups of about GROUP_ROWS rows, a day never split; at least
    one group, possibly empty."""
    groups: list[list[date]] = [[]]
    held = 0
    for day in days.days():
        n = rows_per_day.get(day, 0)
        if groups[-1] and held + n > GROUP_ROWS:
            groups.append([])
            held = 0
        groups[-1].append(day)
        held += n
    return [DayRange.of(group, days.last) for group in groups]


def read_frame(conn: psycopg.Connection, query: str | sql.Composable, params: dict | None,
               schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """The rows of ``query`` (its columns in ``schema``'s order) as a frame of ``schema``.

    Runs ``SET LOCAL TimeZone = 'UTC'``: call it inside a transaction."""
    conn.execute("SET LOCAL TimeZone = 'UTC'")
    select = sql.SQL(query) if isinstance(query, str) else query
    buffer = BytesIO()
    with conn.cursor().copy(sql.SQL("COPY ({}) TO STDOUT (FORMAT csv)").format(select), params) as copy:
        for block in copy:
            buffer.write(block)
    if not buffer.getbuffer().nbytes:
        return pl.DataFrame(schema=schema)
    as_text = {name for name, dtype in schema.items() if dtype == pl.Boolean or isinstance(dtype, pl.Datetime)}
    buffer.seek(0)
    raw = pl.read_csv(buffer, has_header=False, new_columns=list(schema),
                      schema_overrides={n: pl.String if n in as_text else t for n, t in schema.items()})
    del buffer
    return raw.with_columns(
        (pl.col(name) == "t") if schema[name] == pl.Boolean
        else pl.col(name).str.to_datetime(_UTC_TIMESTAMP, time_unit=schema[name].time_unit,
                                          time_zone=schema[name].time_zone)
        for name in as_text
    )
