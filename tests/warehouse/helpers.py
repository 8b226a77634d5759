"""Reading tables back for comparisons in the warehouse tests."""

from __future__ import annotations

import psycopg
from psycopg import sql

FACTS = ("fact_service_applications", "fact_application_processing", "fact_eligibility_scoring",
         "fact_prediction_outcome", "agg_daily_applications", "fact_payments", "agg_daily_decisions")
DIMENSIONS = ("dim_date", "dim_holiday", "dim_citizen", "dim_scheme", "dim_department", "dim_model",
              "dim_designation")


def rows(url: str, query: str, params=None) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchall()


def scalar(url: str, query: str, params=None):
    return rows(url, query, params)[0][0]


def contents(url: str, table: str, schema: str = "public") -> list[tuple]:
    """Every row of a table, sorted, without etl_batch_id (which names the load, not the data) and
    staging.predictions' outcome_as_of (the clock of the extraction that last landed the row)."""
    with psycopg.connect(url) as conn:
        cols = [c for (c,) in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = %s "
            "AND table_name = %s AND column_name NOT IN ('etl_batch_id', 'outcome_as_of') ORDER BY ordinal_position",
            (schema, table))]
        query = sql.SQL("SELECT {} FROM {}.{} ORDER BY {}").format(
            sql.SQL(", ").join(map(sql.Identifier, cols)), sql.Identifier(schema), sql.Identifier(table),
            sql.SQL(", ").join(sql.SQL(str(i + 1)) for i in range(len(cols))),
        )
        return conn.execute(query).fetchall()
