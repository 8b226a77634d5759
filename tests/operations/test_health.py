"""The pipeline in smart_monitor: a health check per run, an incident for a failed run that a
later good run of the same asset and partition resolves."""

from __future__ import annotations

from datetime import timedelta

import dagster as dg
import pytest

from smart_warehouse_assets.operations import changes
from smart_warehouse_assets.operations.incidents import open_incident, resolve_incidents
from smart_warehouse_assets.operations.monitor_registration import (
    CHECK_FAILURE, COMPONENT_CODE, RULES, RUN_FAILURE, register,
)
from smart_warehouse_assets.operations.monitor_sensors import monitor_failed_runs, monitor_successful_runs
from tests.conftest import TEST_START
from tests.operations.helpers import execute_request, load_request, react_to_run, resources
from tests.warehouse.helpers import rows, scalar

DAY = TEST_START + timedelta(days=1)
ASSETS = ("staging/processing_actions", "fact_application_processing")


@pytest.fixture
def seeded(make_database_set, seeded_template):
    template, _ = seeded_template
    return make_database_set(template=template)


def _ours(monitor: str, query: str, params=()):
    """Rows of the pipeline's own component (the seeded monitor holds other components too);
    ``query`` names the table holding component_id ``x``."""
    return rows(monitor, query.replace("WHERE true", "WHERE x.component_id = (SELECT component_id FROM "
                                       "system_components WHERE component_code = %s)"),
                (COMPONENT_CODE, *params))


def test_failed_run_opens_an_incident_that_a_good_run_resolves(loaded):
    urls, _ = loaded
    monitor = urls["monitor"]
    broken = dict(urls, dept=urls["dept"].rsplit("/", 1)[0] + "/no_such_database")
    request = load_request(DAY, DAY, *ASSETS)
    with dg.DagsterInstance.ephemeral() as instance:
        failed = execute_request(broken, request, instance, raise_on_error=False, retries=False)
        assert not failed.success
        react_to_run(monitor_failed_runs, urls, instance, failed)

        assert rows(monitor, "SELECT component_type, environment, status FROM system_components "
                             "WHERE component_code = %s", (COMPONENT_CODE,)) == [("pipeline", "development", "active")]
        [(status, ms, details)] = _ours(monitor, "SELECT status, response_ms, details FROM health_checks x WHERE true")
        assert status == "down" and ms is not None and ms >= 0
        assert details["run_id"] == failed.run_id and details["dagster_status"] == "FAILURE"
        assert details["assets_failed"] == ["staging/processing_actions"]
        assert details["assets_not_materialized"] == ["fact_application_processing"]
        # What is recorded is the run failure event's message: it names the job and the failed step.
        assert details["error"] == ("Execution of run for \"warehouse_load\" failed. "
                                    "Steps failed: ['staging__processing_actions'].")
        [(incident_id, severity, state, rule, d)] = _ours(monitor, """
            SELECT x.incident_id, x.severity, x.incident_status, r.rule_code, x.details
            FROM alert_incidents x JOIN alert_rules r USING (alert_rule_id) WHERE true""")
        assert (severity, state, rule) == ("critical", "open", RULES[RUN_FAILURE][0])
        assert (d["asset_key"], d["partition_start"], d["partition_end"]) == (ASSETS[0], str(DAY), str(DAY))
        assert (d["job_name"], d["error"]) == ("warehouse_load", details["error"])

        # The same failure again: the incident counts it, no second incident.
        again = execute_request(broken, request, instance, raise_on_error=False, retries=False)
        react_to_run(monitor_failed_runs, urls, instance, again)
        assert _ours(monitor, "SELECT count(*), max((details->>'occurrences')::int) FROM alert_incidents x WHERE true") == [(1, 2)]

        good = execute_request(urls, request, instance)
        assert good.success
        react_to_run(monitor_successful_runs, urls, instance, good)

    latest = _ours(monitor, "SELECT status, response_ms, details FROM health_checks x WHERE true ORDER BY x.checked_at DESC")
    status, ms, details = latest[0]
    assert len(latest) == 3 and status == "healthy" and ms > 0
    loaded = scalar(urls["warehouse"], "SELECT sum(rows_loaded) FROM etl_batches WHERE run_id = %s", (good.run_id,))
    assert details["rows_loaded"] == loaded > 0
    assert details["assets_materialized"] == sorted(ASSETS)
    [(state, resolved_at, by)] = rows(monitor, "SELECT incident_status, resolved_at, details->>'resolved_by_run_id' "
                                               "FROM alert_incidents WHERE incident_id = %s", (incident_id,))
    assert state == "resolved" and resolved_at is not None and by == good.run_id


