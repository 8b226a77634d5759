"""The three facts: how each day's rows are built from staging and the dimensions.

Every dimension key is the version valid at the fact's event time, found with a range
join on [valid_from, valid_to); a member that cannot be found becomes -1. A fact's
department is the department owning the scheme (the scheme version's department_code).
"""

from __future__ import annotations

from smart_warehouse_assets.facts.load import DailyLoad

DATE_KEY = "to_char({} AT TIME ZONE 'Asia/Kolkata', 'YYYYMMDD')::integer"


def _version(alias: str, table: str, on: str, at: str) -> str:
    return f"LEFT JOIN public.{table} {alias} ON {on} AND {at} >= {alias}.valid_from AND {at} < {alias}.valid_to"


FACT_SERVICE_APPLICATIONS = DailyLoad(
    table="fact_service_applications",
    date_key="submitted_date_key",
    natural_key="application_id",
    source_days="SELECT partition_date, count(*) FROM staging.service_applications "
                "WHERE partition_date BETWEEN %(first)s AND %(last)s GROUP BY 1",
    select=f"""
        SELECT s.application_id, s.application_number,
               coalesce(c.citizen_key, -1), coalesce(sc.scheme_key, -1), coalesce(d.department_key, -1),
               {DATE_KEY.format('s.submitted_at')},
               CASE WHEN s.decided_at IS NULL THEN -1 ELSE {DATE_KEY.format('s.decided_at')} END,
               s.status, s.channel, s.amount_requested, s.amount_approved,
               pd.processing_days, sc.sla_days, pd.processing_days <= sc.sla_days,
               s.submitted_at, s.decided_at
        FROM staging.service_applications s
        CROSS JOIN LATERAL (
            SELECT (s.decided_at AT TIME ZONE 'Asia/Kolkata')::date
                 - (s.submitted_at AT TIME ZONE 'Asia/Kolkata')::date AS processing_days
        ) pd
        {_version('c', 'dim_citizen', 'c.citizen_id = s.citizen_id', 's.submitted_at')}
        {_version('sc', 'dim_scheme', 'sc.scheme_id = s.scheme_id', 's.submitted_at')}
        {_version('d', 'dim_department', 'd.department_code = sc.department_code', 's.submitted_at')}
        WHERE s.partition_date BETWEEN %(first)s AND %(last)s
    """,
    columns=("application_id", "application_number", "citizen_key", "scheme_key", "department_key",
             "submitted_date_key", "decided_date_key", "status", "channel", "amount_requested",
             "amount_approved", "processing_days", "sla_days", "sla_met", "submitted_at", "decided_at"),
    lineage={
        "application_id": [("staging/service_applications", "application_id")],
        "application_number": [("staging/service_applications", "application_number")],
        "citizen_key": [("dim_citizen", "citizen_key"), ("staging/service_applications", "citizen_id")],
        "scheme_key": [("dim_scheme", "scheme_key"), ("staging/service_applications", "scheme_id")],
        "department_key": [("dim_department", "department_key"), ("dim_scheme", "department_code")],
        "submitted_date_key": [("staging/service_applications", "submitted_at"), ("dim_date", "date_key")],
        "decided_date_key": [("staging/service_applications", "decided_at"), ("dim_date", "date_key")],
        "status": [("staging/service_applications", "status")],
        "channel": [("staging/service_applications", "channel")],
        "amount_requested": [("staging/service_applications", "amount_requested")],
        "amount_approved": [("staging/service_applications", "amount_approved")],
        "processing_days": [("staging/service_applications", "submitted_at"), ("staging/service_applications", "decided_at")],
        "sla_days": [("dim_scheme", "sla_days")],
        "sla_met": [("dim_scheme", "sla_days"), ("staging/service_applications", "decided_at")],
    },
)

