"""The summary the demo prints: what is in the warehouse and how the last loads went."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
from psycopg import sql

TABLES = ("dim_date", "dim_holiday", "dim_citizen", "dim_scheme", "dim_department", "dim_model",
          "fact_service_applications", "fact_application_processing", "fact_eligibility_scoring",
          "fact_prediction_outcome", "fact_payments", "agg_daily_applications", "agg_daily_decisions",
          "agg_model_performance", "agg_live_applications")


def warehouse_summary(url: str) -> dict:
    with psycopg.connect(url) as conn:
        rows = {
            t: conn.execute(sql.SQL("SELECT count(*) FROM public.{}").format(sql.Identifier(t))).fetchone()[0]
            for t in TABLES
        }
        batches = dict(conn.execute("SELECT status, count(*) FROM public.etl_batches GROUP BY 1").fetchall())
        rejected = conn.execute(
            "SELECT source_table, reason, count(*) FROM staging.rejected_rows GROUP BY 1, 2 ORDER BY 1, 2"
        ).fetchall()
        checks = dict(conn.execute(
            "SELECT CASE WHEN passed THEN 'passed' ELSE 'failed' END, count(*) FROM public.etl_data_quality GROUP BY 1"
        ).fetchall())
    return {"rows": rows, "batches": batches, "rejected": rejected, "checks": checks}


def print_summary(url: str, echo: Callable[[str], None] = print) -> dict:
    s = warehouse_summary(url)
    echo("\nwarehouse table                     rows")
    for table, count in s["rows"].items():
        echo(f"  {table:30} {count:>10,}")
    echo("etl batches: " + (", ".join(f"{k} {v}" for k, v in sorted(s["batches"].items())) or "none"))
    total_rejected = sum(n for *_, n in s["rejected"])
    echo(f"quarantined rows (staging.rejected_rows): {total_rejected}")
    for table, reason, n in s["rejected"]:
        echo(f"  {table:22} {reason:40} {n:>6}")
    echo(f"data-quality checks: passed {s['checks'].get('passed', 0)}, failed {s['checks'].get('failed', 0)}")
    return s
