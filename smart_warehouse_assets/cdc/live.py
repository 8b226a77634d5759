"""Today's critical application figures as a Dagster asset, kept live by a sensor.

``cdc_live_metrics`` ticks every :data:`TICK_SECONDS`: it runs one consumer pass per source
portal (bounded, so a tick stays well inside Dagster's 60 s limit) and, when changes were
applied, reports a materialization of ``agg_live_applications`` with the LSN reached per
portal, the changes applied and the days refreshed. Materializing the asset by hand does
the same pass. The nightly run still produces each day's final ``agg_daily_applications``.
"""


from datetime import datetime, timezone

import dagster as dg

from smart_warehouse_assets.asset_factory import OWNER
from smart_warehouse_assets.catalog import table_metadata
from smart_warehouse_assets.cdc import consumer, recovery
from smart_warehouse_assets.cdc.apply import LIVE_ASSET
from smart_warehouse_assets.cdc.publications import PORTALS
from smart_warehouse_assets.operations.environment import sensor_status
from smart_warehouse_assets.resources import PostgresResource

TICK_SECONDS = 15
MAX_CHANGES_PER_TICK = 20_000  # per portal; a pass of this size takes a few seconds


def one_pass(portals: dict[str, PostgresResource], warehouse: PostgresResource, run_id: str | None = None,
             max_changes: int = MAX_CHANGES_PER_TICK, monitor: PostgresResource | None = None,
             log=None) -> list[consumer.PassResult]:
    """A pass per portal; a lost slot is recovered (recovery.py) and read again."""
    results = []
    for p in PORTALS:
        try:
            results.append(consumer.consume(p, portals[p].url, warehouse.url, max_changes=max_changes, run_id=run_id))
        except consumer.SlotLost as exc:
            done = recovery.recover(p, portals[p].url, warehouse.url, monitor.url if monitor else None, str(exc))
            if log is not None:
                log.warning(f"{exc}; slot recreated, {done['reread']} applications re-read since {done['since']}, "
                            f"incident {done['incident']}")
            results.append(consumer.consume(p, portals[p].url, warehouse.url, max_changes=max_changes, run_id=run_id))
    return results


def _metadata(results: list[consumer.PassResult], warehouse: PostgresResource) -> dict:
    with warehouse.connect() as conn:
        rows = conn.execute("SELECT count(*) FROM public.agg_live_applications").fetchone()[0]
    meta = {
        "dagster/row_count": rows,
        "changes_applied": sum(r.changes for r in results),
        "days_refreshed": ", ".join(str(d) for d in sorted(set().union(*(r.days for r in results)))) or "none",
    }
    for r in results:
        meta[f"lsn_{r.database}"] = dg.MetadataValue.text(r.lsn or "-")
    return meta


@dg.asset(
    name=LIVE_ASSET,
    group_name="live",
    kinds={"postgres"},
    owners=[OWNER],
    deps=["fact_service_applications", "dim_citizen"],
    metadata=table_metadata(f"public.{LIVE_ASSET}"),
    tags={"layer": "aggregate"},
    description="Live figures of the submission days not yet finalized by the nightly load (today): "
    "applications submitted, decided, approved, rejected, pending, withdrawn, SLA breaches and amounts per "
    "scheme x department x district, applied from the portals' write-ahead log within a minute of commit.",
)
def agg_live_applications(context: dg.AssetExecutionContext, warehouse: PostgresResource,
                          citizen_db: PostgresResource, dept_db: PostgresResource,
                          aiml_db: PostgresResource, monitor_db: PostgresResource) -> dg.MaterializeResult:
    portals = {"citizen": citizen_db, "dept": dept_db, "aiml": aiml_db}
    results = one_pass(portals, warehouse, run_id=context.run.run_id, monitor=monitor_db, log=context.log)
    return dg.MaterializeResult(metadata=_metadata(results, warehouse))


@dg.sensor(
    name="cdc_live_metrics",
    minimum_interval_seconds=TICK_SECONDS,
    default_status=sensor_status(),
    description="Every 15 s: applies each source portal's captured changes (logical decoding) to the "
    "warehouse and reports a materialization of agg_live_applications with the LSN reached.",
)
def cdc_live_metrics(context: dg.SensorEvaluationContext, warehouse: PostgresResource,
                     citizen_db: PostgresResource, dept_db: PostgresResource, aiml_db: PostgresResource,
                     monitor_db: PostgresResource):
    portals = {"citizen": citizen_db, "dept": dept_db, "aiml": aiml_db}
    # No run: the batches name the sensor and the tick's time instead.
    tick = f"sensor:cdc_live_metrics:{datetime.now(timezone.utc):%Y-%m-%dT%H:%M:%SZ}"
    results = one_pass(portals, warehouse, run_id=tick, monitor=monitor_db,
                       log=context.log)
    applied = sum(r.transactions for r in results)
    cursor = ",".join(r.lsn or "-" for r in results)
    if not applied:
        return dg.SensorResult(skip_reason="no new change in the portals", cursor=cursor)
    context.log.info(", ".join(f"{r.database}: {r.changes} changes to {r.lsn}" for r in results))
    return dg.SensorResult(
        asset_events=[dg.AssetMaterialization(asset_key=LIVE_ASSET, metadata=_metadata(results, warehouse))],
        cursor=cursor,
    )

