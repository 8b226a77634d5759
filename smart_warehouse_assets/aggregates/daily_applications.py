"""agg_daily_applications: a GROUP BY of the fact's days, computed in the database.

The district is the applicant's district in the citizen version the fact points to (the
version valid at submission); avg_processing_days and sla_compliance_rate are over the
group's decided applications and null when none is decided.
"""

from __future__ import annotations

from smart_warehouse_assets.facts.load import DailyLoad

AGG_DAILY_APPLICATIONS = DailyLoad(
    table="agg_daily_applications",
    date_key="date_key",
    source_days="SELECT to_date(submitted_date_key::text, 'YYYYMMDD'), count(*) FROM public.fact_service_applications "
                "WHERE submitted_date_key BETWEEN %(first_key)s AND %(last_key)s GROUP BY 1",
    select="""
        SELECT f.submitted_date_key, f.scheme_key, f.department_key, coalesce(c.district, 'Unknown'),
               count(*),
               count(*) FILTER (WHERE f.status = 'approved'),
               count(*) FILTER (WHERE f.status = 'rejected'),
               count(*) FILTER (WHERE f.status IN ('submitted', 'under_review')),
               count(*) FILTER (WHERE f.status = 'withdrawn'),
               sum(f.amount_requested), sum(f.amount_approved),
               round(avg(f.processing_days) FILTER (WHERE f.status IN ('approved', 'rejected')), 4),
               round(avg(CASE WHEN f.sla_met THEN 1.0 ELSE 0.0 END)
                     FILTER (WHERE f.status IN ('approved', 'rejected') AND f.sla_met IS NOT NULL), 5)
        FROM public.fact_service_applications f
        LEFT JOIN public.dim_citizen c ON c.citizen_key = f.citizen_key
        WHERE f.submitted_date_key BETWEEN %(first_key)s AND %(last_key)s
        GROUP BY 1, 2, 3, 4
    """,
    columns=("date_key", "scheme_key", "department_key", "district", "applications_submitted",
             "applications_approved", "applications_rejected", "applications_pending",
             "applications_withdrawn", "amount_requested", "amount_approved",
             "avg_processing_days", "sla_compliance_rate"),
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
    },
)