def test_failed_blocking_check_opens_an_incident_that_a_passing_check_resolves(seeded):
    """Facts loaded before their dimensions: keys cannot resolve, a blocking check fails."""
    urls, monitor = seeded, seeded["monitor"]
    request = load_request(DAY, DAY, *ASSETS)
    with dg.DagsterInstance.ephemeral() as instance:
        blocked = execute_request(urls, request, instance, raise_on_error=False, retries=False)
        assert not blocked.success
        react_to_run(monitor_failed_runs, urls, instance, blocked)
        incidents = _ours(monitor, """
            SELECT x.incident_id, x.incident_status, r.rule_code, x.details
            FROM alert_incidents x JOIN alert_rules r USING (alert_rule_id) WHERE true""")
        # One incident per failed blocking check: the keys cannot resolve, so the unknown-member rate is too high.
        blocking = [("fact_application_processing", "keys_resolve"),
                    ("fact_application_processing", "unknown_member_rate")]
        assert sorted((d["asset_key"], d["check_name"]) for *_, d in incidents) == blocking
        for _, state, rule, d in incidents:
            assert (state, rule, d["kind"]) == ("open", RULES[CHECK_FAILURE][0], CHECK_FAILURE)
            assert d["partitions"] == [str(DAY)]
        [(status, details)] = _ours(monitor, "SELECT status, details FROM health_checks x WHERE true")
        assert status == "down"
        # The asset materialized and then its checks stopped the step: a check failure, not a failed load.
        assert details["assets_failed"] == []
        assert details["error"] == ("Execution of run for \"warehouse_load\" failed. "
                                    "Steps failed: ['fact_application_processing'].")
        # Every failed check is named: the blocking ones, and the non-blocking freshness warning, which fails or
        # passes with today's date (it compares the latest loaded day with yesterday).
        failed = set(details["checks_failed"]) - {"fact_application_processing:latest_partition_fresh"}
        assert failed == {f"{asset}:{check}" for asset, check in blocking}

        dims = execute_request(urls, load_request(DAY, DAY, *changes.UNPARTITIONED_ASSETS), instance)
        react_to_run(monitor_successful_runs, urls, instance, dims)
        good = execute_request(urls, request, instance)
        assert good.success
        react_to_run(monitor_successful_runs, urls, instance, good)
    states = _ours(monitor, "SELECT x.incident_status, x.details->>'resolved_by_run_id' FROM alert_incidents x WHERE true")
    assert states == [("resolved", good.run_id)] * len(incidents)


def test_an_incident_resolves_only_when_every_failed_partition_succeeded(seeded):
    monitor = resources(seeded)["monitor_db"]
    with monitor.transaction() as conn:
        reg = register(conn)
        opened = open_incident(conn, reg, kind=CHECK_FAILURE, asset_key="fact_service_applications",
                               check_name="reconciles_with_source", partitions=["2026-09-02", "2026-09-03"],
                               title="Blocking check failed", run_id="r1")
        same = open_incident(conn, reg, kind=CHECK_FAILURE, asset_key="fact_service_applications",
                             check_name="reconciles_with_source", partitions=["2026-09-03", "2026-09-02"],
                             title="Blocking check failed", run_id="r2")
        assert same == opened
        partly = resolve_incidents(conn, reg, kind=CHECK_FAILURE, asset_key="fact_service_applications",
                                   check_name="reconciles_with_source", succeeded={"2026-09-02"})
        other_check = resolve_incidents(conn, reg, kind=CHECK_FAILURE,
                                        asset_key="fact_service_applications", check_name="unique_ids",
                                        succeeded={"2026-09-02", "2026-09-03"})
        assert partly == [] and other_check == []
        done = resolve_incidents(conn, reg, kind=CHECK_FAILURE, asset_key="fact_service_applications",
                                 check_name="reconciles_with_source",
                                 succeeded={"2026-09-01", "2026-09-02", "2026-09-03"}, run_id="r3")
        assert done == [opened]
