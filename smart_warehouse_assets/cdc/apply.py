"""What a batch of decoded portal changes does to the warehouse, inside one transaction.

Applications (the critical metrics) are applied in full: the latest image of every changed
application goes through the registry's own landing rules (checked, staged, quarantined),
its staging and fact rows are replaced by natural key with the fact's own SELECT, and the
aggregate figures of every submission day it touched are recomputed — the live table for
days the nightly load has not finalized, ``agg_daily_applications`` for days it has (so
the aggregate keeps equalling a GROUP BY of the fact). A hard delete removes the rows.
Processing actions and predictions: a hard delete removes their staging and fact rows (and
an action that breached its step SLA recomputes its application's submission day, whose
``step_sla_breaches`` counted it); their inserts and updates carry a new ``updated_at`` (the
portals' triggers stamp it) and reach the warehouse through the watermark path, whose
derived columns (previous action, model, application outcome) need the portals' other tables.

Every statement is keyed by natural key, so applying the same changes twice gives the
same warehouse: that, and the LSN recorded in the same transaction, make the consumer's
at-least-once delivery exactly-once in effect.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import psycopg
from psycopg import sql

from smart_warehouse_assets.aggregates.daily_applications import AGG_DAILY_APPLICATIONS
from smart_warehouse_assets.batches import lock_asset
from smart_warehouse_assets.facts.application_processing import FACT_APPLICATION_PROCESSING, STEP_BREACH_GROUP
from smart_warehouse_assets.facts.eligibility_scoring import FACT_ELIGIBILITY_SCORING
from smart_warehouse_assets.facts.service_applications import FACT_SERVICE_APPLICATIONS
from smart_warehouse_assets.sources.registry import PREDICTIONS, PROCESSING_ACTIONS, SERVICE_APPLICATIONS
from smart_warehouse_assets.staging.extract import _QUARANTINE, _column_names

APPLICATIONS = SERVICE_APPLICATIONS
# Event tables whose hard deletes are applied by key: source entry -> its fact.
DELETED_BY_KEY = {
    (APPLICATIONS.portal, APPLICATIONS.table): (APPLICATIONS, FACT_SERVICE_APPLICATIONS),
    (PROCESSING_ACTIONS.portal, PROCESSING_ACTIONS.table): (PROCESSING_ACTIONS, FACT_APPLICATION_PROCESSING),
    (PREDICTIONS.portal, PREDICTIONS.table): (PREDICTIONS, FACT_ELIGIBILITY_SCORING),
}
LIVE_ASSET = "agg_live_applications"
KEEP_LIVE_DAYS = 7  # live rows of finalized days are kept this long, for comparison

_DELETE_STAGED = "DELETE FROM staging.{t} WHERE {pk} IN (SELECT k FROM cdc_keys)"
_DELETE_REJECTED = """
DELETE FROM staging.rejected_rows WHERE source_database = %(db)s AND source_table = %(table)s
  AND source_pk IN (SELECT k::text FROM cdc_keys)
"""
_FACT_DAYS = "SELECT DISTINCT {date_key} FROM public.{t} WHERE {nk} IN (SELECT k FROM cdc_keys)"
_DELETE_FACT = "DELETE FROM public.{t} WHERE {nk} IN (SELECT k FROM cdc_keys)"
_ALL_DAYS = {"first": date(1900, 1, 1), "last": date(9999, 12, 31)}

_LIVE = """
INSERT INTO public.agg_live_applications
    (date_key, scheme_key, department_key, district, applications_submitted, applications_decided,
     applications_approved, applications_rejected, applications_pending, applications_withdrawn,
     sla_breaches, amount_requested, amount_approved, refreshed_at, etl_batch_id)
SELECT f.submitted_date_key, f.scheme_key, f.department_key, coalesce(c.district, 'Unknown'),
       count(*),
       count(*) FILTER (WHERE f.status IN ('approved', 'rejected')),
       count(*) FILTER (WHERE f.status = 'approved'),
       count(*) FILTER (WHERE f.status = 'rejected'),
       count(*) FILTER (WHERE f.status IN ('submitted', 'under_review')),
       count(*) FILTER (WHERE f.status = 'withdrawn'),
       count(*) FILTER (WHERE (f.status IN ('approved', 'rejected') AND NOT f.sla_met)
                           OR (f.status IN ('submitted', 'under_review')
                               AND (now() AT TIME ZONE 'Asia/Kolkata')::date
                                   - (f.submitted_at AT TIME ZONE 'Asia/Kolkata')::date > f.sla_days)),
       sum(f.amount_requested), sum(f.amount_approved), clock_timestamp(), %(batch)s
