"""The operations in the code location: what is scheduled when, what starts switched on, and the
change logic's list of assets kept equal to the warehouse's."""

from __future__ import annotations

import dagster as dg
import pytest

from smart_warehouse_assets import partitions
from smart_warehouse_assets.definitions import defs
from smart_warehouse_assets.jobs import WAREHOUSE_SELECTION
from smart_warehouse_assets.operations import changes, environment


def test_schedules_and_sensors_are_in_the_code_location():
    repo = defs.get_repository_def()
    schedules = {s.name: s for s in repo.schedule_defs}
    assert {n: (s.cron_schedule, s.execution_timezone, s.job_name) for n, s in schedules.items()} == {
        "nightly_incremental": ("30 1 * * *", "Asia/Kolkata", "warehouse_load"),
        "weekly_full_reload": ("0 3 * * 0", "Asia/Kolkata", "warehouse_load"),
        "cdc_slot_checks_every_5_minutes": ("*/5 * * * *", "Asia/Kolkata", "cdc_slot_checks"),
        "daily_backup": ("30 2 * * *", "Asia/Kolkata", "warehouse_backup"),  # after the nightly load
    }
    sensors = {s.name for s in repo.sensor_defs}
    assert {"refresh_changed_partitions", "advance_watermarks", "monitor_successful_runs",
            "monitor_failed_runs", "cdc_live_metrics"} <= sensors
    # Off in development (the tests' environment), so nothing loads by itself on a laptop.
    assert all(s.default_status == dg.DefaultScheduleStatus.STOPPED for s in schedules.values())


@pytest.mark.parametrize(("value", "on"), [(None, False), ("development", False), ("staging", False),
                                           ("production", True), (" Production ", True)])
def test_production_switches_automation_on(monkeypatch, value, on):
    if value is None:
        monkeypatch.delenv(environment.ENV_VAR, raising=False)
    else:
        monkeypatch.setenv(environment.ENV_VAR, value)
    assert environment.schedule_status() == (dg.DefaultScheduleStatus.RUNNING if on else dg.DefaultScheduleStatus.STOPPED)
    assert environment.sensor_status() == (dg.DefaultSensorStatus.RUNNING if on else dg.DefaultSensorStatus.STOPPED)


def test_an_unknown_environment_is_refused(monkeypatch):
    monkeypatch.setenv(environment.ENV_VAR, "prod")
    with pytest.raises(environment.UnknownEnvironment, match="prod"):
        environment.schedule_status()


def test_the_change_logic_knows_every_warehouse_asset():
    graph = defs.resolve_asset_graph()
    warehouse = {k.to_user_string() for k in WAREHOUSE_SELECTION.resolve(graph)}
    assert set(changes.PARTITIONED_ASSETS) | set(changes.UNPARTITIONED_ASSETS) == warehouse
    for name in warehouse:
        partitioned = graph.get(dg.AssetKey.from_user_string(name)).partitions_def is not None
        assert partitioned == (name in changes.PARTITIONED_ASSETS), name


def test_compressed_day_lists_round_trip():
    from datetime import date, timedelta

    days = {date(2026, 9, 1) + timedelta(days=i) for i in (0, 1, 2, 4, 7, 8)}
    text = partitions.compress(days)
    assert text == "2026-09-01...2026-09-03,2026-09-05,2026-09-08...2026-09-09"
    assert partitions.expand(text) == days


def test_every_asset_takes_its_resources_as_typed_parameters():
    """Each asset function names the resources it uses as typed parameters (what the UI lists),
    and every database it uses is one it declares: no asset reaches resources by string."""
    from pathlib import Path

    from dagster._core.definitions.resource_annotation import get_resource_args

    from smart_warehouse_assets.sources.registry import REGISTRY

    graph = defs.resolve_asset_graph()
    checked = 0
    for assets_def in {graph.get(k).assets_def for k in graph.get_all_asset_keys()}:
        if not assets_def.is_executable:
            continue
        params = get_resource_args(assets_def.op.compute_fn.decorated_fn)
        declared = {p.name for p in params}
        assert declared == set(assets_def.required_resource_keys) - {"io_manager"}, assets_def.keys
        assert all(issubclass(p.annotation, dg.ConfigurableResource) for p in params)
        checked += 1
    assert checked >= len(REGISTRY)  # every source observer, staging, dimension, fact and aggregate
    # Reading the staging asset of applications needs the citizen portal (its look-up) and nothing else.
    staging = graph.get(dg.AssetKey(["staging", "service_applications"])).assets_def
    assert set(staging.required_resource_keys) - {"io_manager"} == {"warehouse", "quality", "citizen_db"}
    package = Path(partitions.__file__).parent
    untyped = [p for p in package.rglob("*.py") if "context.resources" in p.read_text()]
    assert untyped == []
