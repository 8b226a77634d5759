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
