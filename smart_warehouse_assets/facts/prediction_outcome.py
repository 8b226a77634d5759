"""fact_prediction_outcome: SLA-breach and dropout predictions next to what happened.

Rows come from registry.PREDICTIONS (staging/predictions), partitioned by the IST prediction
day. The outcome is the warehouse's own judgement: an SLA prediction is judged by
fact_service_applications.sla_met once its application is decided; a dropout prediction by
whether the draft was submitted, or is still a draft DROPOUT_HORIZON_DAYS after it was
scored (in the citizen portal's clock). The outcome is refreshed like the accumulating
snapshot's: a change-driven run merges the predictions staging landed again (merge.py), which
are those that changed, those whose application changed (a decision, and with it sla_met; a
draft submitted) and the dropout predictions whose horizon passed in the window; a full
reload or a backfill replaces whole days.
"""

from __future__ import annotations

from smart_warehouse_assets.facts.keys import DATE_KEY, version_join
from smart_warehouse_assets.facts.load import DailyLoad, daily_asset
from smart_warehouse_assets.merge import Feed, Merge
from smart_warehouse_assets.quality.reconcile import reconciliation_check
from smart_warehouse_assets.quality.rules import (
    CITIZEN,
    DATE,
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

USE_CASES = tuple(registry.BINARY_LABELS)
_POSITIVE = tuple(positive for positive, _ in registry.BINARY_LABELS.values())
_IN_USE_CASES = "p.use_case_code IN ({})".format(", ".join(f"'{u}'" for u in USE_CASES))

# (outcome, when it became known) of one staged prediction p, with its application f.
_OUTCOME = f"""
SELECT CASE WHEN p.use_case_code = 'SLA_BREACH_PREDICTION'
                 THEN CASE WHEN f.sla_met THEN 'on_time' WHEN NOT f.sla_met THEN 'breach' END
            WHEN p.application_submitted_at IS NOT NULL THEN 'submitted'
            WHEN p.application_status = 'draft' AND p.outcome_as_of >= p.predicted_at + interval
                 '{registry.DROPOUT_HORIZON_DAYS} days' THEN 'abandoned' END AS outcome,
       CASE WHEN p.use_case_code = 'SLA_BREACH_PREDICTION' THEN CASE WHEN f.sla_met IS NOT NULL THEN f.decided_at END
            WHEN p.application_submitted_at IS NOT NULL THEN p.application_submitted_at
            WHEN p.application_status = 'draft' AND p.outcome_as_of >= p.predicted_at + interval
                 '{registry.DROPOUT_HORIZON_DAYS} days'
                 THEN p.predicted_at + interval '{registry.DROPOUT_HORIZON_DAYS} days' END AS known_at
"""

FACT_PREDICTION_OUTCOME = DailyLoad(
    table="fact_prediction_outcome",
    date_key="prediction_date_key",
    natural_key="prediction_id",
    staged_in="staging.predictions",
    # A change-driven run merges the predictions staging queued, and queues their prediction
    # days (as they were and are) for the performance aggregate.
    merge=Merge("prediction_id", "uuid", feeds=(Feed("agg_model_performance", "t.prediction_date_key"),)),
    source_days="SELECT p.partition_date, count(*) FROM staging.predictions p "
                f"WHERE p.partition_date BETWEEN %(first)s AND %(last)s AND {_IN_USE_CASES} GROUP BY 1",
    select=f"""
        SELECT p.prediction_id, p.application_id, p.use_case_code, coalesce(c.citizen_key, -1),
               coalesce(sc.scheme_key, -1), coalesce(m.model_key, -1), {DATE_KEY.format('p.predicted_at')},
               p.predicted_label, l.positive,
               CASE WHEN l.positive THEN p.confidence_score ELSE 1 - p.confidence_score END,
               p.confidence_score, o.outcome, o.outcome IN ('breach', 'abandoned'), o.known_at,
               l.positive = (o.outcome IN ('breach', 'abandoned')), p.predicted_at
        FROM staging.predictions p
        CROSS JOIN LATERAL (SELECT p.predicted_label IN ({", ".join(f"'{x}'" for x in _POSITIVE)}) AS positive) l
        LEFT JOIN public.fact_service_applications f
               ON p.use_case_code = 'SLA_BREACH_PREDICTION' AND f.application_id = p.application_id
        CROSS JOIN LATERAL ({_OUTCOME}) o
        {version_join('c', 'dim_citizen', 'c.citizen_id = p.citizen_id', 'p.predicted_at')}
        {version_join('sc', 'dim_scheme', 'sc.scheme_id = p.scheme_id', 'p.predicted_at')}
        {version_join('m', 'dim_model', 'm.model_id = p.model_id', 'p.predicted_at')}
        WHERE p.partition_date BETWEEN %(first)s AND %(last)s AND {_IN_USE_CASES}
    """,
    columns=("prediction_id", "application_id", "use_case_code", "citizen_key", "scheme_key", "model_key",
             "prediction_date_key", "predicted_label", "predicted_positive", "positive_score",
             "confidence_score", "outcome", "actual_positive", "outcome_known_at", "is_correct", "predicted_at"),
    lineage={
        "prediction_id": [("staging/predictions", "prediction_id")],
        "application_id": [("staging/predictions", "application_id")],
        "use_case_code": [("staging/predictions", "use_case_code")],
        "citizen_key": [("dim_citizen", "citizen_key"), ("staging/predictions", "citizen_id")],
        "scheme_key": [("dim_scheme", "scheme_key"), ("staging/predictions", "scheme_id")],
        "model_key": [("dim_model", "model_key"), ("staging/predictions", "model_id")],
        "prediction_date_key": [("staging/predictions", "predicted_at"), ("dim_date", "date_key")],
        "predicted_label": [("staging/predictions", "predicted_label")],
        "predicted_positive": [("staging/predictions", "predicted_label")],
        "positive_score": [("staging/predictions", "predicted_label"), ("staging/predictions", "confidence_score")],
        "confidence_score": [("staging/predictions", "confidence_score")],
        "outcome": [("fact_service_applications", "sla_met"), ("staging/predictions", "application_submitted_at"),
                    ("staging/predictions", "application_status"), ("staging/predictions", "outcome_as_of")],
        "outcome_known_at": [("fact_service_applications", "decided_at"),
                             ("staging/predictions", "application_submitted_at")],
        "is_correct": [("staging/predictions", "predicted_label"), ("fact_service_applications", "sla_met"),
                       ("staging/predictions", "application_submitted_at")],
    },
)

# The outcome's vocabulary follows the use case, and the derived columns follow the outcome.
_INCONSISTENT = """
t.outcome IS NOT NULL AND t.outcome NOT IN (CASE t.use_case_code WHEN 'SLA_BREACH_PREDICTION' THEN 'breach'
                                                                  ELSE 'abandoned' END,
                                             CASE t.use_case_code WHEN 'SLA_BREACH_PREDICTION' THEN 'on_time'
                                                                  ELSE 'submitted' END)
OR t.actual_positive IS DISTINCT FROM (t.outcome IN ('breach', 'abandoned'))
OR t.is_correct IS DISTINCT FROM (t.predicted_positive = t.actual_positive)
OR (t.outcome_known_at IS NULL) <> (t.outcome IS NULL)
OR t.outcome_known_at < t.predicted_at AND t.outcome IN ('abandoned', 'breach', 'on_time')
"""

CHECKS = [
    keys_resolve("fact_prediction_outcome", "prediction_date_key",
                 {"citizen_key": CITIZEN, "scheme_key": SCHEME, "model_key": MODEL, "prediction_date_key": DATE},
                 "t.prediction_id::text"),
    unknown_member_rate("fact_prediction_outcome", "prediction_date_key", ("citizen_key", "scheme_key", "model_key")),
    reconciliation_check(registry.PREDICTIONS, registry.Reconcile(
        "fact_prediction_outcome", "prediction_date_key", "prediction_id", None, subset=("use_case_code", USE_CASES))),
    count_offending("outcome_consistent",
                    "outcome is in its use case's vocabulary (breach/on_time, abandoned/submitted); actual_positive, "
                    "is_correct and outcome_known_at follow it (null until known); a decision or an abandonment is "
                    "not known before the prediction.",
                    "fact_prediction_outcome", "prediction_date_key", _INCONSISTENT, "t.prediction_id::text"),
    batch_recorded("fact_prediction_outcome", "prediction_date_key", "t.prediction_id::text"),
    schema_matches_contract("fact_prediction_outcome"),
    latest_partition_fresh("fact_prediction_outcome", "prediction_date_key"),
]

fact_prediction_outcome = daily_asset(
    FACT_PREDICTION_OUTCOME,
    checks=CHECKS,
    deps=[registry.PREDICTIONS.staging_key.to_user_string(), "fact_service_applications", "dim_date",
          "dim_citizen", "dim_scheme", "dim_model"],
    group="facts",
    description="One row per SLA-breach or dropout prediction, partitioned by IST prediction day, next to "
        "what happened (decision within the SLA; draft submitted or abandoned), refreshed as outcomes arrive.",
)
