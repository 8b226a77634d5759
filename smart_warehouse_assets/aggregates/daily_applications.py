"""agg_daily_applications: a GROUP BY of the fact's days, computed in the database.

The state and district are the applicant's in the citizen version the fact points to (the
version valid at submission); avg_processing_days and sla_compliance_rate are over the
group's decided applications and null when none is decided.

step_sla_breaches counts the workflow steps of the group's applications, on any action day,
that took longer than their chain step allows (fact_application_processing.step_sla_met =
false). It reads the processing fact, so the asset runs after it; in a change-driven run
that fact queues the group of the application of every breaching step it removes or writes
(facts/application_processing.py), and a step that lands on an old application recomputes
that application's group on its submission day here the same night.
"""

from __future__ import annotations

from psycopg import sql

from smart_warehouse_assets.facts.load import DailyLoad, daily_asset
from smart_warehouse_assets.merge import Merge, Regroup
from smart_warehouse_assets.quality.rules import (
    DATE,
    DEPARTMENT,
    SCHEME,
    batch_recorded,
    count_offending,
    day_filter,
    keys_resolve,
    latest_partition_fresh,
    per_day,
    query_rows,
    schema_matches_contract,
)
from smart_warehouse_assets.quality.spec import ERROR, Check

# The aggregate's rows computed from the applications in {facts} (the fact itself, or in a
# change-driven run the applications of the groups it recomputes).
_SELECT = """
        SELECT f.submitted_date_key, f.scheme_key, f.department_key, coalesce(c.state, 'Unknown'),
               coalesce(c.district, 'Unknown'),
               count(*),
               count(*) FILTER (WHERE f.status = 'approved'),
               count(*) FILTER (WHERE f.status = 'rejected'),
               count(*) FILTER (WHERE f.status IN ('submitted', 'under_review')),
               count(*) FILTER (WHERE f.status = 'withdrawn'),
               sum(f.amount_requested), sum(f.amount_approved),
               round(avg(f.processing_days) FILTER (WHERE f.status IN ('approved', 'rejected')), 4),
               round(avg(CASE WHEN f.sla_met THEN 1.0 ELSE 0.0 END)
                     FILTER (WHERE f.status IN ('approved', 'rejected') AND f.sla_met IS NOT NULL), 5),
               round(avg(CASE WHEN f.status = 'approved' THEN 1.0 ELSE 0.0 END)
                     FILTER (WHERE f.status IN ('approved', 'rejected')), 5),
               round(avg(CASE WHEN f.status = 'rejected' THEN 1.0 ELSE 0.0 END)
                     FILTER (WHERE f.status IN ('approved', 'rejected')), 5),
               sum(f.amount_disbursed),
               coalesce(sum(b.breaches), 0)::integer
        FROM {facts} f
        LEFT JOIN public.dim_citizen c ON c.citizen_key = f.citizen_key
        LEFT JOIN (SELECT p.application_id, count(*) AS breaches
                   FROM public.fact_application_processing p
                   WHERE NOT p.step_sla_met AND p.application_id IN (
                       SELECT a.application_id FROM {facts} a
                       WHERE a.submitted_date_key BETWEEN %(first_key)s AND %(last_key)s)
                   GROUP BY 1) b ON b.application_id = f.application_id
        WHERE f.submitted_date_key BETWEEN %(first_key)s AND %(last_key)s
        GROUP BY 1, 2, 3, 4, 5
"""

