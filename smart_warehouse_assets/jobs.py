"""Running the warehouse load outside the UI: the CLI's and the tests' one entry point.

A load is one Dagster run over a range of IST days: unpartitioned assets (staging of the
dimension sources, the dimensions) once, every partitioned asset over the whole range —
the same single run that an asset backfill with BackfillPolicy.single_run() launches.
"""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import dagster as dg

from smart_warehouse_assets.partitions import parse_day
from smart_warehouse_assets.paths import DEFAULT_DAGSTER_HOME


# Everything Dagster materializes (portal tables are observed, not materialized).
WAREHOUSE_SELECTION = dg.AssetSelection.groups("staging", "dimensions", "facts", "aggregates", "ml")

warehouse_load_job = dg.define_asset_job(
    "warehouse_load",
    selection=WAREHOUSE_SELECTION,
    description="Staging, dimensions, facts and the aggregate for a range of IST days, in one run.",
)

warehouse_checks_job = dg.define_asset_job(
    "warehouse_checks",
    # The replication-slot checks of the live asset judge the pipeline, not rows (cdc/slots.py).
    selection=dg.AssetSelection.all_asset_checks() - dg.AssetSelection.checks_for_assets("agg_live_applications"),
    description="Every data-quality check on the current tables, without loading anything.",
)

observe_portals_job = dg.define_asset_job(
    "observe_portals",
    selection=dg.AssetSelection.groups("citizen_portal", "dept_portal", "aiml_portal", include_sources=True),
    description="Row count and latest updated_at of every portal table the warehouse reads.",
)


# Dagster hands a run's planned events and each asset's per-partition materializations to
# the storage in batches of this size: the PostgreSQL instance storage (deploy/dagster.yaml)
# writes a materialization batch as one INSERT, the local instance's event log
# (operations/event_log.py) writes every batch at once; Dagster's stock SQLite storage would
# write them one by one. Planned events (what marks a failed run's partitions failed) are
# still one per day. Shipped in deploy/ (Dockerfile, Kubernetes config) too.
EVENT_BATCH_SIZE = "1000"


# What earlier versions wrote as a new home's dagster.yaml: replaced by local_instance_config.
_OLD_LOCAL_CONFIG = "telemetry:\n  enabled: false\n"


def local_instance_config(home: Path) -> str:
    """dagster.yaml of a local instance: Dagster's SQLite storage, its event log writing each
    batch of events at once (operations/event_log.py), telemetry off."""
    return (
        "telemetry:\n  enabled: false\n"
        "event_log_storage:\n"
        "  module: smart_warehouse_assets.operations.event_log\n"
        "  class: BatchedSqliteEventLogStorage\n"
        "  config:\n"
        f"    base_dir: {json.dumps(str(home / 'history' / 'runs'))}\n"
    )


def ensure_dagster_home() -> Path:
    """DAGSTER_HOME, defaulting to a git-ignored folder of the project, telemetry off,
    batched event writes on (EVENT_BATCH_SIZE). A dagster.yaml of the user's own is kept."""
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(DEFAULT_DAGSTER_HOME)))
    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("DAGSTER_EVENT_BATCH_SIZE", EVENT_BATCH_SIZE)
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists() or config.read_text() == _OLD_LOCAL_CONFIG:
        config.write_text(local_instance_config(home))
    return home


def range_tags(first: date, last: date) -> dict[str, str]:
    return {
        "dagster/asset_partition_range_start": first.isoformat(),
        "dagster/asset_partition_range_end": last.isoformat(),
    }


def run_load(
    defs: dg.Definitions,
    first: date | str,
    last: date | str,
    *,
    instance: dg.DagsterInstance,
    selection: dg.AssetSelection | None = None,
    raise_on_error: bool = True,
    log_level: str = "INFO",
) -> dg.ExecuteInProcessResult:
    """Materialize ``selection`` (default: the whole warehouse) for days first..last in one run."""
    first = parse_day(first) if isinstance(first, str) else first
    last = parse_day(last) if isinstance(last, str) else last
    job = defs.resolve_job_def("warehouse_load")
    if selection is not None:
        job = dg.Definitions.merge(
            defs, dg.Definitions(jobs=[dg.define_asset_job("warehouse_load_subset", selection=selection)])
        ).resolve_job_def("warehouse_load_subset")
    return job.execute_in_process(
        instance=instance,
        tags=range_tags(first, last),
        run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
        raise_on_error=raise_on_error,
    )


def run_request(
    defs: dg.Definitions,
    request: dg.RunRequest,
    *,
    instance: dg.DagsterInstance,
    raise_on_error: bool = True,
    log_level: str = "INFO",
    retries: bool = True,
) -> dg.ExecuteInProcessResult:
    """Run in this process what a schedule or sensor asked of ``warehouse_load``: its assets,
    its tags (partition range, changed days, watermark window). ``retries=False`` turns the
    assets' retry policies off."""
    run_config: dict = {"loggers": {"console": {"config": {"log_level": log_level}}}}
    if not retries:
        run_config["execution"] = {"config": {"retries": {"disabled": {}}}}
    return defs.resolve_job_def("warehouse_load").execute_in_process(
        instance=instance, asset_selection=request.asset_selection, tags=dict(request.tags),
        raise_on_error=raise_on_error, run_config=run_config,
    )


def run_checks(
    defs: dg.Definitions,
    first: date | str | None = None,
    last: date | str | None = None,
    *,
    instance: dg.DagsterInstance,
    selection: dg.AssetSelection | None = None,
) -> dg.ExecuteInProcessResult:
    """Evaluate the checks (default: all) on the current tables; days first..last, or all days."""
    job = defs.resolve_job_def("warehouse_checks")
    if selection is not None:
        job = dg.Definitions.merge(
            defs, dg.Definitions(jobs=[dg.define_asset_job("warehouse_checks_subset", selection=selection)])
        ).resolve_job_def("warehouse_checks_subset")
    tags = {}
    if first and last:
        tags = range_tags(parse_day(first) if isinstance(first, str) else first,
                          parse_day(last) if isinstance(last, str) else last)
    return job.execute_in_process(
        instance=instance, tags=tags, raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
    )
