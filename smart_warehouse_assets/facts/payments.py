"""fact_payments: one row per benefit payment, from the citizen portal.

Rows come from registry.PAYMENTS (staging/payments); partitioned by the IST day the payment
was made. Its keys are the versions valid at the payment; the scheme is the application's.
fact_service_applications sums the successful ones into amount_disbursed.
"""

from __future__ import annotations

from psycopg import sql

from smart_warehouse_assets.facts.keys import DATE_KEY, version_join
from smart_warehouse_assets.facts.load import DailyLoad, daily_asset
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

PAYMENT_STATUSES = ("initiated", "success", "failed", "reversed")
PAYMENT_MODES = ("dbt", "neft", "upi", "cheque")

FACT_PAYMENTS = DailyLoad(
    table="fact_payments",
    date_key="paid_date_key",
    natural_key="payment_id",
    staged_in="staging.payments",
    source_days="SELECT partition_date, count(*) FROM staging.payments "
                "WHERE partition_date BETWEEN %(first)s AND %(last)s GROUP BY 1",
    select=f"""
        SELECT p.payment_id, p.application_id, coalesce(c.citizen_key, -1), coalesce(sc.scheme_key, -1),
               coalesce(d.department_key, -1), {DATE_KEY.format('p.paid_at')}, p.amount, p.payment_mode,
               p.payment_status, p.paid_at
        FROM staging.payments p
        {version_join('c', 'dim_citizen', 'c.citizen_id = p.citizen_id', 'p.paid_at')}
        {version_join('sc', 'dim_scheme', 'sc.scheme_id = p.scheme_id', 'p.paid_at')}
        {version_join('d', 'dim_department', 'd.department_code = sc.department_code', 'p.paid_at')}
        WHERE p.partition_date BETWEEN %(first)s AND %(last)s
    """,
    columns=("payment_id", "application_id", "citizen_key", "scheme_key", "department_key", "paid_date_key",
             "amount", "payment_mode", "payment_status", "paid_at"),
    lineage={
        "payment_id": [("staging/payments", "payment_id")],
        "application_id": [("staging/payments", "application_id")],
        "citizen_key": [("dim_citizen", "citizen_key"), ("staging/payments", "citizen_id")],
        "scheme_key": [("dim_scheme", "scheme_key"), ("staging/payments", "scheme_id")],
        "department_key": [("dim_department", "department_key"), ("dim_scheme", "department_code")],
        "paid_date_key": [("staging/payments", "paid_at"), ("dim_date", "date_key")],
        "amount": [("staging/payments", "amount")],
        "payment_mode": [("staging/payments", "payment_mode")],
        "payment_status": [("staging/payments", "payment_status")],
    },
)


def _among(column: str, values: tuple[str, ...]) -> sql.Composable:
    return sql.SQL("{} IN ({})").format(sql.SQL(column), sql.SQL(", ").join(map(sql.Literal, values)))


CHECKS = [
    keys_resolve("fact_payments", "paid_date_key",
                 {"citizen_key": CITIZEN, "scheme_key": SCHEME, "department_key": DEPARTMENT,
                  "paid_date_key": DATE}, "t.payment_id::text"),
    unknown_member_rate("fact_payments", "paid_date_key", ("citizen_key", "scheme_key", "department_key")),
    reconciliation_check(registry.PAYMENTS),
    count_offending("payment_values_valid", f"amount > 0, payment_status one of {', '.join(PAYMENT_STATUSES)}, "
                    f"payment_mode one of {', '.join(PAYMENT_MODES)}.", "fact_payments", "paid_date_key",
                    sql.SQL("NOT (t.amount > 0 AND {} AND {})").format(
                        _among("t.payment_status", PAYMENT_STATUSES), _among("t.payment_mode", PAYMENT_MODES)),
                    "t.payment_id::text"),
    batch_recorded("fact_payments", "paid_date_key", "t.payment_id::text"),
    schema_matches_contract("fact_payments"),
    latest_partition_fresh("fact_payments", "paid_date_key"),
]

fact_payments = daily_asset(
    FACT_PAYMENTS,
    checks=CHECKS,
    deps=[registry.PAYMENTS.staging_key.to_user_string(), "dim_date", "dim_citizen", "dim_scheme", "dim_department"],
    group="facts",
    description="One row per benefit payment (paid out, failed, initiated or reversed), partitioned "
        "by IST paid day, with keys to citizen, scheme, department and application.",
)
