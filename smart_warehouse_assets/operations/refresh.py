"""Change-driven refresh: re-materialize the partitions whose portal rows changed.

``refresh_changed_partitions`` runs every few minutes. It reads the stored watermarks and
each source's latest ``updated_at`` (the window, see :mod:`.changes`), finds the IST days
whose rows changed inside it, and requests one run of ``warehouse_load`` for them: the
staging extraction, fact and (for applications) the aggregate of every source that
changed, the dimension chain of every dimension source that changed. ``advance_watermarks``
moves the watermarks once that run has succeeded.

How "exactly those partitions" becomes one run. Dagster 1.13 gives a run one contiguous
partition range (the ``dagster/asset_partition_range_*`` tags that a single-run backfill
also uses), shared by every partitioned asset in it; a changed set such as 1-8, 10-12, 14-15
September is not contiguous. The alternatives were:

* an asset backfill of the exact (asset, day) set — ``RunRequest.for_asset_graph_subset``,
  which the sensor daemon honours by creating a backfill. Even with
  ``BackfillPolicy.single_run()`` the backfill daemon launches one run per contiguous
  range and per group of assets sharing a key set, in dependency waves one daemon
  iteration (30 s) apart — several runs, not one — and ``AssetGraphSubset`` is not public API;
* one run per contiguous block — exact, but again several runs.

So the sensor requests a single run over the smallest range that holds every changed day
(``RunRequest(asset_selection=..., tags=range tags)``) and names the exact set, per asset,
in the ``smart/changed_partitions`` tag. Each asset reloads only the span of its own
changed days inside the range (:func:`smart_warehouse_assets.partitions.day_range`):
yesterday's processing actions do not reload the ninety days that an old application's
decision opens for the applications. Days inside a reloaded span that did not change are
replaced by identical rows (tested); the range's days outside an asset's span are
unchanged at the source and recorded as materialized by the run as they stand.

While a load with a watermark window is queued or running the sensor waits, so two loads
never race for the same window; the instance's run queue (``deploy/dagster.yaml``) keeps
runs of this code location from interleaving anyway.
"""

from __future__ import annotations

from collections.abc import Mapping

import dagster as dg

from smart_warehouse_assets.jobs import warehouse_load_job
from smart_warehouse_assets.operations import changes
from smart_warehouse_assets.operations.environment import sensor_status
from smart_warehouse_assets.partitions import compress
from smart_warehouse_assets.resources import PostgresResource

REFRESH_SECONDS = 300
REACT_SECONDS = 10  # how soon after a run's success its window is applied
TRIGGERS = ("refresh", "nightly", "weekly")
WAITING = [
    dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED,
]


def portals_of(citizen_db: PostgresResource, dept_db: PostgresResource, aiml_db: PostgresResource) -> dict[str, PostgresResource]:
    return {"citizen": citizen_db, "dept": dept_db, "aiml": aiml_db}


def loads_in_flight(instance: dg.DagsterInstance) -> list[dg.DagsterRun]:
    """Runs carrying a watermark window that have not finished yet."""
    return list(instance.get_runs(
        filters=dg.RunsFilter(statuses=WAITING, tags={changes.TRIGGER_TAG: list(TRIGGERS)}), limit=5
    ))


def catch_up(instance: dg.DagsterInstance, warehouse: PostgresResource, log=None, limit: int = 5) -> dict:
    """Apply the windows of the latest successful loads (idempotent: watermarks never move back).

    ``advance_watermarks`` does this as soon as a run succeeds; doing it again here closes
    the gap between a run's success and that sensor's next tick, and repairs a move that
    failed because the warehouse was unreachable at that moment.
    """
    runs = instance.get_runs(
        filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.SUCCESS], tags={changes.TRIGGER_TAG: list(TRIGGERS)}),
        limit=limit,
    )
    moved = {}
    for run in reversed(list(runs)):  # oldest first
        window = changes.window_of(run.tags)
        if window is not None:
            moved.update(changes.advance(warehouse, window, run.run_id))
    if moved and log is not None:
        log.info(f"watermarks caught up: {', '.join(sorted(moved))}")
    return moved


@dg.sensor(
    name="refresh_changed_partitions",
    job=warehouse_load_job,
    minimum_interval_seconds=REFRESH_SECONDS,
    default_status=sensor_status(),
    description="Every 5 minutes: one warehouse_load run for the partitions whose portal rows changed "
    "since the watermarks in public.etl_watermarks (and the dimensions whose members changed).",
)
def refresh_changed_partitions(
    context: dg.SensorEvaluationContext,
    warehouse: PostgresResource,
    citizen_db: PostgresResource,
    dept_db: PostgresResource,
    aiml_db: PostgresResource,
):
    busy = loads_in_flight(context.instance)
    if busy:
        return dg.SkipReason(f"run {busy[0].run_id} is still loading a watermark window; waiting for it")
    catch_up(context.instance, warehouse, context.log)
    found = changes.plan(portals_of(citizen_db, dept_db, aiml_db), warehouse)
    later = f" (waiting for their partitions: {_deferred(found.deferred)})" if found.deferred else ""
    if found.is_empty():
        return dg.SkipReason(f"no partition to refresh{later}")
    context.log.info(f"refreshing {found.describe()}{later}")
    return found.run_request("refresh")


def _deferred(deferred: Mapping[str, set]) -> str:
    return "; ".join(f"{a}: {compress(d)}" for a, d in sorted(deferred.items()))


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    name="advance_watermarks",
    minimum_interval_seconds=REACT_SECONDS,
    default_status=sensor_status(),
    description="When a load that carries a watermark window succeeds, moves the watermarks in "
    "public.etl_watermarks to the end of that window.",
)
def advance_watermarks(context: dg.RunStatusSensorContext, warehouse: PostgresResource) -> None:
    run = context.dagster_run
    window = changes.window_of(run.tags)
    if window is None:
        return  # not a load with a window (a manual materialization, an observation)
    moved = changes.advance(warehouse, window, run.run_id)
    context.log.info(
        f"run {run.run_id}: " + (", ".join(f"{k} -> {v[1].isoformat()}" for k, v in sorted(moved.items()))
                                 or "watermarks already at or past its window")
    )
