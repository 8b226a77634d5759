"""fact_application_processing: one row per processing action, from the department portal.

Rows come from registry.PROCESSING_ACTIONS (staging/processing_actions); partitioned by the
IST action day, with the minutes since the application's previous action (or its submission).
"""

from __future__ import annotations

from smart_warehouse_assets.facts.keys import DATE_KEY, version_join
from smart_warehouse_assets.facts.load import DailyLoad, daily_asset
from smart_warehouse_assets.merge import Merge
from smart_warehouse_assets.quality.reconcile import reconciliation_check
from smart_warehouse_assets.quality.rules import (
    DATE,
    DEPARTMENT,
    SCHEME,
    batch_recorded,
    count_offending,
    keys_resolve,
    latest_partition_fresh,
    schema_matches_contract,
    unknown_member_rate,
)
from smart_warehouse_assets.sources import registry

FACT_APPLICATION_PROCESSING = DailyLoad(
    table="fact_application_processing",
    date_key="action_date_key",
    natural_key="action_id",
    merge=Merge("action_id", "uuid"),  # a change-driven run merges the changed actions
    source_days="SELECT partition_date, count(*) FROM staging.processing_actions "
                "WHERE partition_date BETWEEN %(first)s AND %(last)s GROUP BY 1",
    select=f"""
        SELECT a.action_id, a.application_id, coalesce(d.department_key, -1), coalesce(sc.scheme_key, -1),
               coalesce(ad.department_key, -1), {DATE_KEY.format('a.action_at')}, a.action_type,
               a.step_number,
               round(extract(epoch FROM a.action_at - coalesce(a.previous_action_at, a.application_submitted_at)) / 60, 2),
               a.action_at
        FROM staging.processing_actions a
        {version_join('sc', 'dim_scheme', 'sc.scheme_id = a.application_scheme_id', 'a.action_at')}
        {version_join('d', 'dim_department', 'd.department_code = sc.department_code', 'a.action_at')}
        {version_join('ad', 'dim_department', 'ad.department_id = a.department_id', 'a.action_at')}
        WHERE a.partition_date BETWEEN %(first)s AND %(last)s
    """,
    columns=("action_id", "application_id", "department_key", "scheme_key", "acting_department_key",
             "action_date_key", "action_type", "step_number", "processing_minutes", "action_at"),
    lineage={
        "action_id": [("staging/processing_actions", "action_id")],
        "application_id": [("staging/processing_actions", "application_id")],
        "department_key": [("dim_department", "department_key"), ("dim_scheme", "department_code")],
        "scheme_key": [("dim_scheme", "scheme_key"), ("staging/processing_actions", "application_scheme_id")],
        "acting_department_key": [("dim_department", "department_key"), ("staging/processing_actions", "department_id")],
        "action_date_key": [("staging/processing_actions", "action_at"), ("dim_date", "date_key")],
        "action_type": [("staging/processing_actions", "action_type")],
        "step_number": [("staging/processing_actions", "step_number")],
        "processing_minutes": [("staging/processing_actions", "previous_action_at"),
                               ("staging/processing_actions", "application_submitted_at")],
    },
)

# What guards it: judged on the days each load wrote (quality/rules.py builds them).
CHECKS = [
    keys_resolve("fact_application_processing", "action_date_key",
                 {"department_key": DEPARTMENT, "scheme_key": SCHEME, "acting_department_key": DEPARTMENT,
                  "action_date_key": DATE}, "t.action_id::text"),
    unknown_member_rate("fact_application_processing", "action_date_key", ("department_key", "scheme_key")),
    reconciliation_check(registry.PROCESSING_ACTIONS),
    count_offending("processing_minutes_non_negative", "processing_minutes is never negative: an action "
                    "follows the previous action (or the submission).", "fact_application_processing",
                    "action_date_key", "t.processing_minutes < 0", "t.action_id::text"),
    count_offending("step_number_positive", "step_number starts at 1.", "fact_application_processing",
                    "action_date_key", "t.step_number < 1", "t.action_id::text"),
    batch_recorded("fact_application_processing", "action_date_key", "t.action_id::text"),
    schema_matches_contract("fact_application_processing"),
    latest_partition_fresh("fact_application_processing", "action_date_key"),
]

fact_application_processing = daily_asset(
    FACT_APPLICATION_PROCESSING,
    checks=CHECKS,
    deps=[registry.PROCESSING_ACTIONS.staging_key.to_user_string(), "dim_date", "dim_scheme", "dim_department"],
    group="facts",
    description="One row per processing action, partitioned by IST action day, with the minutes "
        "since the application's previous action (or its submission).",
)
