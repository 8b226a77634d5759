"""fact_application_processing: one row per processing action, from the department portal.

Rows come from registry.PROCESSING_ACTIONS (staging/processing_actions); partitioned by the
IST action day, with the minutes since the application's previous action (or its submission).

Each action is also a workflow step: the approval-chain step of its assignment's workflow
whose step_number is the action's (what it requires, its sla_hours, whether it is final),
the acting officer's designation (dim_designation) and the assignment with its priority.
The time a step took is processing_minutes, the time since the action before it (or the
submission): the step's clock starts when the previous step hands the application on, not
at the assignment, which for every step but the first lies further back. step_sla_met
compares it with sla_hours. An action that matches no chain step keeps nulls there and is
counted by unmatched_step_rate.
"""

from __future__ import annotations

from smart_warehouse_assets.facts.keys import DATE_KEY, application_group, version_join
from smart_warehouse_assets.facts.load import DailyLoad, daily_asset
from smart_warehouse_assets.merge import Feed, Merge
from smart_warehouse_assets.quality.reconcile import reconciliation_check
from psycopg import sql

from smart_warehouse_assets.quality.rules import (
    DATE,
    DEPARTMENT,
    DESIGNATION,
    SCHEME,
    batch_recorded,
    count_offending,
    keys_resolve,
    latest_partition_fresh,
    schema_matches_contract,
    unknown_member_rate,
    unknown_share,
)
from smart_warehouse_assets.sources import registry

# The aggregate group of a breaching step's application, looked up in the applications fact,
# and its day (the application's submission day: before the step's, often outside its range).
_OF_BREACHING_APPLICATION = """CASE WHEN NOT t.step_sla_met THEN (SELECT {}
    FROM public.fact_service_applications f WHERE f.application_id = t.application_id) END"""
STEP_BREACH_GROUP = _OF_BREACHING_APPLICATION.format(application_group("f"))
STEP_BREACH_DAY = _OF_BREACHING_APPLICATION.format("f.submitted_date_key")

FACT_APPLICATION_PROCESSING = DailyLoad(
    table="fact_application_processing",
    date_key="action_date_key",
    natural_key="action_id",
    staged_in="staging.processing_actions",
    # A change-driven run merges the changed actions. A step that breached its SLA, as it was
    # or as it is, changes agg_daily_applications.step_sla_breaches of its application's group
    # on its submission day: that group is queued for the aggregate (an application not in the
    # fact queues nothing; when it changes in the same run, its own merge queues its groups).
    merge=Merge("action_id", "uuid", feeds=(Feed("agg_daily_applications", STEP_BREACH_GROUP, day=STEP_BREACH_DAY,
                                                 reads=("fact_service_applications",)),)),
    source_days="SELECT partition_date, count(*) FROM staging.processing_actions "
                "WHERE partition_date BETWEEN %(first)s AND %(last)s GROUP BY 1",
    select=f"""
        SELECT a.action_id, a.application_id, coalesce(d.department_key, -1), coalesce(sc.scheme_key, -1),
               coalesce(ad.department_key, -1), {DATE_KEY.format('a.action_at')}, a.action_type,
               a.step_number,
               m.minutes, a.action_at, coalesce(ds.designation_key, -1), a.assignment_id, a.assignment_priority,
               a.step_action_required, a.step_sla_hours, a.step_is_final, m.minutes <= a.step_sla_hours * 60
        FROM staging.processing_actions a
        CROSS JOIN LATERAL (SELECT round(extract(epoch FROM a.action_at
                                 - coalesce(a.previous_action_at, a.application_submitted_at)) / 60, 2) AS minutes) m
        {version_join('sc', 'dim_scheme', 'sc.scheme_id = a.application_scheme_id', 'a.action_at')}
        {version_join('d', 'dim_department', 'd.department_code = sc.department_code', 'a.action_at')}
        {version_join('ad', 'dim_department', 'ad.department_id = a.department_id', 'a.action_at')}
        {version_join('ds', 'dim_designation', 'ds.designation_id = a.designation_id', 'a.action_at')}
        WHERE a.partition_date BETWEEN %(first)s AND %(last)s
    """,
    columns=("action_id", "application_id", "department_key", "scheme_key", "acting_department_key",
             "action_date_key", "action_type", "step_number", "processing_minutes", "action_at",
             "designation_key", "assignment_id", "assignment_priority", "step_action_required", "step_sla_hours",
             "step_is_final", "step_sla_met"),
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
        "designation_key": [("dim_designation", "designation_key"), ("staging/processing_actions", "designation_id")],
        "assignment_id": [("staging/processing_actions", "assignment_id")],
        "assignment_priority": [("staging/processing_actions", "assignment_priority")],
        "step_action_required": [("staging/processing_actions", "step_action_required")],
        "step_sla_hours": [("staging/processing_actions", "step_sla_hours")],
        "step_is_final": [("staging/processing_actions", "step_is_final")],
        "step_sla_met": [("staging/processing_actions", "step_sla_hours"),
                         ("staging/processing_actions", "previous_action_at"),
                         ("staging/processing_actions", "application_submitted_at")],
    },
)

# What guards it: judged on the days each load wrote (quality/rules.py builds them).
CHECKS = [
    keys_resolve("fact_application_processing", "action_date_key",
                 {"department_key": DEPARTMENT, "scheme_key": SCHEME, "acting_department_key": DEPARTMENT,
                  "action_date_key": DATE, "designation_key": DESIGNATION}, "t.action_id::text"),
    unknown_member_rate("fact_application_processing", "action_date_key",
                        ("department_key", "scheme_key", "designation_key")),
    # Never blocks: an action without a chain step is still a right row, only less described.
    unknown_share("unmatched_step_rate", "Share of a day's actions that match no approval-chain step (no "
                  "assignment, no workflow, or a step_number past the workflow's last step): WARN above "
                  "unmatched_step_warn, ERROR above unmatched_step_error (QualityThresholds); never blocks.",
                  "fact_application_processing", "action_date_key", sql.SQL("t.step_sla_hours IS NULL"),
                  limits="unmatched_step", blocking=False),
    count_offending("step_sla_met_consistent", "step_sla_met is processing_minutes <= step_sla_hours * 60, "
                    "and null exactly when either is unknown.", "fact_application_processing", "action_date_key",
                    "t.step_sla_met IS DISTINCT FROM (t.processing_minutes <= t.step_sla_hours * 60)",
                    "t.action_id::text"),
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
    deps=[registry.PROCESSING_ACTIONS.staging_key.to_user_string(), "dim_date", "dim_scheme", "dim_department",
          "dim_designation"],
    group="facts",
    description="One row per processing action, partitioned by IST action day, with the minutes "
        "since the application's previous action (or its submission), the approval-chain step it is "
        "(sla_hours, step_sla_met), the acting officer's designation and the assignment.",
)
