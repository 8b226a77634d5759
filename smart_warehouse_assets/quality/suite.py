"""Which checks guard which asset, gathered: the one list of what the warehouse promises.

A fact's checks sit beside its SQL in its own module (facts/*.py, aggregates/*.py); the
dimensions' and staging's are here. Checks are built by quality/rules.py.
"""

from __future__ import annotations

from psycopg import sql

from smart_warehouse_assets.aggregates import daily_applications, daily_decisions, model_performance
from smart_warehouse_assets.facts import (
    application_processing,
    eligibility_scoring,
    payments,
    prediction_outcome,
    service_applications,
)
from smart_warehouse_assets.quality.rules import (
    quarantine_rate,
    schema_matches_contract,
    scd2_checks,
    table_count_check,
)
from smart_warehouse_assets.quality.spec import Check
from smart_warehouse_assets.sources import registry

def _scd2_suite(table: str, natural_key: str, key: str) -> list[Check]:
    return [*scd2_checks(table, natural_key, key), schema_matches_contract(table)]


_CALENDAR_GAPS = """
SELECT count(*), (array_agg(d::date::text ORDER BY d))[1:5]
FROM generate_series((SELECT min(full_date) FROM public.dim_date), (SELECT max(full_date) FROM public.dim_date),
                     interval '1 day') d
WHERE NOT EXISTS (SELECT 1 FROM public.dim_date x WHERE x.full_date = d::date
                  AND x.date_key = to_char(d, 'YYYYMMDD')::int)
"""

# Consecutive days only: a missing day is calendar_complete's to report.
_WORKING_DAYS = """
SELECT count(*), (array_agg(full_date::text ORDER BY full_date))[1:5]
FROM (SELECT full_date, is_working_day, is_weekend, is_holiday, working_day_number,
             lag(full_date) OVER w AS previous_day, lag(working_day_number) OVER w AS previous_number
      FROM public.dim_date WHERE date_key <> -1 WINDOW w AS (ORDER BY full_date)) d
WHERE is_working_day <> (NOT is_weekend AND NOT is_holiday)
   OR (previous_day IS NULL AND working_day_number <> is_working_day::int)
   OR (previous_day = full_date - 1 AND working_day_number <> previous_number + is_working_day::int)
"""

_HOLIDAYS_OFF_CALENDAR = """
SELECT count(*), (array_agg(k ORDER BY k))[1:5] FROM (
    SELECT h.date_key::text || ' ' || coalesce(h.state, 'national') AS k
    FROM public.dim_holiday h LEFT JOIN public.dim_date d ON d.date_key = h.date_key
    WHERE d.full_date IS DISTINCT FROM h.full_date
       OR (h.is_national AND (NOT d.is_holiday OR d.holiday_name IS DISTINCT FROM h.holiday_name))
    UNION ALL
    SELECT d.date_key::text || ' national, only in dim_date' FROM public.dim_date d
    WHERE d.is_holiday AND NOT EXISTS (SELECT 1 FROM public.dim_holiday h WHERE h.date_key = d.date_key AND h.is_national)
) x
"""

DIMENSIONS = {
    "dim_date": [
        table_count_check("calendar_complete", "dim_date has every day between its first and last with "
                          "date_key = YYYYMMDD of full_date.", sql.SQL(_CALENDAR_GAPS)),
        table_count_check("working_days_consistent", "is_working_day = a weekday that is no national holiday, "
                          "and working_day_number counts the working days up to each day.",
                          sql.SQL(_WORKING_DAYS)),
        schema_matches_contract("dim_date"),
    ],
    "dim_holiday": [
        table_count_check("holidays_match_calendar", "Every holiday falls on a dim_date day; the national "
                          "ones are exactly dim_date's holidays, with the same names.",
                          sql.SQL(_HOLIDAYS_OFF_CALENDAR)),
        schema_matches_contract("dim_holiday"),
    ],
    "dim_citizen": _scd2_suite("dim_citizen", "citizen_id", "citizen_key"),
    "dim_scheme": _scd2_suite("dim_scheme", "scheme_id", "scheme_key"),
    "dim_department": _scd2_suite("dim_department", "department_id", "department_key"),
    "dim_model": _scd2_suite("dim_model", "model_id", "model_key"),
    "dim_designation": _scd2_suite("dim_designation", "designation_id", "designation_key"),
}

FACTS = {
    "fact_service_applications": service_applications.CHECKS,
    "fact_application_processing": application_processing.CHECKS,
    "fact_eligibility_scoring": eligibility_scoring.CHECKS,
    "fact_prediction_outcome": prediction_outcome.CHECKS,
    "fact_payments": payments.CHECKS,
    "agg_daily_applications": daily_applications.CHECKS,
    "agg_daily_decisions": daily_decisions.CHECKS,
    "agg_model_performance": model_performance.CHECKS,
}

STAGING = {
    entry.staging.staging_table: [quarantine_rate(entry.staging.staging_table, entry.source_database, entry.table,
                                                  entry.partitioned)]
    for entry in registry.STAGED
}