FROM public.fact_service_applications f
LEFT JOIN public.dim_citizen c ON c.citizen_key = f.citizen_key
WHERE f.submitted_date_key = ANY(%(days)s)
GROUP BY 1, 2, 3, 4
"""
_LAST_FINAL = "SELECT coalesce(max(date_key), 0) FROM public.agg_daily_applications"
_PRUNE_LIVE = """
DELETE FROM public.agg_live_applications
WHERE date_key < to_char(to_date(%(last)s::text, 'YYYYMMDD') - %(keep)s, 'YYYYMMDD')::integer
"""


def _keys(conn: psycopg.Connection, keys) -> None:
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS cdc_keys (k uuid PRIMARY KEY) ON COMMIT DROP")
    conn.execute("TRUNCATE cdc_keys")
    with conn.cursor().copy("COPY cdc_keys (k) FROM STDIN") as cp:
        for k in keys:
            cp.write_row((k,))


def _fact_days(conn, load) -> set[int]:
    q = sql.SQL(_FACT_DAYS).format(date_key=sql.Identifier(load.date_key), t=sql.Identifier(load.table),
                                   nk=sql.Identifier(load.natural_key))
    return {d for (d,) in conn.execute(q)}


def _remove(conn, entry, load) -> None:
    """Staging, quarantine and fact rows of the keys in cdc_keys."""
    conn.execute(sql.SQL(_DELETE_STAGED).format(t=sql.Identifier(entry.staging.staging_table),
                                               pk=sql.Identifier(entry.staging.pk)))
    conn.execute(_DELETE_REJECTED, {"db": entry.source_database, "table": entry.table})
    conn.execute(sql.SQL(_DELETE_FACT).format(t=sql.Identifier(load.table), nk=sql.Identifier(load.natural_key)))


def _insert_facts(conn: psycopg.Connection, batch_id: int) -> None:
    """The application facts of the keys in cdc_keys, by the fact's own SELECT from staging."""
    load = FACT_SERVICE_APPLICATIONS
    conn.execute(sql.SQL(
        "INSERT INTO public.{t} ({cols}, etl_batch_id) SELECT f.*, %(batch)s FROM ({select}) f "
        "WHERE f.{nk} IN (SELECT k FROM cdc_keys)").format(
            t=sql.Identifier(load.table), cols=sql.SQL(", ").join(map(sql.Identifier, load.columns)),
            select=sql.SQL(load.select), nk=sql.Identifier(load.natural_key)), _ALL_DAYS | {"batch": batch_id})


def delete_rows(conn: psycopg.Connection, portal: str, table: str, keys: list[str]) -> set[int]:
    """A hard delete of event rows: their staging, quarantine and fact rows go. Returns the
    submission days whose aggregate figures they change: those of the applications of the
    removed actions that breached their step SLA (the processing fact's own feed, merge.py)."""
    entry, load = DELETED_BY_KEY[(portal, table)]
    lock_asset(conn, entry.staging_key.to_user_string())
    lock_asset(conn, load.table)
    _keys(conn, keys)
    days: set[int] = set()
    if load is FACT_APPLICATION_PROCESSING:
        days = {d for (d,) in conn.execute(sql.SQL(
            "SELECT DISTINCT split_part(({}), '|', 1)::integer FROM public.fact_application_processing t "
            "WHERE t.action_id IN (SELECT k FROM cdc_keys)").format(sql.SQL(STEP_BREACH_GROUP))) if d is not None}
        if days:
            lock_asset(conn, AGG_DAILY_APPLICATIONS.table)
            lock_asset(conn, LIVE_ASSET)
    _remove(conn, entry, load)
    return days


