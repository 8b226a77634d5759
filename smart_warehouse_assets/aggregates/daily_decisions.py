"""agg_daily_decisions: what was decided each day, a GROUP BY of the decided applications.

The submission-day aggregate answers "what came in"; a dashboard of what was decided this
week needs the decision day. Partitioned by the IST decision day (decided_date_key). In a
change-driven run it merges by day (merge.py): it recomputes the decision days that
fact_service_applications queued for the rows it merged, as they were and as they are, so a
decision corrected to another day (or taken back) recomputes the day it left as well as the
day it entered, and a payment recomputes its application's decision day (amount_disbursed).
operations/changes.py plans the current decision days of changed and paid applications, which
puts the asset in a sensor's run; the days it judges are those and the days it touched.
"""

from __future__ import annotations

from psycopg import sql

from smart_warehouse_assets.facts.load import DailyLoad, daily_asset
from smart_warehouse_assets.merge import Merge
from smart_warehouse_assets.quality.rules import (
    DATE,
    DEPARTMENT,
    SCHEME,
    batch_recorded,
    day_filter,
    keys_resolve,
    latest_partition_fresh,
    per_day,
    query_rows,
    schema_matches_contract,
)
from smart_warehouse_assets.quality.spec import ERROR, Check
from smart_warehouse_assets.sql_fragments import aliased

GRAIN = ("date_key", "scheme_key", "department_key", "state", "district")

AGG_DAILY_DECISIONS = DailyLoad(
    table="agg_daily_decisions",
    date_key="date_key",
    merge=Merge("date_key", "integer"),  # a change-driven run recomputes the days the fact queued
    source_days="SELECT to_date(decided_date_key::text, 'YYYYMMDD'), count(*) FROM public.fact_service_applications "
                "WHERE decided_date_key BETWEEN %(first_key)s AND %(last_key)s "
                "AND status IN ('approved', 'rejected') GROUP BY 1",
    select="""
        SELECT f.decided_date_key, f.scheme_key, f.department_key, coalesce(c.state, 'Unknown'),
               coalesce(c.district, 'Unknown'),
               count(*),
               count(*) FILTER (WHERE f.status = 'approved'),
               count(*) FILTER (WHERE f.status = 'rejected'),
               round(avg(CASE WHEN f.status = 'approved' THEN 1.0 ELSE 0.0 END), 5),
               round(avg(f.processing_days), 4),
               round(avg(f.processing_working_days), 4),
               round(avg(CASE WHEN f.sla_met THEN 1.0 ELSE 0.0 END) FILTER (WHERE f.sla_met IS NOT NULL), 5),
               sum(f.amount_approved),
               sum(f.amount_disbursed)
        FROM public.fact_service_applications f
        LEFT JOIN public.dim_citizen c ON c.citizen_key = f.citizen_key
        WHERE f.decided_date_key BETWEEN %(first_key)s AND %(last_key)s AND f.status IN ('approved', 'rejected')
        GROUP BY 1, 2, 3, 4, 5
    """,
    columns=(*GRAIN, "decisions", "approvals", "rejections", "approval_rate", "avg_processing_days",
             "avg_processing_working_days", "sla_compliance_rate", "amount_approved", "amount_disbursed"),
    lineage={
        "date_key": [("fact_service_applications", "decided_date_key")],
        "scheme_key": [("fact_service_applications", "scheme_key")],
        "department_key": [("fact_service_applications", "department_key")],
        "state": [("dim_citizen", "state"), ("fact_service_applications", "citizen_key")],
        "district": [("dim_citizen", "district"), ("fact_service_applications", "citizen_key")],
        "decisions": [("fact_service_applications", "status")],
        "approvals": [("fact_service_applications", "status")],
        "rejections": [("fact_service_applications", "status")],
        "approval_rate": [("fact_service_applications", "status")],
        "avg_processing_days": [("fact_service_applications", "processing_days")],
        "avg_processing_working_days": [("fact_service_applications", "processing_working_days")],
        "sla_compliance_rate": [("fact_service_applications", "sla_met")],
        "amount_approved": [("fact_service_applications", "amount_approved")],
        "amount_disbursed": [("fact_service_applications", "amount_disbursed")],
    },
)

