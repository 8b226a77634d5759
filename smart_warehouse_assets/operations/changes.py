"""Which partitions went stale: the IST days whose source rows changed inside a watermark window.

Decisions arrive weeks after submission, so an old submission day changes when one of its
applications is decided or paid; a prediction or action day changes when its application
changes (the rows look their application up). The days name the run's range and what its
checks judge; the facts fed by a change-driven run merge their changed rows (merge.py) rather
than reload those days. The
watermark is per source table and in the source's own clock (its max ``updated_at``), so
clock skew between servers cannot hide a change.

This module is the one place for that logic. A *window* is, per source table, the change
interval ``(since, until]``: ``since`` is the stored watermark (``public.etl_watermarks``,
None before the first tagged run), ``until`` the source's max ``updated_at`` now, never
ahead of the source's ``now()`` minus :data:`SETTLE` (a transaction that is still open may
commit rows stamped a moment ago). A :class:`Plan` turns a window into the assets and
partitions to re-materialize; its run carries the window as a tag, and only when that run
succeeds does :func:`advance` move the watermarks to ``until`` — a failed run leaves them
where they were, so the next evaluation asks for the same days again.

What the windows cannot see: hard deletes in a portal (rows are soft-deleted through their
``status``, which stamps ``updated_at``) and rows written with an ``updated_at`` earlier
than a watermark already passed (a back-dated change). The weekly full reload repairs both.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import dagster as dg
from psycopg import sql

from smart_warehouse_assets.partitions import CHANGED_DAYS_TAG, compress, daily_partitions, parse_day
from smart_warehouse_assets.resources import PostgresResource
from smart_warehouse_assets.settings import DATABASES
from smart_warehouse_assets.sources.registry import (
    PAYMENTS, PROCESSING_ACTIONS, REGISTRY, SERVICE_APPLICATIONS, PortalTable, lookup_entry,
)

SETTLE = timedelta(minutes=1)
WINDOW_TAG = "smart/watermark_window"
PARTITIONS_TAG = CHANGED_DAYS_TAG  # read back by the assets: see partitions.day_range
TRIGGER_TAG = "smart/trigger"
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


# The registry's tables that feed warehouse assets (ml_use_cases is only joined to ml_models:
# the nightly load rebuilds dim_model anyway).
SOURCES: tuple[PortalTable, ...] = tuple(e for e in REGISTRY if e.assets)
APPLICATIONS = SERVICE_APPLICATIONS
SOURCE_BY_NAME = {s.name: s for s in SOURCES}

# Every warehouse asset a load can materialize, split by partitioning. dim_date and dim_holiday are a
# calendar computed in Python: no source feeds them, the nightly and weekly loads rebuild them.
PARTITIONED_ASSETS: tuple[str, ...] = tuple(a for s in SOURCES if s.partitioned for a in s.assets)
UNPARTITIONED_ASSETS: tuple[str, ...] = ("dim_date", "dim_holiday", *(a for s in SOURCES if not s.partitioned for a in s.assets))

# A bound on the indexed column, not a FILTER clause: PostgreSQL answers it from the end of
# the updated_at index instead of reading the table.
_CURRENT = """
SELECT max(updated_at) FROM public.{table} t WHERE updated_at <= now() - %(settle)s AND {feeds}
"""
_DAYS = """
SELECT DISTINCT ({event} AT TIME ZONE 'Asia/Kolkata')::date
FROM public.{table} t
WHERE updated_at > coalesce(%(since)s::timestamptz, '-infinity') AND updated_at <= %(until)s
  AND {event} IS NOT NULL AND {feeds}
