"""fact_service_applications: one row per submitted application, from the citizen portal.

Rows come from registry.SERVICE_APPLICATIONS (staging/service_applications); partitioned by the
IST submission day; an accumulating snapshot: reloading a day picks up later decisions and
payments (operations/changes.py re-plans an application's day when a payment lands on it).
"""

from __future__ import annotations

from psycopg import sql

from smart_warehouse_assets.quality.contract import APPLICATION_STATUSES
from smart_warehouse_assets.facts.keys import DATE_KEY, application_group, version_join
from smart_warehouse_assets.facts.load import DailyLoad, daily_asset
from smart_warehouse_assets.merge import Feed, Merge
from smart_warehouse_assets.quality.reconcile import reconciliation_check
from smart_warehouse_assets.quality.rules import (
    CITIZEN,
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

# National working days after submission up to the decision (dim_date numbers them), less the
# applicant's state's own holidays on national working days in that span (dim_holiday).
WORKING_DAYS = """
    wd.working_day_number - ws.working_day_number - (
        SELECT count(*) FROM public.dim_holiday h JOIN public.dim_date hd ON hd.date_key = h.date_key
        WHERE h.state = c.state AND hd.is_working_day AND h.full_date > ws.full_date AND h.full_date <= wd.full_date)
"""

# Money paid out so far: the application's successful payments, whatever day they were paid.
# Read from staging, which holds the payments of every day (registry: extract_in_full), not
# from fact_payments, which holds only the days loaded so far: a run over a few submission
# days must not depend on which payment days another run has loaded.
DISBURSED = """
    coalesce((SELECT sum(p.amount) FROM staging.payments p
              WHERE p.application_id = s.application_id AND p.payment_status = 'success'), 0)
"""

# Whose history a row is part of, as the training set names a changed member (ml/training_set.py).
_APPLICANT = "(SELECT 'dim_citizen:' || v.citizen_id FROM public.dim_citizen v WHERE v.citizen_key = t.citizen_key)"

FACT_SERVICE_APPLICATIONS = DailyLoad(
    table="fact_service_applications",
    date_key="submitted_date_key",
    natural_key="application_id",
    staged_in="staging.service_applications",
    # A change-driven run merges the changed applications, and queues what they were and are
    # for the aggregates: the submission-day group (a corrected submission recomputes the group
    # it left as well), and the decision day of a decided application (a decision corrected to
    # another day recomputes the day it left as well).
    # The training set's applicant history counts submissions and decisions before each
    # prediction: the applicant's predictions are rewritten from the earliest of those instants
    # that changed.
    merge=Merge("application_id", "uuid", feeds=(Feed("agg_daily_applications", application_group("t")),
                                                 Feed("agg_daily_decisions", "nullif(t.decided_date_key, -1)",
                                                      day="t.decided_date_key")),
                changed_since=("training/eligibility_scoring", _APPLICANT, (
                    ("t.submitted_at", "concat_ws('|', t.citizen_key, t.submitted_at)"),
                    ("t.decided_at", "concat_ws('|', t.citizen_key, t.status, t.decided_at)")))),
    source_days="SELECT partition_date, count(*) FROM staging.service_applications "
                "WHERE partition_date BETWEEN %(first)s AND %(last)s GROUP BY 1",
    select=f"""
        SELECT s.application_id, s.application_number,
               coalesce(c.citizen_key, -1), coalesce(sc.scheme_key, -1), coalesce(d.department_key, -1),
               {DATE_KEY.format('s.submitted_at')},
               CASE WHEN s.decided_at IS NULL THEN -1 ELSE {DATE_KEY.format('s.decided_at')} END,
               s.status, s.channel, s.amount_requested, s.amount_approved,
               pd.processing_days, sc.sla_days, pd.processing_days <= sc.sla_days,
               s.submitted_at, s.decided_at,
               {WORKING_DAYS},
               {DISBURSED}
        FROM staging.service_applications s
        CROSS JOIN LATERAL (
            SELECT (s.decided_at AT TIME ZONE 'Asia/Kolkata')::date
                 - (s.submitted_at AT TIME ZONE 'Asia/Kolkata')::date AS processing_days
        ) pd
        {version_join('c', 'dim_citizen', 'c.citizen_id = s.citizen_id', 's.submitted_at')}
        LEFT JOIN public.dim_date ws ON ws.full_date = (s.submitted_at AT TIME ZONE 'Asia/Kolkata')::date
        LEFT JOIN public.dim_date wd ON wd.full_date = (s.decided_at AT TIME ZONE 'Asia/Kolkata')::date
        {version_join('sc', 'dim_scheme', 'sc.scheme_id = s.scheme_id', 's.submitted_at')}
        {version_join('d', 'dim_department', 'd.department_code = sc.department_code', 's.submitted_at')}
        WHERE s.partition_date BETWEEN %(first)s AND %(last)s
    """,
    columns=("application_id", "application_number", "citizen_key", "scheme_key", "department_key",
             "submitted_date_key", "decided_date_key", "status", "channel", "amount_requested",
             "amount_approved", "processing_days", "sla_days", "sla_met", "submitted_at", "decided_at",
             "processing_working_days", "amount_disbursed"),
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
        "processing_working_days": [("staging/service_applications", "submitted_at"),
                                    ("staging/service_applications", "decided_at"),
                                    ("dim_date", "working_day_number"), ("dim_holiday", "state"),
                                    ("dim_citizen", "state")],
        "amount_disbursed": [("staging/payments", "amount"), ("staging/payments", "payment_status")],
    },
)

