"""The code location: every layer's assets merged, resources bound to the five databases."""

from __future__ import annotations

import dagster as dg

from smart_warehouse_assets.aggregates.daily_applications import agg_daily_applications
from smart_warehouse_assets.aggregates.model_performance import agg_model_performance
from smart_warehouse_assets.aggregates.daily_decisions import agg_daily_decisions
from smart_warehouse_assets.catalog import table_metadata
from smart_warehouse_assets.cdc.live import agg_live_applications, cdc_live_metrics
from smart_warehouse_assets.cdc.slots import cdc_slot_checks_job, cdc_slot_checks_schedule, slot_checks
from smart_warehouse_assets.dimensions.assets import dimension_assets
from smart_warehouse_assets.facts.assets import fact_assets
from smart_warehouse_assets.ml.training_set import TrainingSetSettings, training_eligibility_scoring
from smart_warehouse_assets.jobs import observe_portals_job, warehouse_checks_job, warehouse_load_job
from smart_warehouse_assets.operations.definitions import (operation_jobs, operation_resources, operation_schedules,
                                                           operation_sensors)
from smart_warehouse_assets.resources import portal_key, resource_for
from smart_warehouse_assets.settings import DATABASES, explicit_url, has_password, url_for
from smart_warehouse_assets.asset_factory import OWNER
from smart_warehouse_assets.dimensions.assets import CalendarSettings
from smart_warehouse_assets.quality.spec import QualityThresholds
from smart_warehouse_assets.sources.portal_tables import portal_observers
from smart_warehouse_assets.staging.assets import staging_assets


def resource_key(key: str) -> str:
    return "warehouse" if key == "warehouse" else portal_key(key)


def database_resources(urls: dict[str, str] | None = None) -> dict[str, dg.ConfigurableResource]:
    """Given URLs as they are; else an EnvVar where SMART_*_URL is set (the UI shows it came
    from there) and the derived, password-free URL where it is not."""
    out = {}
    for key, db in DATABASES.items():
        if urls is not None:
            url = urls[key]
            if has_password(url):  # a literal URL is resource config: the run's snapshot keeps it
                raise ValueError(
                    f"the URL given for {db.name} holds a password, which Dagster would store with "
                    f"the run; put it in PGPASSWORD or ~/.pgpass, or in {db.env_var} (read through EnvVar)"
                )
        else:
            url = dg.EnvVar(db.env_var) if explicit_url(key) else url_for(key)
        out[resource_key(key)] = resource_for(key, url)
    return out


# Tables every load writes besides its own: shown so the catalog has every warehouse table.
etl_control_specs = [
    dg.AssetSpec(
        key=dg.AssetKey(name.split(".")[-1] if name.startswith("public.") else name.split(".")),
        description=description,
        group_name="etl_control",
        kinds={"postgres"},
        owners=[OWNER],
        deps=deps,
        metadata=table_metadata(name),
        tags={"layer": "control"},
    )
    for name, description, deps in (
        ("public.etl_batches", "One row per materialization of one asset partition range, written by every load.", []),
        ("public.etl_data_quality", "One row per evaluation of a data-quality check.", []),
        ("staging.rejected_rows", "Quarantine: source rows that failed validation, with the reason.",
         [a.key for a in staging_assets]),
    )
]

def build_definitions(
    urls: dict[str, str] | None = None, thresholds: QualityThresholds | None = None
) -> dg.Definitions:
    """The whole code location; ``urls`` points it at other databases (tests, benchmarks)."""
    return dg.Definitions(
        assets=[*portal_observers, *staging_assets, *dimension_assets, *fact_assets,
                agg_daily_applications, agg_daily_decisions, agg_model_performance, training_eligibility_scoring,
                agg_live_applications, *etl_control_specs],
        asset_checks=slot_checks,
        jobs=[warehouse_load_job, warehouse_checks_job, observe_portals_job, cdc_slot_checks_job, *operation_jobs],
        schedules=[*operation_schedules, cdc_slot_checks_schedule],
        sensors=[*operation_sensors, cdc_live_metrics],
        resources={**database_resources(urls), "quality": thresholds or QualityThresholds(), "calendar": CalendarSettings(),
                   "training": TrainingSetSettings(), **operation_resources},
        # Steps run in one process: a process per step costs ~3 s here; the work is in PostgreSQL.
        executor=dg.in_process_executor,
    )


defs = build_definitions()
