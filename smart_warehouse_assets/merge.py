"""Row-level merge: a change-driven run writes the rows that changed, not their whole days.

Why: decisions land on applications submitted months ago, so reloading every day that
holds a changed row costs the backlog's whole history each night. Instead, for a source
whose registry entry queues its changes and the assets that declare a :class:`Merge`:

1. **staging** (``staging/extract.py``, ``extract_changes``) lands only the source rows
   whose ``updated_at`` lies in the run's watermark window, plus the rows whose look-up
   row changed in its own window (a prediction shows its application's status; an action
   its application's submission time, re-staged only when that differs from the staged
   value: ``Lookup.staged_as``) and the rows sharing ``Staging.changes_with`` with a
   changed row (an action's minutes count from its application's previous action: only
   the actions after the changed one's old or new place, ``Staging.changes_after``). In one
   transaction it deletes those keys from staging and from the quarantine, inserts them
   as they now stand (a row deleted or gone out of scope at the source is simply not
   inserted again) and queues the keys for each asset of ``Staging.queue_for``;
2. **the fact** (``facts/load.py``, ``merge_rows``) takes its queued keys, deletes its
   rows with those keys and inserts them again from staging, in one transaction. The
   days its rows left and entered (old and new day of a moved row) are the days it
   touched; it queues the value of each ``Merge.feeds`` expression on those rows, as they
   were and as they are (the aggregates' days), for the asset named there;
3. **the aggregates**, declared ``Merge("date_key", "integer")``, merge the same way with
   days as keys: each recomputes exactly the days queued for it and writes, by its primary
   key, only the rows whose figures changed (a day's other groups keep their rows and the
   batch that wrote them: ``facts/load.py``, ``_merge_recomputed``). A row that moved queues
   the day it left as well as the day it entered (a decision corrected to another day
   recomputes both decision days), and a feed may look its day up elsewhere (a new action
   queues its application's submission day, whose step-SLA breaches it changes). An
   aggregate whose every day changes every night (``agg_daily_applications``: decisions land
   on applications of every age) is fed its groups instead and recomputes only those
   (:class:`Regroup`).
   ``agg_model_performance``, computed in polars by its own load, takes the prediction
   days both prediction facts queue for it with :func:`take` likewise.

4. **a point-in-time consumer** (the training set, ml/training_set.py) cannot take keys or
   days alone: a decision changes the applicant history of every later prediction of that
   applicant. The fact queues, through ``Merge.changed_since``, per subject (the applicant)
   the earliest instant whose value changed between the row removed and the row written
   (``>YYYYMMDD:dim_citizen:<citizen_id>``), and the dimensions the start of each changed
   member's new version (dimensions/scd2.py); the consumer rewrites the rows of that
   member's predictions from there on, and the rows its own fact's merge fed it by key.

When: an asset merges when its run carries a watermark window (``changes.WINDOW_TAG``)
whose start is known for its source and the sources its look-ups read. A full reload
(window from the beginning), a backfill or a manual run replace whole days as before.
Replacing a fact's days leaves its own queue alone: merging a key again later writes the
same rows.

Range runs follow the days they change outside their range. A fact's rows of some days
change an aggregate's rows of other days (applications submitted in the range are decided
after it; actions in the range breach the SLA of applications submitted before it), and a
run over a range reloads the aggregate's days of that range only. So a range run of the
fact queues, per ``Feed`` that declares its ``day``, the keys of the rows it removes and
writes whose day lies outside the range and was covered by an earlier load of the
aggregate (under the aggregate's lock: a concurrent load of it either commits first and is
seen, or waits and reads the committed fact); the aggregate's range runs take the keys of
its range (reloaded anyway) and of days loaded before, and recompute the latter as a merge
does (listed as ``run_followed_days``; its checks judge its range, since such a day may hold
other groups whose facts changed and wait for that day's own reload). For a point-in-time
consumer (``changed_since``) that covered a day after the range, the fact queues each
subject of the range's rows from the day of its earliest instant there (a backfill of
earlier days adds to the history of later predictions), and the consumer's range runs
patch the days it has outside their range. A row on a day outside the range whose key is
staged in it moved into the range (its event time was corrected): it is deleted first, and
every feed's key on it is queued the same way (``agg_model_performance`` takes the
prediction days so queued too). Backfilling earlier days after later ones, two overlapping
backfills at once, or one day after a correction moved a row into it, end like one load of
every day.

The queue (``staging.pending_merge``) is taken inside the consumer's load transaction: a
failure rolls the taking back, so the keys wait for the next run (or a re-execution,
which carries the same window); a re-run finds nothing left and writes nothing, so the
merge is idempotent. Checks and each day's metadata follow the days touched
(``partitions.DayRange.only``, see :func:`judged_days`), not the span between them; checks
of single rows read only the rows the merge wrote (``CheckScope.rows_of_batch``).

To use it for another accumulating fact: add the fact to ``Staging.queue_for`` of its
registry entry (or ``Staging.queue_by`` with the column it merges by, when that is not the
entry's key: a payment queues its application), and give its ``DailyLoad`` ``merge=Merge(<natural key>, <its SQL type>)``
(``feeds`` when an aggregate is built from it). The natural key must be one of the
load's ``columns`` and unique in the fact.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import dagster as dg
import psycopg
from psycopg import sql

from smart_warehouse_assets.operations.changes import Window, window_of
from smart_warehouse_assets.partitions import DayRange, changed_days, parse_day
from smart_warehouse_assets.sources.registry import PortalTable, lookup_entry

# Types a merge key may have; the queue holds every key as text.
KEY_TYPES = frozenset({"uuid", "integer", "bigint", "text"})


@dataclass(frozen=True)
class Feed:
    """A key a fact queues for an asset built from it, on every row it writes or removes."""

    asset: str  # the downstream asset
    # SQL on a row of the fact (alias t), the key queued (nulls are not). A constant of the
    # code: a column (``t.submitted_date_key``) or a look-up by the row's columns.
    value: str
    # When the key may name another day of the downstream than the row's own (a decision day,
    # an action's application's submission day): SQL on the same row, that day as YYYYMMDD. A
    # range run of the fact then queues the keys of such days outside its range that an earlier
    # load of the downstream covered (facts/load.py, _queue_outside): nothing else reloads them.
    day: str | None = None
    # Assets whose tables ``value`` or ``day`` read: a range run locks them while it computes
    # the keys, so it reads them as a concurrent load of them committed them.
    reads: tuple[str, ...] = ()


@dataclass(frozen=True)
class Merge:
    """How a daily asset merges in a change-driven run (see the module)."""

    key: str  # the column rows are merged by: a fact's natural key, an aggregate's date key
    key_type: str  # its SQL type (one of KEY_TYPES)
    # What every row this asset writes or removes queues for the assets built from it.
    feeds: tuple[Feed, ...] = ()
    # For a point-in-time consumer (downstream asset, subject, ((instant, compared), ...)), all
    # SQL on alias t: for each merged key, an instant whose compared value differs between the
    # row removed and the row written (every instant of a key only removed or only written) is
    # a moment after which the consumer's rows about the row's subject may differ. The earliest
    # per subject is queued for it as ">YYYYMMDD:<subject>" (that IST day and every later day;
    # a null subject is nobody's): a decision tonight queues yesterday for its applicant, not
    # the application's submission day, because the submission instant did not change.
    changed_since: tuple[str, str, tuple[tuple[str, str], ...]] | None = None
    # An aggregate whose queued keys name its groups rather than its days (see Regroup).
    regroup: Regroup | None = None
    # An aggregate's day (YYYYMMDD integer) of a queued key, SQL on the key as text ``{k}``:
    # what a range run of it follows (take_followed).
    day_of_key: str = "{k}::integer"

    def __post_init__(self) -> None:
        if self.key_type not in KEY_TYPES:
            raise ValueError(f"merge key type {self.key_type!r} is not one of {sorted(KEY_TYPES)}")


@dataclass(frozen=True)
class Regroup:
    """How an aggregate recomputes only the groups its queued keys name, not their whole days.

    ``prepare`` are statements run in the merge's transaction after ``merging (k)`` is filled:
    they create the temporary table ``groups`` holding the aggregate's primary key of every
    group to recompute (whose rows may have changed, appeared or gone), and whatever
    ``select`` reads; ``select`` computes the aggregate's rows of exactly those groups, with the
    parameters of the load's own select. Rows are then written as a by-day merge writes them:
    only those whose figures differ (facts/load.py)."""

    prepare: tuple[str, ...]
    select: str


def _tags(context: dg.AssetExecutionContext) -> dict[str, str]:
    try:
        return dict(context.run.tags)
    except Exception:  # a direct call (the benchmark's) has no run, hence no window: replace days
        return {}


def merge_window(context: dg.AssetExecutionContext, entry: PortalTable) -> Window | None:
    """The run's watermark window when ``entry``'s changes are to be merged, else None.

    None unless the run carries a window that starts at a stored watermark for the entry
    and for every table its look-ups read (a window from the beginning is a full reload)."""
    if entry.staging is None or not (entry.staging.queue_for or entry.staging.queue_by):
        return None
    window = window_of(_tags(context))
    if window is None:
        return None
    names = [entry.name, *(lookup_entry(f"{lk.source_key}.{lk.source_table}").name for lk in entry.staging.lookups)]
    if any(window.since.get(name) is None for name in names):
        return None
    return window


def judged_days(context: dg.AssetExecutionContext, key: dg.AssetKey, touched: Iterable[date]) -> DayRange:
    """The days a merge's checks and counts look at: the days it touched and the days the
    run planned for the asset, up to the run's last partition (a row of a day that is no
    partition yet, today's, is judged with that day's own load)."""
    keys = context.partition_key_range
    last = parse_day(keys.end)
    planned = changed_days(_tags(context), key) or set()
    return DayRange.of({d for d in (*touched, *planned) if d <= last}, last)


_QUEUE = """
INSERT INTO staging.pending_merge (asset_key, merge_key, batch_id)
SELECT DISTINCT %(asset)s, q.v::text, %(batch)s FROM ({values}) q (v) WHERE q.v IS NOT NULL
ON CONFLICT (asset_key, merge_key) DO UPDATE SET batch_id = EXCLUDED.batch_id, queued_at = EXCLUDED.queued_at
"""
_TAKE = """
WITH taken AS (DELETE FROM staging.pending_merge WHERE asset_key = %(asset)s AND ({where}) RETURNING merge_key)
INSERT INTO merging SELECT DISTINCT merge_key::{type} FROM taken
"""


def queue(conn: psycopg.Connection, asset: str, values: sql.Composable, batch_id: int, params: dict | None = None) -> int:
    """Queue the values of the one-column query ``values`` for ``asset`` to merge by."""
    query = sql.SQL(_QUEUE).format(values=values)
    return conn.execute(query, {**(params or {}), "asset": asset, "batch": batch_id}).rowcount


def take(conn: psycopg.Connection, asset: str, key_type: str, where: sql.Composable = sql.SQL("true"),
         params: dict | None = None) -> int:
    """Move ``asset``'s queued keys (those ``where`` holds for, a condition on ``merge_key``)
    into the temporary table ``merging (k)``, inside the caller's transaction (committed with
    the merge, rolled back with it)."""
    if key_type not in KEY_TYPES:
        raise ValueError(f"merge key type {key_type!r} is not one of {sorted(KEY_TYPES)}")
    conn.execute(sql.SQL("CREATE TEMP TABLE merging (k {} PRIMARY KEY) ON COMMIT DROP").format(sql.SQL(key_type)))
    query = sql.SQL(_TAKE).format(type=sql.SQL(key_type), where=where)
    taken = conn.execute(query, {**(params or {}), "asset": asset}).rowcount
    conn.execute("ANALYZE merging")  # a temporary table has no statistics: the join plan needs them
    return taken


# The days successful loads of %(asset)s covered, as one multirange: a few ranges, however
# many batches a year of nightly runs left.
COVERED = """(SELECT range_agg(daterange(b.partition_start, b.partition_end, '[]')) FROM public.etl_batches b
WHERE b.asset_key = %(asset)s AND b.status = 'success' AND b.partition_start IS NOT NULL)"""
# A range run of an aggregate takes the keys of its range (reloaded anyway) and of the days
# outside it that a load covered; keys of days never loaded wait for the run that loads them.
_FOLLOWED = "({day}) BETWEEN %(first_key)s AND %(last_key)s OR to_date(({day})::text, 'YYYYMMDD') <@ " + COVERED


def take_followed(conn: psycopg.Connection, asset: str, key_type: str, day_of_key: str, days: DayRange) -> bool:
    """In a range run of ``asset`` (an aggregate), take its queued keys of the days outside the
    range that it is to follow (see "Range runs" above) into ``merging (k)``, and drop those of
    the range, which the run reloads. ``day_of_key``: Merge.day_of_key. Whether any is left."""
    params = {"first_key": days.first_key, "last_key": days.last_key}
    take(conn, asset, key_type, sql.SQL(_FOLLOWED).format(day=sql.SQL(day_of_key.format(k="merge_key"))), params)
    in_range = sql.SQL(day_of_key.format(k="k"))
    dropped = conn.execute(sql.SQL("DELETE FROM merging WHERE ({}) BETWEEN %(first_key)s AND %(last_key)s")
                           .format(in_range), params).rowcount
    if dropped:
        conn.execute("ANALYZE merging")  # the statistics take() gathered counted them
    return conn.execute("SELECT EXISTS (SELECT 1 FROM merging)").fetchone()[0]


# What a point-in-time consumer (Merge.changed_since) is queued: per subject of the instants
# of ``{instants}`` (at, subject), ">YYYYMMDD:<subject>" of the IST day of the earliest; its
# history may differ from that day on. A null instant or subject queues nothing.
_SINCE = """
SELECT '>' || to_char(min(x.at) AT TIME ZONE 'Asia/Kolkata', 'YYYYMMDD') || ':' || x.subject
FROM ({instants}) x (at, subject) WHERE x.subject IS NOT NULL AND x.at IS NOT NULL GROUP BY x.subject
"""


def since_keys(instants: sql.Composable) -> sql.Composable:
    """The keys a point-in-time consumer is queued for ``instants``, a select of (at, subject)
    rows: the facts' merges and range runs, and the dimensions' new versions."""
    return sql.SQL(_SINCE).format(instants=instants)