# What guards it: judged on the days each load wrote (quality/rules.py builds them).
_STATUSES = ", ".join(f"'{s}'" for s in APPLICATION_STATUSES)
CHECKS = [
    keys_resolve("fact_service_applications", "submitted_date_key",
                 {"citizen_key": CITIZEN, "scheme_key": SCHEME, "department_key": DEPARTMENT,
                  "submitted_date_key": DATE, "decided_date_key": DATE}, "t.application_id::text"),
    unknown_member_rate("fact_service_applications", "submitted_date_key", ("citizen_key", "scheme_key", "department_key")),
    reconciliation_check(registry.SERVICE_APPLICATIONS),
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
    count_offending("processing_working_days_consistent", "processing_working_days is null exactly while "
                    "processing_days is, and lies between 0 and processing_days (a negative processing_days is "
                    "processing_days_non_negative's to report).",
                    "fact_service_applications", "submitted_date_key",
                    "(t.processing_working_days IS NULL) <> (t.processing_days IS NULL) "
                    "OR t.processing_working_days < 0 "
                    "OR (t.processing_days >= 0 AND t.processing_working_days > t.processing_days)",
                    "t.application_id::text"),
    count_offending("amount_disbursed_matches_payments", "amount_disbursed is the sum of the application's "
                    "successful payments as staged, of every day (0 when none).", "fact_service_applications",
                    "submitted_date_key",
                    "t.amount_disbursed IS DISTINCT FROM coalesce((SELECT sum(p.amount) FROM staging.payments p "
                    "WHERE p.application_id = t.application_id AND p.payment_status = 'success'), 0)",
                    "t.application_id::text"),
    schema_matches_contract("fact_service_applications"),
    latest_partition_fresh("fact_service_applications", "submitted_date_key"),
]

fact_service_applications = daily_asset(
    FACT_SERVICE_APPLICATIONS,
    checks=CHECKS,
    deps=[registry.SERVICE_APPLICATIONS.staging_key.to_user_string(), "dim_date", "dim_holiday", "dim_citizen", "dim_scheme", "dim_department",
          registry.PAYMENTS.staging_key.to_user_string()],
    group="facts",
    description="Accumulating snapshot of submitted applications: one row per application, "
        "partitioned by IST submission day; re-materializing a day picks up later decisions.",
)