"""
_CHANGED_ROWS = """
SELECT count(*) FROM public.{table} t
WHERE updated_at > coalesce(%(since)s::timestamptz, '-infinity') AND updated_at <= %(until)s AND {feeds}
"""
_CHANGED_APPLICATIONS = """
SELECT application_id FROM public.service_applications
WHERE updated_at > %(since)s AND updated_at <= %(until)s
"""
# A row that looks its application up shows what it found: deciding an application changes a
# prediction's day (its outcome), correcting a submission time an action's day (its minutes),
# although those rows did not change.
_DAYS_OF_APPLICATIONS = """
SELECT DISTINCT ({event} AT TIME ZONE 'Asia/Kolkata')::date
FROM public.{table} t WHERE t.{column} = ANY(%(apps)s) AND {event} IS NOT NULL AND {feeds}
"""
# The rows whose outcome became known by time alone inside the window of their clock's table.
_MATURED_DAYS = """
SELECT DISTINCT ({event} AT TIME ZONE 'Asia/Kolkata')::date FROM public.{table} t
WHERE ({matures}) > coalesce(%(since)s::timestamptz, '-infinity') AND ({matures}) <= %(until)s AND {feeds}
"""
# An application's fact row shows what was paid to it: a payment changes its application's
# submission day although the application row itself did not change (same portal).
_APPLICATION_DAYS_OF_PAYMENTS = """
SELECT DISTINCT (sa.submitted_at AT TIME ZONE 'Asia/Kolkata')::date
FROM public.payments t JOIN public.service_applications sa ON sa.application_id = t.application_id
WHERE t.updated_at > coalesce(%(since)s::timestamptz, '-infinity') AND t.updated_at <= %(until)s
  AND sa.submitted_at IS NOT NULL AND {feeds}
"""
# The submission-day aggregate counts its applications' breached workflow steps: a changed
# action (another portal) changes its application's submission day there, although the
# application did not change. The days of every changed action's application, breach or not:
# the plan cannot tell which steps breach (the merge queues only those, merge.py).
STEPS_ASSET = "agg_daily_applications"
_APPLICATIONS_OF_ACTIONS = """
SELECT DISTINCT t.application_id FROM public.processing_actions t
WHERE t.updated_at > coalesce(%(since)s::timestamptz, '-infinity') AND t.updated_at <= %(until)s AND {feeds}
"""
_SUBMISSION_DAYS = """
SELECT DISTINCT (submitted_at AT TIME ZONE 'Asia/Kolkata')::date FROM public.service_applications
WHERE (%(apps)s::uuid[] IS NULL OR application_id = ANY(%(apps)s::uuid[])) AND submitted_at IS NOT NULL
"""
# The decision-day aggregate's days: the decision days of the applications that changed or
# that a payment landed on, as the portal has them now. They put the aggregate in the run and
# name days its checks judge; a change-driven run merges it by the days the applications fact
# queued (merge.py), which also holds the day a decision moved away from (or was taken back
# from): the warehouse has it, the portal no longer does.
DECISIONS_ASSET = "agg_daily_decisions"
_DECISION_DAYS = """
SELECT DISTINCT (decided_at AT TIME ZONE 'Asia/Kolkata')::date FROM (
    SELECT a.decided_at, a.submitted_at, a.status FROM public.service_applications a
    WHERE a.updated_at > coalesce(%(apps_since)s::timestamptz, '-infinity') AND a.updated_at <= %(apps_until)s
    UNION ALL
    SELECT a.decided_at, a.submitted_at, a.status
    FROM public.payments t JOIN public.service_applications a ON a.application_id = t.application_id
    WHERE t.updated_at > coalesce(%(paid_since)s::timestamptz, '-infinity') AND t.updated_at <= %(paid_until)s
      AND {feeds}
) x WHERE decided_at IS NOT NULL AND submitted_at IS NOT NULL AND status IN ('approved', 'rejected')
"""
_STORED = "SELECT source_database, source_table, watermark FROM public.etl_watermarks"
_LOCK_STORED = """
SELECT watermark FROM public.etl_watermarks WHERE source_database = %s AND source_table = %s FOR UPDATE
"""
_UPSERT = """
INSERT INTO public.etl_watermarks (source_database, source_table, watermark, run_id)
VALUES (%(db)s, %(table)s, %(watermark)s, %(run)s)
ON CONFLICT (source_database, source_table) DO UPDATE
SET watermark = EXCLUDED.watermark, run_id = EXCLUDED.run_id, advanced_at = clock_timestamp()
"""
_HISTORY = """
INSERT INTO public.etl_watermark_history
    (source_database, source_table, previous_watermark, watermark, window_start, run_id)
