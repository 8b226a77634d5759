"""operations/event_log.py: the local instance's batched SQLite event log records exactly what
Dagster's own SQLite storage records, so the UI shows the same partitions, failures and checks."""

from __future__ import annotations

import collections
from datetime import timedelta
from pathlib import Path

import dagster as dg
import pytest

from smart_warehouse_assets.definitions import build_definitions
from smart_warehouse_assets.jobs import EVENT_BATCH_SIZE, ensure_dagster_home, local_instance_config
from smart_warehouse_assets.operations.event_log import BatchedSqliteEventLogStorage
from smart_warehouse_assets.partitions import daily_partitions
from tests.conftest import TEST_START
from tests.operations.helpers import execute_request, load_request

GOOD = ("staging/service_applications", "fact_service_applications", "dim_scheme")
BAD = "staging/processing_actions"


def _record(home: Path, urls: dict[str, str]) -> dict:
    """Load three days of a few assets (their checks with them), then a run that fails; what
    the instance then tells about them."""
    from dagster._core.storage.partition_status_cache import get_and_update_asset_status_cache_value

    first, last = TEST_START, TEST_START + timedelta(days=2)
    broken = dict(urls, dept=urls["dept"].rsplit("/", 1)[0] + "/no_such_database")
    with dg.DagsterInstance.from_config(str(home)) as instance:
        storage = type(instance.event_log_storage)
        good = execute_request(urls, load_request(first, last, *GOOD), instance)
        bad = execute_request(broken, load_request(first, last, BAD), instance, raise_on_error=False, retries=False)
        assert good.success and not bad.success

        statuses = {}
        for name in (*GOOD, BAD):
            key = dg.AssetKey.from_user_string(name)
            if name == "dim_scheme":
                latest = instance.get_latest_materialization_event(key)
                statuses[name] = latest.run_id == good.run_id
                continue
            value = get_and_update_asset_status_cache_value(instance, key, daily_partitions)
            statuses[name] = (
                sorted(value.deserialize_materialized_partition_subsets(daily_partitions).get_partition_keys()),
                sorted(value.deserialize_failed_partition_subsets(daily_partitions).get_partition_keys()),
            )
        events = {
            run: collections.Counter(
                (r.event_log_entry.dagster_event.event_type_value,
                 r.event_log_entry.dagster_event.asset_key.to_user_string()
                 if r.event_log_entry.dagster_event.asset_key else None,
                 r.event_log_entry.dagster_event.partition)
                for r in instance.get_records_for_run(result.run_id, limit=100_000).records
                if r.event_log_entry.dagster_event is not None
            )
            for run, result in (("good", good), ("bad", bad))
        }
        checks = collections.Counter()
        wanted = {dg.AssetKey.from_user_string(name) for name in (*GOOD, BAD)}
        graph = build_definitions(urls).resolve_asset_graph()
        for check_key in (k for k in graph.asset_check_keys if k.asset_key in wanted):
            for record in instance.event_log_storage.get_asset_check_execution_history(check_key, limit=1000):
                checks[(check_key.asset_key.to_user_string(), check_key.name, record.partition,
                        record.status.value)] += 1
        # Per-event tags (data and code versions) in the index, which the UI filters by.
        tags = {name: sorted(tuple(sorted(t.items())) for t in instance.get_event_tags_for_asset(
            dg.AssetKey.from_user_string(name))) for name in GOOD}
        return {"storage": storage, "statuses": statuses, "events": events, "checks": checks, "tags": tags}


