"""Which checks guard which asset: the one place to read what the warehouse promises."""

from __future__ import annotations

from psycopg import sql

from smart_warehouse_assets.aggregates.daily_applications import AGG_DAILY_APPLICATIONS
from smart_warehouse_assets.quality.contract import APPLICATION_STATUSES
from smart_warehouse_assets.quality.reconcile import Reconciliation, reconciliation_check
from smart_warehouse_assets.quality.rules import (
    batch_recorded,
    count_offending,
    day_filter,
    keys_resolve,
    latest_partition_fresh,
    per_day,
    quarantine_rate,
    query_rows,
    schema_matches_contract,
    scd2_checks,
    table_count_check,
    unknown_member_rate,
)
from smart_warehouse_assets.quality.spec import ERROR, Check
from smart_warehouse_assets.staging.sources import DIMENSION_SOURCES, EVENT_SOURCES

DATE = ("dim_date", "date_key")
CITIZEN = ("dim_citizen", "citizen_key")
SCHEME = ("dim_scheme", "scheme_key")
DEPARTMENT = ("dim_department", "department_key")
_STATUSES = ", ".join(f"'{s}'" for s in APPLICATION_STATUSES)

_AGG_DIFF = """
WITH expected AS ({select}),
diff AS (
    SELECT coalesce(a.date_key, e.date_key) AS date_key,
           concat_ws('/', coalesce(a.date_key, e.date_key), coalesce(a.scheme_key, e.scheme_key),
                     coalesce(a.department_key, e.department_key), coalesce(a.district, e.district)) AS grain
    FROM (SELECT * FROM public.agg_daily_applications t WHERE {where}) a
    FULL JOIN expected e USING (date_key, scheme_key, department_key, district)
    WHERE a.date_key IS NULL OR e.date_key IS NULL
       OR (a.applications_submitted, a.applications_approved, a.applications_rejected,
           a.applications_pending, a.applications_withdrawn, a.amount_requested, a.amount_approved,
           a.avg_processing_days, a.sla_compliance_rate)
          IS DISTINCT FROM
          (e.applications_submitted, e.applications_approved, e.applications_rejected,
           e.applications_pending, e.applications_withdrawn, e.amount_requested, e.amount_approved,
           e.avg_processing_days, e.sla_compliance_rate)
)
SELECT to_date(date_key::text, 'YYYYMMDD'), count(*), (array_agg(grain ORDER BY grain))[1:5] FROM diff GROUP BY 1
"""


def _aggregate_matches_fact() -> Check:
    def evaluate(scope):
        where, params = day_filter("date_key", scope)
        params = params or {"first_key": 0, "last_key": 99_999_999}
        expected_cols = sql.SQL(", ").join(map(sql.Identifier, AGG_DAILY_APPLICATIONS.columns))
        select = sql.SQL("SELECT * FROM ({}) s ({})").format(sql.SQL(AGG_DAILY_APPLICATIONS.select), expected_cols)
        query = sql.SQL(_AGG_DIFF).format(select=select, where=where)
        return per_day(scope, query_rows(scope, query, params), "= 0 groups differ", lambda v: v == 0)

    return Check(
        "matches_fact_group_by",
        "Each day of agg_daily_applications equals a GROUP BY of fact_service_applications for that day "
        "(counts, amounts, average processing days, SLA compliance).",
        ERROR, evaluate,
    )


FACT_SERVICE_APPLICATIONS = [
    keys_resolve("fact_service_applications", "submitted_date_key",
                 {"citizen_key": CITIZEN, "scheme_key": SCHEME, "department_key": DEPARTMENT,
                  "submitted_date_key": DATE, "decided_date_key": DATE}, "t.application_id::text"),
    unknown_member_rate("fact_service_applications", "submitted_date_key", ("citizen_key", "scheme_key", "department_key")),
    reconciliation_check(Reconciliation(
        fact="fact_service_applications", date_key="submitted_date_key", natural_key="application_id",
        portal="citizen", source_database="smart_citizen", source_table="service_applications",
        source_where="t.submitted_at IS NOT NULL", event="submitted_at", amount="amount_requested")),
    count_offending("processing_days_non_negative", "processing_days is never negative (a decision precedes "
                    "no submission).", "fact_service_applications", "submitted_date_key",
                    "t.processing_days < 0", "t.application_id::text"),
    count_offending("sla_met_consistent", "sla_met = (processing_days <= sla_days), null while undecided; "
                    "decided (approved/rejected) exactly when decided_date_key is set.",
                    "fact_service_applications", "submitted_date_key",
                    "t.sla_met IS DISTINCT FROM (t.processing_days <= t.sla_days) "
                    "OR (t.status IN ('approved', 'rejected')) <> (t.decided_date_key <> -1)",
                    "t.application_id::text"),
    count_offending("status_in_vocabulary", f"status is one of {_STATUSES}.", "fact_service_applications",
                    "submitted_date_key", sql.SQL("t.status NOT IN ({})").format(
                        sql.SQL(", ").join(map(sql.Literal, APPLICATION_STATUSES))),
                    "t.application_id::text"),
    batch_recorded("fact_service_applications", "submitted_date_key", "t.application_id::text"),
    schema_matches_contract("fact_service_applications"),
    latest_partition_fresh("fact_service_applications", "submitted_date_key"),
]