def apply_applications(
    conn: psycopg.Connection, columns: tuple[str, ...], images: Mapping[str, tuple | None], batch_id: int
) -> set[int]:
    """Replace the changed applications (None: deleted); returns the submission days touched."""
    entry, load = APPLICATIONS, FACT_SERVICE_APPLICATIONS
    spec = entry.staging
    for asset in (entry.staging_key.to_user_string(), load.table, "agg_daily_applications", LIVE_ASSET):
        lock_asset(conn, asset)
    _keys(conn, images.keys())
    days = _fact_days(conn, load)

    landing = _column_names(spec.landing_ddl)
    index = [columns.index(c) for c in landing]
    conn.execute(sql.SQL("CREATE TEMP TABLE land ({}) ON COMMIT DROP").format(sql.SQL(spec.landing_ddl)))
    with conn.cursor().copy(sql.SQL("COPY land ({}) FROM STDIN").format(
            sql.SQL(", ").join(map(sql.Identifier, landing)))) as cp:
        for values in images.values():
            if values is not None:
                cp.write_row([values[i] for i in index])
    # Only the rows that feed the warehouse (a draft has no submission yet): the rest leave it.
    conn.execute(sql.SQL("DELETE FROM land t WHERE NOT ({})").format(entry.feeds("t")))
    conn.execute(sql.SQL("CREATE TEMP TABLE checked ON COMMIT DROP AS {}").format(sql.SQL(spec.checked)))

    _remove(conn, entry, load)
    names = {"db": entry.source_database, "table": entry.table, "batch": batch_id}
    conn.execute(sql.SQL(_QUARANTINE).format(pk=sql.Identifier(spec.pk)), names)
    conn.execute(sql.SQL("INSERT INTO staging.{} ({}, etl_batch_id) SELECT s.*, %(batch)s FROM ({}) s").format(
        sql.Identifier(spec.staging_table), sql.SQL(", ").join(map(sql.Identifier, spec.stage_columns)),
        sql.SQL(spec.stage)), names)
    _insert_facts(conn, batch_id)
    return days | _fact_days(conn, load)


_UNKNOWN_MEMBERS = """
SELECT application_id FROM public.fact_service_applications
WHERE submitted_date_key = ANY(%(days)s) AND -1 IN (citizen_key, scheme_key, department_key)
"""


def _resolve_unknown_members(conn: psycopg.Connection, days: list[int], batch_id: int) -> None:
    """Rebuild the live days' fact rows that point at an unknown member (-1): an applicant who
    registered after the dimension's last refresh is found once the refresh has loaded them."""
    keys = [k for (k,) in conn.execute(_UNKNOWN_MEMBERS, {"days": days})]
    if not keys:
        return
    load = FACT_SERVICE_APPLICATIONS
    _keys(conn, keys)
    conn.execute(sql.SQL(_DELETE_FACT).format(t=sql.Identifier(load.table), nk=sql.Identifier(load.natural_key)))
    _insert_facts(conn, batch_id)


def refresh_figures(conn: psycopg.Connection, days: set[int], batch_id: int) -> dict[str, int]:
    """Recompute the aggregate figures of the submission days touched; returns rows written."""
    if not days:
        return {"live_days": 0, "final_days": 0}
    last_final = conn.execute(_LAST_FINAL).fetchone()[0]
    live = sorted(d for d in days if d > last_final)
    final = sorted(d for d in days if d <= last_final)
    if final:
        agg = sql.Identifier(AGG_DAILY_APPLICATIONS.table)
        params = {"first_key": final[0], "last_key": final[-1], "days": final, "batch": batch_id}
        conn.execute(sql.SQL("DELETE FROM public.{} WHERE date_key = ANY(%(days)s)").format(agg), params)
        conn.execute(sql.SQL(
            "INSERT INTO public.{} ({}, etl_batch_id) SELECT s.*, %(batch)s FROM ({}) s "
            "WHERE s.date_key = ANY(%(days)s)").format(
                agg, sql.SQL(", ").join(map(sql.Identifier, AGG_DAILY_APPLICATIONS.columns)),
                sql.SQL("SELECT * FROM ({}) g ({})").format(
                    sql.SQL(AGG_DAILY_APPLICATIONS.select),
                    sql.SQL(", ").join(map(sql.Identifier, AGG_DAILY_APPLICATIONS.columns)))), params)
    if live:
        _resolve_unknown_members(conn, live, batch_id)
        conn.execute("DELETE FROM public.agg_live_applications WHERE date_key = ANY(%s)", (live,))
        conn.execute(_LIVE, {"days": live, "batch": batch_id})
    if last_final:
        conn.execute(_PRUNE_LIVE, {"last": last_final, "keep": KEEP_LIVE_DAYS})
    return {"live_days": len(live), "final_days": len(final)}
