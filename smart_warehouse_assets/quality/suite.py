"""Which checks guard which asset, gathered: the one list of what the warehouse promises.

A fact's checks sit beside its SQL in its own module (facts/*.py, aggregates/*.py); the
dimensions' and staging's are here. Checks are built by quality/rules.py.
"""

from __future__ import annotations

from psycopg import sql

from smart_warehouse_assets.aggregates import daily_applications, model_performance
from smart_warehouse_assets.facts import (
    application_processing,
    eligibility_scoring,
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

DIMENSIONS = {
    "dim_date": [
        table_count_check("calendar_complete", "dim_date has every day between its first and last with "
                          "date_key = YYYYMMDD of full_date.", sql.SQL(_CALENDAR_GAPS)),
        schema_matches_contract("dim_date"),
    ],
    "dim_citizen": _scd2_suite("dim_citizen", "citizen_id", "citizen_key"),
    "dim_scheme": _scd2_suite("dim_scheme", "scheme_id", "scheme_key"),
    "dim_department": _scd2_suite("dim_department", "department_id", "department_key"),
    "dim_model": _scd2_suite("dim_model", "model_id", "model_key"),
}

FACTS = {
    "fact_service_applications": service_applications.CHECKS,
    "fact_application_processing": application_processing.CHECKS,
    "fact_eligibility_scoring": eligibility_scoring.CHECKS,
    "fact_prediction_outcome": prediction_outcome.CHECKS,
    "agg_daily_applications": daily_applications.CHECKS,
    "agg_model_performance": model_performance.CHECKS,
}

STAGING = {
    entry.staging.staging_table: [quarantine_rate(entry.staging.staging_table, entry.source_database, entry.table,
                                                  entry.partitioned)]
    for entry in registry.STAGED
}