FACT_APPLICATION_PROCESSING = [
    keys_resolve("fact_application_processing", "action_date_key",
                 {"department_key": DEPARTMENT, "scheme_key": SCHEME, "acting_department_key": DEPARTMENT,
                  "action_date_key": DATE}, "t.action_id::text"),
    unknown_member_rate("fact_application_processing", "action_date_key", ("department_key", "scheme_key")),
    reconciliation_check(Reconciliation(
        fact="fact_application_processing", date_key="action_date_key", natural_key="action_id",
        portal="dept", source_database="smart_dept", source_table="processing_actions",
        source_where="t.status <> 'deleted'", event="action_at", amount=None)),
    count_offending("processing_minutes_non_negative", "processing_minutes is never negative: an action "
                    "follows the previous action (or the submission).", "fact_application_processing",
                    "action_date_key", "t.processing_minutes < 0", "t.action_id::text"),
    count_offending("step_number_positive", "step_number starts at 1.", "fact_application_processing",
                    "action_date_key", "t.step_number < 1", "t.action_id::text"),
    batch_recorded("fact_application_processing", "action_date_key", "t.action_id::text"),
    schema_matches_contract("fact_application_processing"),
    latest_partition_fresh("fact_application_processing", "action_date_key"),
]

FACT_ELIGIBILITY_SCORING = [
    keys_resolve("fact_eligibility_scoring", "prediction_date_key",
                 {"citizen_key": CITIZEN, "scheme_key": SCHEME, "department_key": DEPARTMENT,
                  "prediction_date_key": DATE}, "t.prediction_id::text"),
    unknown_member_rate("fact_eligibility_scoring", "prediction_date_key", ("citizen_key", "scheme_key")),
    reconciliation_check(Reconciliation(
        fact="fact_eligibility_scoring", date_key="prediction_date_key", natural_key="prediction_id",
        portal="aiml", source_database="smart_aiml", source_table="predictions",
        source_where="t.use_case_code = 'ELIGIBILITY_SCORING' AND t.status <> 'deleted'",
        event="predicted_at", amount="eligibility_score")),
    count_offending("scores_in_range", "eligibility_score and confidence_score lie in [0, 1].",
                    "fact_eligibility_scoring", "prediction_date_key",
                    "NOT (t.eligibility_score BETWEEN 0 AND 1) OR NOT (t.confidence_score BETWEEN 0 AND 1)",
                    "t.prediction_id::text"),
    count_offending("is_correct_consistent", "is_correct = (predicted_eligible = (actual_outcome = 'approved')), "
                    "null until decided.", "fact_eligibility_scoring", "prediction_date_key",
                    "t.is_correct IS DISTINCT FROM (t.predicted_eligible = (t.actual_outcome = 'approved'))",
                    "t.prediction_id::text"),
    batch_recorded("fact_eligibility_scoring", "prediction_date_key", "t.prediction_id::text"),
    schema_matches_contract("fact_eligibility_scoring"),
    latest_partition_fresh("fact_eligibility_scoring", "prediction_date_key"),
]

_AGG_GRAIN = "concat_ws('/', t.date_key, t.scheme_key, t.department_key, t.district)"
AGG_DAILY_APPLICATIONS_CHECKS = [
    keys_resolve("agg_daily_applications", "date_key",
                 {"scheme_key": SCHEME, "department_key": DEPARTMENT, "date_key": DATE}, _AGG_GRAIN),
    _aggregate_matches_fact(),
    count_offending("avg_processing_days_non_negative", "avg_processing_days is never negative.",
                    "agg_daily_applications", "date_key", "t.avg_processing_days < 0", _AGG_GRAIN),
    batch_recorded("agg_daily_applications", "date_key", _AGG_GRAIN),
    schema_matches_contract("agg_daily_applications"),
    latest_partition_fresh("agg_daily_applications", "date_key"),
]


def _scd2_suite(table: str, natural_key: str, key: str) -> list[Check]:
    return [*scd2_checks(table, natural_key, key), schema_matches_contract(table)]


_CALENDAR_GAPS = """
SELECT count(*), (array_agg(d::date::text ORDER BY d))[1:5]
FROM generate_series((SELECT min(full_date) FROM public.dim_date), (SELECT max(full_date) FROM public.dim_date),
                     interval '1 day') d
WHERE NOT EXISTS (SELECT 1 FROM public.dim_date x WHERE x.full_date = d::date
                  AND x.date_key = to_char(d, 'YYYYMMDD')::int)
"""

DIMENSIONS = {
    "dim_date": [
        table_count_check("calendar_complete", "dim_date has every day between its first and last with "
                          "date_key = YYYYMMDD of full_date.", sql.SQL(_CALENDAR_GAPS)),
        schema_matches_contract("dim_date"),
    ],
    "dim_citizen": _scd2_suite("dim_citizen", "citizen_id", "citizen_key"),
    "dim_scheme": _scd2_suite("dim_scheme", "scheme_id", "scheme_key"),
    "dim_department": _scd2_suite("dim_department", "department_id", "department_key"),
}

FACTS = {
    "fact_service_applications": FACT_SERVICE_APPLICATIONS,
    "fact_application_processing": FACT_APPLICATION_PROCESSING,
    "fact_eligibility_scoring": FACT_ELIGIBILITY_SCORING,
    "agg_daily_applications": AGG_DAILY_APPLICATIONS_CHECKS,
}

STAGING = {
    spec.staging_table: [quarantine_rate(spec.staging_table, spec.source_database, spec.source_table,
                                         spec.partitioned)]
    for spec in (*DIMENSION_SOURCES, *EVENT_SOURCES)
}
