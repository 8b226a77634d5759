"""deploy/dagster.yaml: a materialization against the production instance config, its runs,
events and schedules in a PostgreSQL database of the test server."""

from __future__ import annotations

from datetime import timedelta

import dagster as dg
import psycopg

from smart_warehouse_assets.settings import derived_url
from tests.conftest import TEST_START
from tests.operations.helpers import execute_request, load_request, production_home


def test_a_materialization_on_the_production_instance_lands_in_postgres(
    database_urls, instance_database, tmp_path, monkeypatch
):
    from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage, PostgresScheduleStorage

    home, env = production_home(tmp_path, instance_database)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    day = TEST_START + timedelta(days=3)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert isinstance(instance.run_storage, PostgresRunStorage)
        assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
        assert isinstance(instance.schedule_storage, PostgresScheduleStorage)
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        limits = instance.get_concurrency_config().run_queue_config.tag_concurrency_limits
        assert {"key": "dagster/code_location", "value": "smart_warehouse", "limit": 1} in limits

        result = execute_request(database_urls, load_request(day, day, "dim_date", "staging/schemes"), instance)
        assert result.success
        assert instance.get_run_by_id(result.run_id).status == dg.DagsterRunStatus.SUCCESS
        assert instance.get_latest_materialization_event(dg.AssetKey("dim_date")) is not None

    storage = derived_url(instance_database)
    with psycopg.connect(storage) as conn:
        assert conn.execute("SELECT status FROM runs WHERE run_id = %s", (result.run_id,)).fetchone() == ("SUCCESS",)
        materialized = conn.execute(
            "SELECT count(*) FROM event_logs WHERE run_id = %s AND dagster_event_type = 'ASSET_MATERIALIZATION'",
            (result.run_id,)).fetchone()[0]
        assert materialized == 2
        assert conn.execute("SELECT to_regclass('public.jobs')").fetchone()[0] is not None  # schedule storage
    with psycopg.connect(database_urls["warehouse"]) as conn:
        assert conn.execute("SELECT count(*) FROM dim_date").fetchone()[0] > 365


def test_batched_event_writes_still_mark_a_failed_runs_partitions_failed(
    database_urls, instance_database, tmp_path, monkeypatch
):
    """The shipped environment writes a range's materializations as one batch
    (DAGSTER_EVENT_BATCH_SIZE); a run that fails must still leave each of its days failed in
    the UI's partition status, and a run that succeeds each of its days materialized."""
    from dagster._core.storage.partition_status_cache import get_and_update_asset_status_cache_value

    from smart_warehouse_assets.jobs import EVENT_BATCH_SIZE
    from smart_warehouse_assets.partitions import daily_partitions

    home, env = production_home(tmp_path, instance_database)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", EVENT_BATCH_SIZE)
    first, last = TEST_START, TEST_START + timedelta(days=2)
    days = {(first + timedelta(days=i)).isoformat() for i in range(3)}
    broken = dict(database_urls, dept=database_urls["dept"].rsplit("/", 1)[0] + "/no_such_database")
    with dg.DagsterInstance.from_config(str(home)) as instance:
        good = execute_request(database_urls, load_request(first, last, "staging/service_applications"), instance)
        bad = execute_request(broken, load_request(first, last, "staging/processing_actions"), instance,
                              raise_on_error=False, retries=False)
        assert good.success and not bad.success

        def status(key: dg.AssetKey):
            value = get_and_update_asset_status_cache_value(instance, key, daily_partitions)
            return (set(value.deserialize_materialized_partition_subsets(daily_partitions).get_partition_keys()),
                    set(value.deserialize_failed_partition_subsets(daily_partitions).get_partition_keys()))

        assert status(dg.AssetKey(["staging", "service_applications"])) == (days, set())
        assert status(dg.AssetKey(["staging", "processing_actions"])) == (set(), days)
    with psycopg.connect(derived_url(instance_database)) as conn:
        assert conn.execute(
            "SELECT count(*) FROM event_logs WHERE run_id = %s AND dagster_event_type = 'ASSET_MATERIALIZATION'",
            (good.run_id,)).fetchone()[0] == len(days)
