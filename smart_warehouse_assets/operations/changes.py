"""Which partitions went stale: the IST days whose source rows changed since a watermark.

Decisions arrive weeks after submission, so an old submission day changes when one of its
applications is decided; a prediction day changes when its application is decided. The
watermark is per source table and in the source's own clock (its max ``updated_at``), so
clock skew between servers cannot hide a change.
"""

from __future__ import annotations

from datetime import date, datetime

from psycopg import sql

from smart_warehouse_assets.resources import PostgresResource

WATCHED = {  # source table -> (portal, event column)
    "service_applications": ("citizen", "submitted_at"),
    "processing_actions": ("dept", "action_at"),
    "predictions": ("aiml", "predicted_at"),
}

_DAYS = """
SELECT DISTINCT ({event} AT TIME ZONE 'Asia/Kolkata')::date
FROM public.{table} WHERE updated_at > %s AND {event} IS NOT NULL
"""
_CHANGED_APPLICATIONS = "SELECT application_id FROM public.service_applications WHERE updated_at > %s"
_PREDICTION_DAYS_OF = """
SELECT DISTINCT (predicted_at AT TIME ZONE 'Asia/Kolkata')::date
FROM public.predictions WHERE application_id = ANY(%s) AND use_case_code = 'ELIGIBILITY_SCORING'
"""


def watermarks(portals: dict[str, PostgresResource]) -> dict[str, datetime | None]:
    """The current max(updated_at) of each watched source table."""
    out = {}
    for table, (portal, _) in WATCHED.items():
        with portals[portal].connect() as conn:
            out[table] = conn.execute(
                sql.SQL("SELECT max(updated_at) FROM public.{}").format(sql.Identifier(table))
            ).fetchone()[0]
    return out


def changed_days(portals: dict[str, PostgresResource], since: dict[str, datetime | None]) -> dict[str, set[date]]:
    """Per fact asset, the IST days whose rows changed after ``since`` (per source table)."""
    floor = datetime(1900, 1, 1).astimezone()
    days: dict[str, set[date]] = {}
    for table, (portal, event) in WATCHED.items():
        with portals[portal].connect() as conn:
            rows = conn.execute(
                sql.SQL(_DAYS).format(event=sql.Identifier(event), table=sql.Identifier(table)),
                (since.get(table) or floor,),
            ).fetchall()
        days[table] = {d for (d,) in rows}
    with portals["citizen"].connect() as conn:
        apps = [a for (a,) in conn.execute(_CHANGED_APPLICATIONS, (since.get("service_applications") or floor,))]
    if apps:
        with portals["aiml"].connect() as conn:
            days["predictions"] |= {d for (d,) in conn.execute(_PREDICTION_DAYS_OF, (apps,))}
    return {
        "fact_service_applications": days["service_applications"],
        "agg_daily_applications": days["service_applications"],
        "fact_application_processing": days["processing_actions"],
        "fact_eligibility_scoring": days["predictions"],
    }