FACT_APPLICATION_PROCESSING = DailyLoad(
    table="fact_application_processing",
    date_key="action_date_key",
    natural_key="action_id",
    source_days="SELECT partition_date, count(*) FROM staging.processing_actions "
                "WHERE partition_date BETWEEN %(first)s AND %(last)s GROUP BY 1",
    select=f"""
        SELECT a.action_id, a.application_id, coalesce(d.department_key, -1), coalesce(sc.scheme_key, -1),
               coalesce(ad.department_key, -1), {DATE_KEY.format('a.action_at')}, a.action_type,
               a.step_number,
               round(extract(epoch FROM a.action_at - coalesce(a.previous_action_at, a.application_submitted_at)) / 60, 2),
               a.action_at
        FROM staging.processing_actions a
        {_version('sc', 'dim_scheme', 'sc.scheme_id = a.application_scheme_id', 'a.action_at')}
        {_version('d', 'dim_department', 'd.department_code = sc.department_code', 'a.action_at')}
        {_version('ad', 'dim_department', 'ad.department_id = a.department_id', 'a.action_at')}
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

# A label the model wrote wins; without one, a score of 0.5 or more means eligible.
_PREDICTED_ELIGIBLE = """
CASE WHEN p.predicted_label IN ('eligible', 'approve', 'approved', 'yes') THEN true
     WHEN p.predicted_label IN ('not_eligible', 'ineligible', 'reject', 'rejected', 'no') THEN false
     ELSE coalesce(p.eligibility_score >= 0.5, false) END
"""

FACT_ELIGIBILITY_SCORING = DailyLoad(
    table="fact_eligibility_scoring",
    date_key="prediction_date_key",
    natural_key="prediction_id",
    source_days="SELECT partition_date, count(*) FROM staging.predictions "
                "WHERE partition_date BETWEEN %(first)s AND %(last)s GROUP BY 1",
    select=f"""
        SELECT p.prediction_id, p.application_id, coalesce(c.citizen_key, -1), coalesce(sc.scheme_key, -1),
               coalesce(d.department_key, -1), {DATE_KEY.format('p.predicted_at')}, p.model_version,
               p.model_name, p.eligibility_score, p.confidence_score, e.predicted_eligible,
               o.actual_outcome, e.predicted_eligible = (o.actual_outcome = 'approved'), p.predicted_at
        FROM staging.predictions p
        CROSS JOIN LATERAL (SELECT {_PREDICTED_ELIGIBLE} AS predicted_eligible) e
        CROSS JOIN LATERAL (
            SELECT CASE WHEN p.application_status IN ('approved', 'rejected') THEN p.application_status END AS actual_outcome
        ) o
        {_version('c', 'dim_citizen', 'c.citizen_id = p.citizen_id', 'p.predicted_at')}
        {_version('sc', 'dim_scheme', 'sc.scheme_id = p.scheme_id', 'p.predicted_at')}
        {_version('d', 'dim_department', 'd.department_code = sc.department_code', 'p.predicted_at')}
        WHERE p.partition_date BETWEEN %(first)s AND %(last)s
    """,
    columns=("prediction_id", "application_id", "citizen_key", "scheme_key", "department_key",
             "prediction_date_key", "model_version", "model_name", "eligibility_score",
             "confidence_score", "predicted_eligible", "actual_outcome", "is_correct", "predicted_at"),
    lineage={
        "prediction_id": [("staging/predictions", "prediction_id")],
        "application_id": [("staging/predictions", "application_id")],
        "citizen_key": [("dim_citizen", "citizen_key"), ("staging/predictions", "citizen_id")],
        "scheme_key": [("dim_scheme", "scheme_key"), ("staging/predictions", "scheme_id")],
        "department_key": [("dim_department", "department_key"), ("dim_scheme", "department_code")],
        "prediction_date_key": [("staging/predictions", "predicted_at"), ("dim_date", "date_key")],
        "model_version": [("staging/predictions", "model_version")],
        "eligibility_score": [("staging/predictions", "eligibility_score")],
        "confidence_score": [("staging/predictions", "confidence_score")],
        "predicted_eligible": [("staging/predictions", "predicted_label"), ("staging/predictions", "eligibility_score")],
        "actual_outcome": [("staging/predictions", "application_status")],
        "is_correct": [("staging/predictions", "predicted_label"), ("staging/predictions", "application_status")],
    },
)
