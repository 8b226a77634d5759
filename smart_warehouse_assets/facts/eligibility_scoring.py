"""fact_eligibility_scoring: one row per eligibility prediction, from the ML portal.

Rows come from registry.PREDICTIONS (staging/predictions); partitioned by the IST prediction
day, next to the application's actual outcome once decided.
"""

from __future__ import annotations

from smart_warehouse_assets.facts.keys import DATE_KEY, version_join
from smart_warehouse_assets.facts.load import DailyLoad, daily_asset
from smart_warehouse_assets.merge import Feed, Merge
from smart_warehouse_assets.quality.reconcile import reconciliation_check
from smart_warehouse_assets.quality.rules import (
    CITIZEN,
    DATE,
    DEPARTMENT,
    MODEL,
    SCHEME,
    batch_recorded,
    count_offending,
    keys_resolve,
    latest_partition_fresh,
    schema_matches_contract,
    unknown_member_rate,
)
from smart_warehouse_assets.sources import registry

# A label the model wrote wins; without one, a score of 0.5 or more means eligible.
_PREDICTED_ELIGIBLE = """
CASE WHEN p.predicted_label IN ('eligible', 'approve', 'approved', 'yes') THEN true
     WHEN p.predicted_label IN ('not_eligible', 'ineligible', 'reject', 'rejected', 'no') THEN false
     ELSE coalesce(p.eligibility_score >= 0.5, false) END
"""

# A merged prediction as the training set takes it: "p:<prediction_id>:<YYYYMMDD>", queued as
# it was and as it is, so its row leaves the day it was on (ml/training_set.py).
_PREDICTION = "'p:' || t.prediction_id || ':' || t.prediction_date_key"

FACT_ELIGIBILITY_SCORING = DailyLoad(
    table="fact_eligibility_scoring",
    date_key="prediction_date_key",
    natural_key="prediction_id",
    staged_in="staging.predictions",
    # A change-driven run merges the changed predictions and queues their prediction days (as
    # they were and are) for the performance aggregate, and the predictions for the training set.
    merge=Merge("prediction_id", "uuid", feeds=(Feed("agg_model_performance", "t.prediction_date_key"),
                                                Feed("training/eligibility_scoring", _PREDICTION))),
    source_days="SELECT partition_date, count(*) FROM staging.predictions "
                "WHERE partition_date BETWEEN %(first)s AND %(last)s AND use_case_code = 'ELIGIBILITY_SCORING' GROUP BY 1",
    select=f"""
        SELECT p.prediction_id, p.application_id, coalesce(c.citizen_key, -1), coalesce(sc.scheme_key, -1),
               coalesce(d.department_key, -1), {DATE_KEY.format('p.predicted_at')}, p.model_version,
               p.model_name, p.eligibility_score, p.confidence_score, e.predicted_eligible,
               o.actual_outcome, e.predicted_eligible = (o.actual_outcome = 'approved'), p.predicted_at,
               coalesce(m.model_key, -1)
        FROM staging.predictions p
        CROSS JOIN LATERAL (SELECT {_PREDICTED_ELIGIBLE} AS predicted_eligible) e
        CROSS JOIN LATERAL (
            SELECT CASE WHEN p.application_status IN ('approved', 'rejected') THEN p.application_status END AS actual_outcome
        ) o
        {version_join('c', 'dim_citizen', 'c.citizen_id = p.citizen_id', 'p.predicted_at')}
        {version_join('sc', 'dim_scheme', 'sc.scheme_id = p.scheme_id', 'p.predicted_at')}
        {version_join('d', 'dim_department', 'd.department_code = sc.department_code', 'p.predicted_at')}
        {version_join('m', 'dim_model', 'm.model_id = p.model_id', 'p.predicted_at')}
        WHERE p.partition_date BETWEEN %(first)s AND %(last)s AND p.use_case_code = 'ELIGIBILITY_SCORING'
    """,
    columns=("prediction_id", "application_id", "citizen_key", "scheme_key", "department_key",
             "prediction_date_key", "model_version", "model_name", "eligibility_score",
             "confidence_score", "predicted_eligible", "actual_outcome", "is_correct", "predicted_at", "model_key"),
    lineage={
        "prediction_id": [("staging/predictions", "prediction_id")],
        "application_id": [("staging/predictions", "application_id")],
        "citizen_key": [("dim_citizen", "citizen_key"), ("staging/predictions", "citizen_id")],
        "scheme_key": [("dim_scheme", "scheme_key"), ("staging/predictions", "scheme_id")],
        "department_key": [("dim_department", "department_key"), ("dim_scheme", "department_code")],
        "prediction_date_key": [("staging/predictions", "predicted_at"), ("dim_date", "date_key")],
        "model_version": [("staging/predictions", "model_version")],
        "model_key": [("dim_model", "model_key"), ("staging/predictions", "model_id")],
        "eligibility_score": [("staging/predictions", "eligibility_score")],
        "confidence_score": [("staging/predictions", "confidence_score")],
        "predicted_eligible": [("staging/predictions", "predicted_label"), ("staging/predictions", "eligibility_score")],
        "actual_outcome": [("staging/predictions", "application_status")],
        "is_correct": [("staging/predictions", "predicted_label"), ("staging/predictions", "application_status")],
    },
)

# What guards it: judged on the days each load wrote (quality/rules.py builds them).
CHECKS = [
    keys_resolve("fact_eligibility_scoring", "prediction_date_key",
                 {"citizen_key": CITIZEN, "scheme_key": SCHEME, "department_key": DEPARTMENT,
                  "prediction_date_key": DATE, "model_key": MODEL}, "t.prediction_id::text"),
    unknown_member_rate("fact_eligibility_scoring", "prediction_date_key", ("citizen_key", "scheme_key")),
    reconciliation_check(registry.PREDICTIONS),
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

fact_eligibility_scoring = daily_asset(
    FACT_ELIGIBILITY_SCORING,
    checks=CHECKS,
    deps=[registry.PREDICTIONS.staging_key.to_user_string(), "dim_date", "dim_citizen", "dim_scheme", "dim_department", "dim_model"],
    group="facts",
    description="One row per eligibility prediction, partitioned by IST prediction day, next to "
        "the application's actual outcome once decided.",
)