VALUES (%(db)s, %(table)s, %(previous)s, %(watermark)s, %(since)s, %(run)s)
"""


def _stmt(template: str, source: PortalTable) -> sql.Composed:
    """A query on ``source`` (alias t) over the rows whose changes matter: its scope, deleted or not."""
    return sql.SQL(template).format(
        table=sql.Identifier(source.table),
        event=sql.Identifier(source.event) if source.event else sql.SQL("NULL"),
        feeds=source.condition("scope", "t"),
    )


# ------------------------------------------------------------------ watermarks and windows


def current_watermarks(portals: Mapping[str, PostgresResource]) -> dict[str, datetime | None]:
    """Per source, the latest settled ``updated_at`` in the source's own clock (None if empty)."""
    out: dict[str, datetime | None] = {}
    for portal in dict.fromkeys(s.portal for s in SOURCES):
        with portals[portal].connect() as conn:
            for source in (s for s in SOURCES if s.portal == portal):
                out[source.name] = conn.execute(_stmt(_CURRENT, source), {"settle": SETTLE}).fetchone()[0]
    return out


def stored_watermarks(warehouse: PostgresResource) -> dict[str, datetime | None]:
    """The watermarks in ``public.etl_watermarks`` (None for a source never covered)."""
    with warehouse.connect() as conn:
        rows = conn.execute(_STORED).fetchall()
    stored = {f"{db}.{table}": mark for db, table, mark in rows}
    return {s.name: stored.get(s.name) for s in SOURCES}


