"""The warehouse's timetable, in IST (Asia/Kolkata).

* ``nightly_incremental`` at 01:30: every dimension, then yesterday's partition of every
  fact and the aggregate, plus every partition whose source rows changed since the
  watermarks (decisions on old applications) — one run over the smallest range holding
  all of those days (see :mod:`.refresh` for why one range).
* ``weekly_full_reload`` on Sunday at 03:00: every dimension and every partition, as one
  run over the whole partition range — the run a single-run asset backfill of every
  partition would launch. It also repairs what watermarks cannot see (hard deletes,
  back-dated changes) and moves every watermark to where it started reading.

Both target ``warehouse_load`` and carry the watermark window they cover, so
``advance_watermarks`` moves the watermarks once they succeed. Both start switched off
unless ``SMART_ENVIRONMENT=production`` (see :mod:`.environment`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import dagster as dg

from smart_warehouse_assets.jobs import warehouse_load_job
from smart_warehouse_assets.operations import changes
from smart_warehouse_assets.operations.environment import schedule_status
from smart_warehouse_assets.operations.refresh import catch_up, portals_of
from smart_warehouse_assets.partitions import IST, TIMEZONE
from smart_warehouse_assets.resources import PostgresResource

NIGHTLY_CRON = "30 1 * * *"
WEEKLY_CRON = "0 3 * * 0"


def _evaluation_time(context: dg.ScheduleEvaluationContext) -> datetime:
    at = context.scheduled_execution_time or datetime.now(IST)
    return at if at.tzinfo else at.replace(tzinfo=IST)


@dg.schedule(
    name="nightly_incremental",
    cron_schedule=NIGHTLY_CRON,
    execution_timezone=TIMEZONE,
    job=warehouse_load_job,
    default_status=schedule_status(),
    description="01:30 IST: dimensions, yesterday's partition of every fact and the aggregate, and "
    "every partition whose source rows changed since the watermarks, in one run.",
)
def nightly_incremental(
    context: dg.ScheduleEvaluationContext,
    warehouse: PostgresResource,
    citizen_db: PostgresResource,
    dept_db: PostgresResource,
    aiml_db: PostgresResource,
):
    at = _evaluation_time(context)
    yesterday = at.astimezone(IST).date() - timedelta(days=1)
    catch_up(context.instance, warehouse, context.log)
    found = changes.plan(
        portals_of(citizen_db, dept_db, aiml_db), warehouse, now=at,
        also_days=[yesterday], also_assets=changes.UNPARTITIONED_ASSETS,
    )
    context.log.info(f"nightly load for {yesterday}: {found.describe()}")
    return found.run_request("nightly", run_key=f"nightly-{yesterday.isoformat()}")


@dg.schedule(
    name="weekly_full_reload",
    cron_schedule=WEEKLY_CRON,
    execution_timezone=TIMEZONE,
    job=warehouse_load_job,
    default_status=schedule_status(),
    description="Sunday 03:00 IST: every dimension and every partition of every fact and the "
    "aggregate, as one run over the whole partition range.",
)
def weekly_full_reload(
    context: dg.ScheduleEvaluationContext,
    warehouse: PostgresResource,
    citizen_db: PostgresResource,
    dept_db: PostgresResource,
    aiml_db: PostgresResource,
):
    at = _evaluation_time(context)
    found = changes.plan(portals_of(citizen_db, dept_db, aiml_db), warehouse, now=at, full=True)
    span = found.span()
    if span is None:
        return dg.SkipReason("no partitions yet: the partition start lies in the future")
    context.log.info(f"full reload of {span[0]} ... {span[1]}")
    return found.run_request("weekly", run_key=f"weekly-{at.astimezone(IST).date().isoformat()}")
