"""The run status sensors that hand every finished run of this code location to
:func:`.health.record_run`.

Kept apart from the monitor writes so that those stay plain functions (called the same way by
tests and operator scripts) and this module holds only the Dagster wiring: which run
statuses, how often, switched on where.
"""

from __future__ import annotations

import dagster as dg

from smart_warehouse_assets.operations.environment import sensor_status
from smart_warehouse_assets.operations.health import record_run
from smart_warehouse_assets.resources import PostgresResource

# Run status sensors look at the event log every 10 s (one indexed query), so the monitor and
# the watermarks follow a run within seconds rather than the default 30.
REACT_SECONDS = 10


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    name="monitor_successful_runs",
    minimum_interval_seconds=REACT_SECONDS,
    default_status=sensor_status(),
    description="After each successful run: a health_checks row in smart_monitor, and the incidents "
    "it fixes resolved.",
)
def monitor_successful_runs(context: dg.RunStatusSensorContext, monitor_db: PostgresResource,
                            warehouse: PostgresResource) -> None:
    done = record_run(monitor_db, warehouse, context.instance, context.dagster_run)
    context.log.info(f"run {context.dagster_run.run_id}: {done.status}, resolved {len(done.resolved)} incident(s)")


@dg.run_failure_sensor(
    name="monitor_failed_runs",
    minimum_interval_seconds=REACT_SECONDS,
    default_status=sensor_status(),
    description="After each failed run: a 'down' health_checks row and an alert incident per failed "
    "asset in smart_monitor.",
)
def monitor_failed_runs(context: dg.RunFailureSensorContext, monitor_db: PostgresResource,
                        warehouse: PostgresResource) -> None:
    done = record_run(monitor_db, warehouse, context.instance, context.dagster_run,
                      error=context.failure_event.message)
    context.log.info(f"run {context.dagster_run.run_id}: down, {len(done.opened)} incident(s) open")