@dataclass(frozen=True)
class Window:
    """Per source, the change interval (since, until]; since None means "from the beginning"."""

    since: dict[str, datetime | None]
    until: dict[str, datetime | None]

    def to_tag(self) -> str:
        iso = lambda t: t.isoformat() if t else None  # noqa: E731
        return json.dumps({name: [iso(self.since.get(name)), iso(self.until.get(name))] for name in self.until},
                          sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_tag(cls, value: str) -> Window:
        parse = lambda t: datetime.fromisoformat(t) if t else None  # noqa: E731
        raw = json.loads(value)
        return cls(since={k: parse(v[0]) for k, v in raw.items()}, until={k: parse(v[1]) for k, v in raw.items()})


def open_window(portals: Mapping[str, PostgresResource], warehouse: PostgresResource, *, full: bool = False) -> Window:
    """From the stored watermarks (or from the beginning, for a full reload) to now."""
    until = current_watermarks(portals)
    since = {name: None for name in until} if full else stored_watermarks(warehouse)
    return Window(since=since, until=until)


def changed_days(
    portals: Mapping[str, PostgresResource],
    since: Mapping[str, datetime | None],
    until: Mapping[str, datetime | None] | None = None,
) -> dict[str, set[date]]:
    """Per partitioned asset, the IST days whose rows changed in (since, until] of their sources."""
    until = until if until is not None else current_watermarks(portals)
    days: dict[str, set[date]] = {}
    for source in (s for s in SOURCES if s.partitioned):
        if until.get(source.name) is None:
            days[source.name] = set()
            continue
        with portals[source.portal].connect() as conn:
            rows = conn.execute(_stmt(_DAYS, source), {"since": since.get(source.name), "until": until[source.name]})
            days[source.name] = {d for (d,) in rows}
    # Changed applications change the rows that look them up (registry: a Lookup on them).
    apps_since, apps_until = since.get(APPLICATIONS.name), until.get(APPLICATIONS.name)
    if apps_since is not None and apps_until is not None:  # since None: every day is in already
        with portals[APPLICATIONS.portal].connect() as conn:
            apps = [a for (a,) in conn.execute(_CHANGED_APPLICATIONS, {"since": apps_since, "until": apps_until})]
        for source in (s for s in SOURCES if s.partitioned and s.staging and apps):
            for lookup in source.staging.lookups:
                if (lookup.source_key, lookup.source_table) != (APPLICATIONS.portal, APPLICATIONS.table):
                    continue
                if lookup.staged_as:  # its merge re-stages only rows whose staged values differ, and
                    continue          # judges the days it touched: planning every day of them is waste
                query = sql.SQL(_DAYS_OF_APPLICATIONS).format(
                    event=sql.SQL("t.{}").format(sql.Identifier(source.event)), table=sql.Identifier(source.table),
                    column=sql.Identifier(lookup.key_column), feeds=source.condition("scope", "t"))
                with portals[source.portal].connect() as conn:
                    days[source.name] |= {d for (d,) in conn.execute(query, {"apps": apps})}
    for source in (s for s in SOURCES if s.matures):
        clock = lookup_entry(source.matures[0]).name
        if since.get(clock) is not None and until.get(clock) is not None:
            query = sql.SQL(_MATURED_DAYS).format(
                table=sql.Identifier(source.table), event=sql.Identifier(source.event),
                feeds=source.condition("scope", "t"), matures=sql.SQL(source.matures[1]).format(t=sql.Identifier("t")))
            with portals[source.portal].connect() as conn:
                days[source.name] |= {d for (d,) in conn.execute(query, {"since": since[clock], "until": until[clock]})}
    # Payments change the amount disbursed of their applications.
    if until.get(PAYMENTS.name) is not None:
        with portals[PAYMENTS.portal].connect() as conn:
            query = _stmt(_APPLICATION_DAYS_OF_PAYMENTS, PAYMENTS)
            days[APPLICATIONS.name] |= {d for (d,) in conn.execute(
                query, {"since": since.get(PAYMENTS.name), "until": until[PAYMENTS.name]})}
    out = {asset: set(days[s.name]) for s in SOURCES if s.partitioned for asset in s.assets}
    if until.get(PROCESSING_ACTIONS.name) is not None:
        out[STEPS_ASSET] |= _submission_days_of_changed_actions(
            portals, since.get(PROCESSING_ACTIONS.name), until[PROCESSING_ACTIONS.name])
    with portals[APPLICATIONS.portal].connect() as conn:
        out[DECISIONS_ASSET] = {d for (d,) in conn.execute(_stmt(_DECISION_DAYS, PAYMENTS), {
            "apps_since": since.get(APPLICATIONS.name), "apps_until": until.get(APPLICATIONS.name),
            "paid_since": since.get(PAYMENTS.name), "paid_until": until.get(PAYMENTS.name)})}
    return out


def _submission_days_of_changed_actions(
    portals: Mapping[str, PostgresResource], since: datetime | None, until: datetime
) -> set[date]:
    """The IST submission days of the applications whose actions changed in (since, until];
    every submission day when since is None (every action is new to the warehouse)."""
    apps = None
    if since is not None:
        with portals[PROCESSING_ACTIONS.portal].connect() as conn:
            apps = [a for (a,) in conn.execute(_stmt(_APPLICATIONS_OF_ACTIONS, PROCESSING_ACTIONS),
                                               {"since": since, "until": until})]
        if not apps:
            return set()
    with portals[APPLICATIONS.portal].connect() as conn:
        return {d for (d,) in conn.execute(_SUBMISSION_DAYS, {"apps": apps})}


def changed_members(
    portals: Mapping[str, PostgresResource], since: Mapping[str, datetime | None], until: Mapping[str, datetime | None]
) -> dict[str, int]:
    """Per dimension source, how many of its rows changed in the window."""
    out = {}
    for source in (s for s in SOURCES if not s.partitioned):
        if until.get(source.name) is None:
            out[source.name] = 0
            continue
        with portals[source.portal].connect() as conn:
            out[source.name] = conn.execute(
                _stmt(_CHANGED_ROWS, source), {"since": since.get(source.name), "until": until[source.name]}
            ).fetchone()[0]
    return out


# ------------------------------------------------------------------ the plan of one run


def partition_days(now: datetime | None = None) -> tuple[date, date] | None:
    """First and last day that exist as partitions at ``now`` (None before the start)."""
    keys = daily_partitions.get_partition_keys(current_time=now)
    return (parse_day(keys[0]), parse_day(keys[-1])) if keys else None


@dataclass
class Plan:
    """What one run re-materializes: the assets, the exact days per partitioned asset, and
    the watermark window it covers. Days outside the existing partitions (today's, which is
    not a partition until tomorrow; days before the first partition) are ``deferred``:
    the nightly load always takes yesterday, so today's changes are loaded then."""

    window: Window
    days: dict[str, set[date]]
    unpartitioned: set[str] = field(default_factory=set)
    deferred: dict[str, set[date]] = field(default_factory=dict)

    @property
    def all_days(self) -> set[date]:
        return set().union(*self.days.values()) if self.days else set()

    def span(self) -> tuple[date, date] | None:
        days = self.all_days
        return (min(days), max(days)) if days else None

    def asset_keys(self) -> list[dg.AssetKey]:
        names = [a for a in (*UNPARTITIONED_ASSETS, *PARTITIONED_ASSETS)
                 if a in self.unpartitioned or self.days.get(a)]
        return [dg.AssetKey.from_user_string(a) for a in names]

    def is_empty(self) -> bool:
        return not self.asset_keys()

    def tags(self, trigger: str) -> dict[str, str]:
        tags = {TRIGGER_TAG: trigger, WINDOW_TAG: self.window.to_tag()}
        span = self.span()
        if span:
            tags[RANGE_START_TAG], tags[RANGE_END_TAG] = span[0].isoformat(), span[1].isoformat()
            tags[PARTITIONS_TAG] = json.dumps(
                {a: compress(d) for a, d in sorted(self.days.items()) if d}, separators=(",", ":")
            )
        return tags

    def run_request(self, trigger: str, run_key: str | None = None) -> dg.RunRequest:
        return dg.RunRequest(run_key=run_key, asset_selection=self.asset_keys(), tags=self.tags(trigger))

    def describe(self) -> str:
        parts = [f"{a}: {compress(d)}" for a, d in sorted(self.days.items()) if d]
        parts += sorted(self.unpartitioned)
        return "; ".join(parts) or "nothing"


def plan(
    portals: Mapping[str, PostgresResource],
    warehouse: PostgresResource,
    *,
    now: datetime | None = None,
    full: bool = False,
    also_days: Iterable[date] = (),
    also_assets: Iterable[str] = (),
) -> Plan:
    """The run that loads every change since the stored watermarks (or everything, ``full``).

    ``also_days`` are added to every partitioned asset (the nightly load's yesterday) and
    ``also_assets`` to the unpartitioned ones (the nightly load rebuilds every dimension).
    """
    window = open_window(portals, warehouse, full=full)
    bounds = partition_days(now)
    if full:
        every = set() if bounds is None else {
            bounds[0] + timedelta(days=i) for i in range((bounds[1] - bounds[0]).days + 1)
        }
        wanted = {a: set(every) for a in PARTITIONED_ASSETS}
        unpartitioned = set(UNPARTITIONED_ASSETS)
    else:
        wanted = changed_days(portals, window.since, window.until)
        members = changed_members(portals, window.since, window.until)
        unpartitioned = {a for name, n in members.items() if n for a in SOURCE_BY_NAME[name].assets}
    extra = set(also_days)
    for asset in PARTITIONED_ASSETS:
        wanted.setdefault(asset, set()).update(extra)
    unpartitioned |= set(also_assets)
    days, deferred = {}, {}
    for asset, wanted_days in wanted.items():
        inside = {d for d in wanted_days if bounds and bounds[0] <= d <= bounds[1]}
        days[asset] = inside
        if wanted_days - inside:
            deferred[asset] = wanted_days - inside
    return Plan(window=window, days=days, unpartitioned=unpartitioned, deferred=deferred)


# ------------------------------------------------------------------ after a successful run


def advance(warehouse: PostgresResource, window: Window, run_id: str) -> dict[str, tuple[datetime | None, datetime]]:
    """Move each watermark to the window's ``until``, once the run that loaded it succeeded.

    A source moves only if the run's window starts at or before the stored watermark (or the
    run loaded everything): then stored and loaded changes leave no gap. Watermarks never move
    back, so applying the same run twice, or an older run late, changes nothing.
    Returns the moves made: source -> (previous, new).
    """
    moved: dict[str, tuple[datetime | None, datetime]] = {}
    with warehouse.transaction() as conn:
        conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('etl_watermarks', 0))")
        for name, until in sorted(window.until.items()):
            source = SOURCE_BY_NAME.get(name)
            if source is None or until is None:
                continue
            since = window.since.get(name)
            db = DATABASES[source.portal].name
            row = conn.execute(_LOCK_STORED, (db, source.table)).fetchone()
            stored = row[0] if row else None
            if since is not None and (stored is None or since > stored):
                continue  # the run did not load (stored, since]: moving would skip those changes
            if stored is not None and until <= stored:
                continue
            params = {"db": db, "table": source.table, "watermark": until, "run": run_id,
                      "previous": stored, "since": since}
            conn.execute(_UPSERT, params)
            conn.execute(_HISTORY, params)
            moved[name] = (stored, until)
    return moved


def window_of(tags: Mapping[str, str]) -> Window | None:
    """The watermark window a run was asked to load, if it carries one."""
    value = tags.get(WINDOW_TAG)
    if not value:
        return None
    try:
        return Window.from_tag(value)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError):
        return None