# A change-driven run is fed groups, not days: decisions land on applications of every age,
# so nearly every submission day changes each night, but only a few of its groups (scale 10:
# 14,907 of 210,261 rows). The facts queue "<submitted_date_key>|<scheme_key>|<department_key>|
# <citizen_key>" of each application row they remove or write (facts/keys.py,
# application_group); the applicant's version names the state and district, and a version's
# attributes never change (dimensions/scd2.py). A bare YYYYMMDD (a whole day, as queued before
# groups were) recomputes every group the day has or will have.
_GROUPS = """
CREATE TEMP TABLE groups ON COMMIT DROP AS
WITH queued AS (
    SELECT split_part(k, '|', 1)::integer AS date_key, nullif(split_part(k, '|', 2), '')::integer AS scheme_key,
           nullif(split_part(k, '|', 3), '')::integer AS department_key,
           nullif(split_part(k, '|', 4), '')::integer AS citizen_key, strpos(k, '|') = 0 AS whole_day
    FROM merging)
SELECT q.date_key, q.scheme_key, q.department_key, coalesce(c.state, 'Unknown') AS state,
       coalesce(c.district, 'Unknown') AS district
FROM queued q LEFT JOIN public.dim_citizen c ON c.citizen_key = q.citizen_key WHERE NOT q.whole_day
UNION
SELECT t.date_key, t.scheme_key, t.department_key, t.state, t.district FROM public.agg_daily_applications t
WHERE t.date_key IN (SELECT date_key FROM queued WHERE whole_day)
UNION
SELECT f.submitted_date_key, f.scheme_key, f.department_key, coalesce(c.state, 'Unknown'),
       coalesce(c.district, 'Unknown')
FROM public.fact_service_applications f LEFT JOIN public.dim_citizen c ON c.citizen_key = f.citizen_key
WHERE f.submitted_date_key IN (SELECT date_key FROM queued WHERE whole_day)
"""
# The applications of those groups, as they are now: what the groups are computed from. As a
# semi-join on the whole group: joined on its day, scheme and department alone, each group
# drew every application of its scheme's day (scale 10: 3.7 M rows for 74,000, 3.4 s).
_GROUP_FACTS = """
CREATE TEMP TABLE group_facts ON COMMIT DROP AS
SELECT f.* FROM public.fact_service_applications f
LEFT JOIN public.dim_citizen c ON c.citizen_key = f.citizen_key
WHERE (f.submitted_date_key, f.scheme_key, f.department_key, coalesce(c.state, 'Unknown'),
       coalesce(c.district, 'Unknown')) IN (SELECT date_key, scheme_key, department_key, state, district FROM groups)
"""

AGG_DAILY_APPLICATIONS = DailyLoad(
    table="agg_daily_applications",
    date_key="date_key",
    # A change-driven run recomputes the groups the facts queued (see _GROUPS).
    merge=Merge("date_key", "text", day_of_key="split_part({k}, '|', 1)::integer", regroup=Regroup(
        prepare=(_GROUPS, "ANALYZE groups", _GROUP_FACTS, "ANALYZE group_facts"),
        select=_SELECT.format(facts="group_facts"))),
    source_days="SELECT to_date(submitted_date_key::text, 'YYYYMMDD'), count(*) FROM public.fact_service_applications "
                "WHERE submitted_date_key BETWEEN %(first_key)s AND %(last_key)s GROUP BY 1",
    select=_SELECT.format(facts="public.fact_service_applications"),
    columns=("date_key", "scheme_key", "department_key", "state", "district", "applications_submitted",
             "applications_approved", "applications_rejected", "applications_pending",
             "applications_withdrawn", "amount_requested", "amount_approved",
             "avg_processing_days", "sla_compliance_rate", "approval_rate", "rejection_rate",
             "amount_disbursed", "step_sla_breaches"),
    # Planner settings. No parallel workers: a parallel plan builds the breaches subquery, which
    # is not parallel aware, once in each of its three processes, every one reading the whole
    # processing fact (scale 10, every day: 9.5 s of CPU, 6.3 s; in one process 4-5 s of both).
    # random_page_cost 2: one process then prices probing the processing fact for a few days'
    # applications above scanning it all (0.25 s -> 0.5-1 s for a day at the default 4, though the
    # fact is cached). No JIT: past jit_optimize_above_cost (a somewhat larger warehouse)
    # compiling costs more than it saves.
    settings=(("max_parallel_workers_per_gather", "0"), ("random_page_cost", "2"), ("jit", "off")),
    lineage={
        "date_key": [("fact_service_applications", "submitted_date_key")],
        "scheme_key": [("fact_service_applications", "scheme_key")],
        "department_key": [("fact_service_applications", "department_key")],
        "district": [("dim_citizen", "district"), ("fact_service_applications", "citizen_key")],
        "applications_submitted": [("fact_service_applications", "application_id")],
        "applications_approved": [("fact_service_applications", "status")],
        "applications_rejected": [("fact_service_applications", "status")],
        "applications_pending": [("fact_service_applications", "status")],
        "applications_withdrawn": [("fact_service_applications", "status")],
        "amount_requested": [("fact_service_applications", "amount_requested")],
        "amount_approved": [("fact_service_applications", "amount_approved")],
        "avg_processing_days": [("fact_service_applications", "processing_days")],
        "sla_compliance_rate": [("fact_service_applications", "sla_met")],
        "state": [("dim_citizen", "state"), ("fact_service_applications", "citizen_key")],
        "approval_rate": [("fact_service_applications", "status")],
        "rejection_rate": [("fact_service_applications", "status")],
        "amount_disbursed": [("fact_service_applications", "amount_disbursed")],
        "step_sla_breaches": [("fact_application_processing", "step_sla_met"),
                              ("fact_application_processing", "application_id"),
                              ("fact_service_applications", "application_id")],
    },
)