_DIFF = """
WITH expected AS (SELECT * FROM ({select}) s ({columns})),
diff AS (
    SELECT coalesce(a.date_key, e.date_key) AS date_key,
           concat_ws('/', {grain_of_either}) AS grain
    FROM (SELECT * FROM public.agg_daily_decisions t WHERE {where}) a
    FULL JOIN expected e USING ({grain})
    WHERE a.date_key IS NULL OR e.date_key IS NULL OR ({measures_a}) IS DISTINCT FROM ({measures_e})
)
SELECT to_date(date_key::text, 'YYYYMMDD'), count(*), (array_agg(grain ORDER BY grain))[1:5] FROM diff
WHERE {judged} GROUP BY 1
"""
# A checks-only run without a range judges the decision days a successful load covered: a
# decision day after the last one loaded has rows in the fact (decided applications of the
# submission days loaded) but is simply not loaded yet.
_LOADED_DAY = """
EXISTS (SELECT 1 FROM public.etl_batches b WHERE b.asset_key = 'agg_daily_decisions' AND b.status = 'success'
        AND to_date(diff.date_key::text, 'YYYYMMDD') BETWEEN b.partition_start AND b.partition_end)
"""


def _matches_fact() -> Check:
    measures = [c for c in AGG_DAILY_DECISIONS.columns if c not in GRAIN]
    ident = sql.Identifier

    def evaluate(scope):
        where, params = day_filter("date_key", scope)
        params = params or {"first_key": 0, "last_key": 99_999_999}
        query = sql.SQL(_DIFF).format(
            select=sql.SQL(AGG_DAILY_DECISIONS.select),
            columns=sql.SQL(", ").join(map(ident, AGG_DAILY_DECISIONS.columns)),
            grain_of_either=sql.SQL(", ").join(
                sql.SQL("coalesce(a.{0}, e.{0})").format(ident(c)) for c in GRAIN),
            where=where,
            judged=sql.SQL("true" if scope.days else _LOADED_DAY),
            grain=sql.SQL(", ").join(map(ident, GRAIN)),
            measures_a=aliased("a", measures),
            measures_e=aliased("e", measures),
        )
        return per_day(scope, query_rows(scope, query, params), "= 0 groups differ", lambda v: v == 0)

    return Check(
        "matches_fact_group_by",
        "Each day of agg_daily_decisions equals a GROUP BY of the applications of fact_service_applications "
        "decided that day (counts, rates, average processing days, SLA compliance, amounts); without a "
        "range, over the decision days a load covered.",
        ERROR, evaluate,
    )


_GRAIN_TEXT = "concat_ws('/', t.date_key, t.scheme_key, t.department_key, t.state, t.district)"
CHECKS = [
    keys_resolve("agg_daily_decisions", "date_key",
                 {"scheme_key": SCHEME, "department_key": DEPARTMENT, "date_key": DATE}, _GRAIN_TEXT),
    _matches_fact(),
    batch_recorded("agg_daily_decisions", "date_key", _GRAIN_TEXT),
    schema_matches_contract("agg_daily_decisions"),
    latest_partition_fresh("agg_daily_decisions", "date_key"),
]

agg_daily_decisions = daily_asset(
    AGG_DAILY_DECISIONS,
    deps=["fact_service_applications", "dim_citizen"],
    group="aggregates",
    checks=CHECKS,
    description="Daily decisions per decision day x scheme x department x applicant state and district: "
    "decisions, approvals, rejections, approval rate, average processing days (calendar and working), "
    "SLA compliance, amounts approved and disbursed.",
)