def test_batched_event_log_records_what_dagsters_own_sqlite_storage_records(database_urls, tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", EVENT_BATCH_SIZE)
    stock, batched = tmp_path / "stock", tmp_path / "batched"
    stock.mkdir()
    batched.mkdir()
    (stock / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    (batched / "dagster.yaml").write_text(local_instance_config(batched))

    plain = _record(stock, database_urls)
    ours = _record(batched, database_urls)

    assert plain["storage"] is not BatchedSqliteEventLogStorage
    assert ours["storage"] is BatchedSqliteEventLogStorage
    days = [(TEST_START + timedelta(days=i)).isoformat() for i in range(3)]
    assert ours["statuses"] == plain["statuses"]
    assert ours["statuses"]["fact_service_applications"] == (days, [])
    assert ours["statuses"][BAD] == ([], days)  # a failed run still marks each of its days failed
    assert ours["statuses"]["dim_scheme"] is True
    assert ours["events"] == plain["events"]
    assert sum(n for (kind, _, _), n in ours["events"]["good"].items() if kind == "ASSET_MATERIALIZATION_PLANNED") > 3
    assert ours["checks"] == plain["checks"] and ours["checks"]
    assert ours["tags"] == plain["tags"] and all(ours["tags"].values())


def test_a_new_local_home_gets_the_batched_event_log_and_an_own_config_is_kept(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    ensure_dagster_home()
    with dg.DagsterInstance.get() as instance:
        assert isinstance(instance.event_log_storage, BatchedSqliteEventLogStorage)
    # An instance made by an earlier version (its telemetry-only file) is moved over; its
    # runs stay where they were (the same history/runs folder).
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    ensure_dagster_home()
    assert "BatchedSqliteEventLogStorage" in (home / "dagster.yaml").read_text()
    own = "telemetry:\n  enabled: false\nretention:\n  schedule:\n    purge_after_days: 30\n"
    (home / "dagster.yaml").write_text(own)
    ensure_dagster_home()
    assert (home / "dagster.yaml").read_text() == own


@pytest.mark.parametrize("size", [1, 3])
def test_a_batch_of_mixed_events_keeps_their_order(tmp_path, size, database_urls, monkeypatch):
    """Batches smaller than a run's planned events (the size the environment sets) still
    write every event, in order: compare with the stock storage at the same batch size."""
    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", str(size))
    homes = {}
    for name, config in (("stock", "telemetry:\n  enabled: false\n"), ("batched", None)):
        home = tmp_path / name
        home.mkdir()
        (home / "dagster.yaml").write_text(config or local_instance_config(home))
        homes[name] = home
    day = TEST_START
    order = {}
    for name, home in homes.items():
        with dg.DagsterInstance.from_config(str(home)) as instance:
            result = execute_request(database_urls, load_request(day, day + timedelta(days=1), "staging/schemes",
                                                                 "staging/payments"), instance)
            order[name] = [
                (r.event_log_entry.dagster_event.event_type_value, r.event_log_entry.dagster_event.partition)
                for r in instance.get_records_for_run(result.run_id, limit=10_000).records
                if r.event_log_entry.dagster_event is not None
                and r.event_log_entry.dagster_event.event_type_value.startswith("ASSET")
            ]
    assert order["batched"] == order["stock"]


def test_a_forked_process_writes_through_a_connection_of_its_own(tmp_path):
    """The storage keeps a SQLite connection per file between uses. A process forked from one
    that holds them (SQLite forbids using a connection across a fork) opens its own, and the
    events of both land."""
    import os

    (tmp_path / "dagster.yaml").write_text(local_instance_config(tmp_path))
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        storage = instance.event_log_storage
        instance.report_runless_asset_event(dg.AssetMaterialization("before_fork"))
        with storage.index_connection() as conn:
            parents = conn.connection.dbapi_connection  # held: its address cannot be reused
        read, write = os.pipe()
        child = os.fork()
        if child == 0:  # the child: write an event, say whether its connection was the parent's
            code = 1
            try:
                instance.report_runless_asset_event(dg.AssetMaterialization("in_child"))
                with storage.index_connection() as conn:
                    code = 0 if conn.connection.dbapi_connection is not parents else 2
            finally:
                os.write(write, bytes([code]))
                os._exit(0)
        os.close(write)
        os.waitpid(child, 0)
        assert os.read(read, 1) == bytes([0])  # 2: the child wrote through the parent's connection
        instance.report_runless_asset_event(dg.AssetMaterialization("after_fork"))
        for name in ("before_fork", "in_child", "after_fork"):
            assert instance.get_latest_materialization_event(dg.AssetKey(name)) is not None, name