_AGG_DIFF = """
WITH expected AS ({select}),
diff AS (
    SELECT coalesce(a.date_key, e.date_key) AS date_key,
           concat_ws('/', coalesce(a.date_key, e.date_key), coalesce(a.scheme_key, e.scheme_key),
                     coalesce(a.department_key, e.department_key), coalesce(a.state, e.state),
                     coalesce(a.district, e.district)) AS grain
    FROM (SELECT * FROM public.agg_daily_applications t WHERE {where}) a
    FULL JOIN expected e USING (date_key, scheme_key, department_key, state, district)
    WHERE a.date_key IS NULL OR e.date_key IS NULL
       OR (a.applications_submitted, a.applications_approved, a.applications_rejected,
           a.applications_pending, a.applications_withdrawn, a.amount_requested, a.amount_approved,
           a.avg_processing_days, a.sla_compliance_rate, a.approval_rate, a.rejection_rate, a.amount_disbursed,
           a.step_sla_breaches)
          IS DISTINCT FROM
          (e.applications_submitted, e.applications_approved, e.applications_rejected,
           e.applications_pending, e.applications_withdrawn, e.amount_requested, e.amount_approved,
           e.avg_processing_days, e.sla_compliance_rate, e.approval_rate, e.rejection_rate, e.amount_disbursed,
           e.step_sla_breaches)
)
SELECT to_date(date_key::text, 'YYYYMMDD'), count(*), (array_agg(grain ORDER BY grain))[1:5] FROM diff GROUP BY 1
"""


def _aggregate_matches_fact() -> Check:
    def evaluate(scope):
        where, params = day_filter("date_key", scope)
        expected_where, _ = day_filter("date_key", scope, alias="s")
        params = params or {"first_key": 0, "last_key": 99_999_999}
        expected_cols = sql.SQL(", ").join(map(sql.Identifier, AGG_DAILY_APPLICATIONS.columns))
        select = sql.SQL("SELECT * FROM ({}) s ({}) WHERE {}").format(
            sql.SQL(AGG_DAILY_APPLICATIONS.select), expected_cols, expected_where)
        query = sql.SQL(_AGG_DIFF).format(select=select, where=where)
        rows = query_rows(scope, query, params, settings=AGG_DAILY_APPLICATIONS.settings)
        return per_day(scope, rows, "= 0 groups differ", lambda v: v == 0)

    return Check(
        "matches_fact_group_by",
        "Each day of agg_daily_applications equals a GROUP BY of fact_service_applications for that day "
        "(counts, amounts, average processing days, SLA compliance, approval and rejection rates, disbursed, "
        "step-SLA breaches of the applications' workflow steps in fact_application_processing).",
        ERROR, evaluate,
    )


# What guards it: judged on the days each load wrote.
_AGG_GRAIN = "concat_ws('/', t.date_key, t.scheme_key, t.department_key, t.state, t.district)"
CHECKS = [
    keys_resolve("agg_daily_applications", "date_key",
                 {"scheme_key": SCHEME, "department_key": DEPARTMENT, "date_key": DATE}, _AGG_GRAIN),
    _aggregate_matches_fact(),
    count_offending("avg_processing_days_non_negative", "avg_processing_days is never negative.",
                    "agg_daily_applications", "date_key", "t.avg_processing_days < 0", _AGG_GRAIN),
    batch_recorded("agg_daily_applications", "date_key", _AGG_GRAIN),
    schema_matches_contract("agg_daily_applications"),
    latest_partition_fresh("agg_daily_applications", "date_key"),
]

agg_daily_applications = daily_asset(
    AGG_DAILY_APPLICATIONS,
    deps=["fact_service_applications", "fact_application_processing", "dim_citizen"],
    group="aggregates",
    checks=CHECKS,
    description="Daily applications per submission day x scheme x department x applicant state and district: "
    "volumes, outcomes, approval and rejection rates, amounts requested, approved and disbursed, "
    "average processing days, SLA compliance and the workflow steps that breached their SLA.",
)
