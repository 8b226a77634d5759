"""Change-driven refresh, the nightly and the weekly load, evaluated on a real simulated day.

The loaded world covers 1-14 September; ``simulate`` adds the 15th and decides or moves
applications submitted on earlier days. The sensor must ask for exactly the days that
changed, and loading them must give what a rebuild from scratch gives.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import dagster as dg
import psycopg
import pytest

from smart_warehouse_assets import partitions
from smart_warehouse_assets.jobs import WAREHOUSE_SELECTION
from smart_warehouse_assets.operations import changes
from smart_warehouse_assets.operations.refresh import advance_watermarks, refresh_changed_partitions
from smart_warehouse_assets.operations.schedules import nightly_incremental, weekly_full_reload
from smart_warehouse_assets.partitions import IST
from smart_warehouse_assets.synthetic import simulate
from tests.conftest import LAST_DAY, TEST_START, load_warehouse
from tests.operations.helpers import (
    QUIET, evaluate_sensor, execute_request, land_a_late_step, partitions_of, portal_urls, portals, react_to_run,
    record_full_load, resources, submission_days_changed_after,
)
from tests.warehouse.helpers import FACTS, contents, rows

SIMULATED_DAY = LAST_DAY + timedelta(days=1)


def _simulate(urls: dict[str, str]) -> tuple[dict[str, str], dict]:
    record_full_load(urls)
    summary = simulate(portal_urls(urls), days=1, **QUIET)
    assert summary["days"] == [SIMULATED_DAY.isoformat()]
    return urls, summary


@pytest.fixture
def simulated(loaded):
    """The loaded world, its watermarks recorded, one more day simulated in the portals."""
    return _simulate(loaded[0])


@pytest.fixture(scope="module")
def simulated_to_read(make_database_set, loaded_template):
    """The same, shared by the tests that only evaluate a schedule (they write nothing)."""
    return _simulate(make_database_set(template=loaded_template[0]))


def _dates(values) -> set[date]:
    return {date.fromisoformat(v) for v in values}


def _expected_prediction_days(urls: dict[str, str], changed_apps: set[str], new_since: datetime,
                              window: changes.Window) -> set[date]:
    """Prediction days whose fact rows change: new predictions, predictions of applications whose
    outcome moved (found by comparing the portal with the warehouse, not by watermark), and
    dropout predictions whose 7-day horizon passed inside the applications' window."""
    clock = "smart_citizen.service_applications"
    with psycopg.connect(urls["aiml"]) as conn:
        return {d for (d,) in conn.execute(
            "SELECT DISTINCT (predicted_at AT TIME ZONE 'Asia/Kolkata')::date FROM predictions "
            "WHERE use_case_code IN ('ELIGIBILITY_SCORING', 'SLA_BREACH_PREDICTION', 'DROPOUT_PREDICTION') "
            "AND (application_id = ANY(%s::uuid[]) OR created_at > %s OR use_case_code = 'DROPOUT_PREDICTION' "
            "     AND predicted_at + interval '7 days' > %s AND predicted_at + interval '7 days' <= %s)",
            (sorted(changed_apps), new_since, window.since[clock], window.until[clock]))}


def _expected_action_days(urls: dict[str, str], changed_apps: set[str]) -> set[date]:
    with psycopg.connect(urls["dept"]) as conn:
        return {d for (d,) in conn.execute(
            "SELECT DISTINCT (action_at AT TIME ZONE 'Asia/Kolkata')::date FROM processing_actions "
            "WHERE application_id = ANY(%s::uuid[])", (sorted(changed_apps),))}


def _applications_that_moved(urls: dict[str, str]) -> set[str]:
    """Applications whose status in the portal differs from the warehouse's (drafts: from a draft)."""
    portal = dict(rows(urls["citizen"], "SELECT application_id::text, status FROM service_applications"))
    loaded = dict(rows(urls["warehouse"], "SELECT application_id::text, status FROM fact_service_applications"))
    # Not in the fact: a draft when it was loaded, or quarantined (then it moved nowhere).
    quarantined = {a for (a,) in rows(urls["warehouse"], "SELECT source_pk FROM staging.rejected_rows "
                                                         "WHERE source_table = 'service_applications'")}
    drafts = {a for (a,) in rows(urls["aiml"], "SELECT application_id::text FROM predictions "
                                               "WHERE use_case_code = 'DROPOUT_PREDICTION'")} - quarantined
    return {a for a, s in portal.items() if loaded.get(a, "draft" if a in drafts else s) != s}


def test_sensor_requests_exactly_the_partitions_simulate_changed(simulated):
    urls, summary = simulated
    with dg.DagsterInstance.ephemeral() as instance:
        request = evaluate_sensor(refresh_changed_partitions, urls, instance)
        assert isinstance(request, dg.RunRequest), request
        days = partitions_of(request)

        changed = _dates(summary["changed_days"])
        for asset in ("staging/service_applications", "fact_service_applications", "agg_daily_applications"):
            assert days[asset] == changed, asset
        new_day = _dates(summary["days"])
        moved = _applications_that_moved(urls)
        # simulate adds actions on the new day only; the applications it moves keep their
        # submission time and scheme, the only values their actions show of them (Lookup.staged_as):
        # their actions' days are not planned (a merge re-stages an action whose values differ,
        # and judges the day it touched).
        assert _expected_action_days(urls, moved) - new_day
        for asset in ("staging/processing_actions", "fact_application_processing"):
            assert days[asset] == new_day, asset
        predictions = _expected_prediction_days(urls, moved, datetime.combine(LAST_DAY, datetime.max.time(), IST),
                                                changes.window_of(request.tags))
        for asset in ("staging/predictions", "fact_eligibility_scoring", "fact_prediction_outcome",
                      "agg_model_performance"):
            assert days[asset] == predictions, asset

        # One run over the smallest range holding every changed day.
        every = set().union(*days.values())
        assert request.tags[changes.RANGE_START_TAG] == min(every).isoformat()
        assert request.tags[changes.RANGE_END_TAG] == max(every).isoformat()
        # The dimensions whose members changed (simulate touches citizens and a scheme), no others.
        selected = {k.to_user_string() for k in request.asset_selection}
        assert selected == {*days, "staging/citizens", "dim_citizen", "staging/schemes", "dim_scheme"}

        # The run succeeds; only then do the watermarks move, and the next look finds nothing.
        before = changes.stored_watermarks(resources(urls)["warehouse"])
        result = execute_request(urls, request, instance)
        assert result.success
        assert changes.stored_watermarks(resources(urls)["warehouse"]) == before
        react_to_run(advance_watermarks, urls, instance, result)
        after = changes.stored_watermarks(resources(urls)["warehouse"])
        assert after == changes.window_of(request.tags).until
        assert all(after[s] > before[s] for s in ("smart_citizen.service_applications",
                                                  "smart_dept.processing_actions", "smart_aiml.predictions"))
        again = evaluate_sensor(refresh_changed_partitions, urls, instance)
        assert isinstance(again, dg.SkipReason), again


def test_a_payment_on_an_old_application_reloads_its_submission_day(loaded):
    """The applications fact carries what was paid out: a payment (here a second instalment) for
    an application decided long ago re-plans that application's submission day (and its aggregate), not only the
    payment's own day, and the refreshed row shows the money."""
    urls = loaded[0]
    record_full_load(urls)
    (app, citizen, submitted, amount), = rows(urls["citizen"], """
        SELECT application_id, citizen_id, (submitted_at AT TIME ZONE 'Asia/Kolkata')::date, amount_approved
        FROM service_applications a WHERE status = 'approved' AND amount_approved > 0
        ORDER BY submitted_at LIMIT 1""")
    (before,), = rows(urls["warehouse"], "SELECT amount_disbursed FROM fact_service_applications "
                                         "WHERE application_id = %s", (app,))
    assert submitted < LAST_DAY - timedelta(days=3)
    with psycopg.connect(urls["citizen"]) as conn:
        conn.execute("""INSERT INTO payments (application_id, citizen_id, amount, payment_mode, transaction_ref, paid_at,
                                              payment_status, created_at, updated_at)
                        VALUES (%s, %s, %s, 'upi', 'TXNLATEPAYMENT01', %s, 'success', now() - interval '2 minutes',
                                now() - interval '2 minutes')""",
                     (app, citizen, amount, datetime.combine(LAST_DAY, datetime.min.time(), IST) + timedelta(hours=12)))
    with dg.DagsterInstance.ephemeral() as instance:
        request = evaluate_sensor(refresh_changed_partitions, urls, instance)
        days = partitions_of(request)
        assert days["fact_payments"] == {LAST_DAY}
        for asset in ("fact_service_applications", "agg_daily_applications"):
            assert days[asset] == {submitted}, asset
        assert execute_request(urls, request, instance).success
    assert rows(urls["warehouse"], "SELECT amount_disbursed FROM fact_service_applications WHERE application_id = %s",
                (app,)) == [(before + amount,)]


def test_each_asset_of_a_change_driven_run_reloads_only_its_own_days(simulated):
    """One run spans every changed day, and each asset loads the span of its own (the
    facts fed by a change-driven run merge their changed rows within it: test_merge.py).
    The warehouse comes out as a rebuild from scratch would make it."""
    urls, summary = simulated
    with dg.DagsterInstance.ephemeral() as instance:
        request = evaluate_sensor(refresh_changed_partitions, urls, instance)
        result = execute_request(urls, request, instance)
    assert result.success
    days = partitions_of(request)
    assert min(days["fact_service_applications"]) < SIMULATED_DAY  # the run's range is wide ...
    loaded = dict(rows(urls["warehouse"], "SELECT asset_key, partition_key FROM etl_batches WHERE run_id = %s",
                       (result.run_id,)))
    for asset, own in days.items():  # ... each asset loaded the span of its own days
        assert loaded[asset] == partitions.DayRange(min(own), max(own)).label, asset
    # Dagster records the whole range as materialized by the run, for every asset in it.
    span = partitions.DayRange(date.fromisoformat(request.tags[changes.RANGE_START_TAG]), SIMULATED_DAY)
    materialized = result.asset_materializations_for_node("fact_application_processing")
    assert {m.partition for m in materialized} == {d.isoformat() for d in span.days()}

    incremental = {t: contents(urls["warehouse"], t) for t in REBUILT}
    assert incremental == _rebuilt_from_scratch(urls)


def test_failed_run_leaves_the_watermarks_and_the_next_look_asks_again(simulated):
    urls, _ = simulated
    wh = resources(urls)["warehouse"]
    with dg.DagsterInstance.ephemeral() as instance:
        first = evaluate_sensor(refresh_changed_partitions, urls, instance)
        broken = dict(urls, dept=urls["dept"].rsplit("/", 1)[0] + "/no_such_database")
        result = execute_request(broken, first, instance, raise_on_error=False, retries=False)
        assert not result.success
        before = changes.stored_watermarks(wh)
        second = evaluate_sensor(refresh_changed_partitions, urls, instance)
        assert changes.stored_watermarks(wh) == before  # the failed run's window was not applied
        assert partitions_of(second) == partitions_of(first)


def test_nightly_takes_dimensions_yesterday_and_the_changed_days(simulated_to_read):
    urls, summary = simulated_to_read
    at = datetime.combine(SIMULATED_DAY + timedelta(days=1), datetime.min.time(), IST).replace(hour=1, minute=30)
    all_assets = WAREHOUSE_SELECTION.resolve(_asset_graph(urls))
    with dg.instance_for_test() as instance, dg.build_schedule_context(
        instance=instance, scheduled_execution_time=at, resources=resources(urls)
    ) as context:
        request = nightly_incremental(context)
    assert request.run_key == f"nightly-{SIMULATED_DAY}"
    assert set(request.asset_selection) == all_assets
    days = partitions_of(request)
    assert set(days) == {a for a in changes.PARTITIONED_ASSETS}
    assert all(SIMULATED_DAY in d for d in days.values())  # yesterday, for every fact and the aggregate
    assert days["fact_service_applications"] == _dates(summary["changed_days"]) | {SIMULATED_DAY}
    assert request.tags[changes.RANGE_START_TAG] == min(_dates(summary["changed_days"])).isoformat()
    assert request.tags[changes.RANGE_END_TAG] == SIMULATED_DAY.isoformat()
    assert request.tags[changes.TRIGGER_TAG] == "nightly"


def test_weekly_reloads_every_partition_in_one_run(simulated_to_read):
    urls, _ = simulated_to_read
    sunday = date(2026, 9, 20)
    assert sunday.isoweekday() == 7
    at = datetime.combine(sunday, datetime.min.time(), IST).replace(hour=3)
    all_assets = WAREHOUSE_SELECTION.resolve(_asset_graph(urls))
    with dg.instance_for_test() as instance, dg.build_schedule_context(
        instance=instance, scheduled_execution_time=at, resources=resources(urls)
    ) as context:
        request = weekly_full_reload(context)
    assert set(request.asset_selection) == all_assets
    assert request.tags[changes.RANGE_START_TAG] == TEST_START.isoformat()
    assert request.tags[changes.RANGE_END_TAG] == (sunday - timedelta(days=1)).isoformat()
    window = changes.window_of(request.tags)
    assert all(v is None for v in window.since.values()) and all(window.until.values())


# What a change-driven run must leave as a rebuild would: the facts, and the model
# performance aggregate (polars, built from the prediction facts).
REBUILT = (*FACTS, "agg_model_performance")


def _rebuilt_from_scratch(urls: dict[str, str]) -> dict[str, list[tuple]]:
    """The tables of REBUILT after emptying them and the staged events and loading every day,
    on the same dimensions."""
    with psycopg.connect(urls["warehouse"]) as conn:
        conn.execute("TRUNCATE agg_daily_applications, fact_service_applications, fact_application_processing, "
                     "fact_eligibility_scoring, fact_prediction_outcome, agg_model_performance, "
                     "staging.service_applications, staging.processing_actions, staging.predictions")
        conn.execute("DELETE FROM staging.rejected_rows WHERE partition_date IS NOT NULL")
    load_warehouse(urls, TEST_START, SIMULATED_DAY, selection=dg.AssetSelection.assets(
        *[dg.AssetKey.from_user_string(a) for a in changes.PARTITIONED_ASSETS]))
    return {t: contents(urls["warehouse"], t) for t in REBUILT}


def _asset_graph(urls):
    from smart_warehouse_assets.definitions import build_definitions

    return build_definitions(urls).resolve_asset_graph()


def _blocks(days: set[date]) -> list[tuple[date, date]]:
    """Contiguous runs of days, as (first, last)."""
    out = []
    for part in partitions.compress(days).split(","):
        first, _, last = part.partition("...")
        out.append((date.fromisoformat(first), date.fromisoformat(last or first)))
    return out


def test_yesterday_plus_changed_partitions_equals_a_rebuild_from_scratch(simulated):
    urls, _ = simulated
    # A step lands late on an old application of a day nothing else changes: the plan must name
    # that submission day for the aggregate, which counts the step among its SLA breaches.
    _, late_day, _ = land_a_late_step(urls, datetime.combine(LAST_DAY, time(12), IST),
                                      submission_days_changed_after(urls, LAST_DAY), "now() - interval '90 seconds'")
    found = changes.plan(portals(urls), resources(urls)["warehouse"])
    assert late_day in found.days["agg_daily_applications"]
    assert late_day not in found.days["fact_service_applications"]
    # The nightly order: dimensions first ...
    load_warehouse(urls, SIMULATED_DAY, SIMULATED_DAY,
                   selection=dg.AssetSelection.assets(*[dg.AssetKey.from_user_string(a)
                                                        for a in changes.UNPARTITIONED_ASSETS]))
    # ... then exactly yesterday and the changed days of each source's facts, block by block
    # (no re-materialized gap can hide a missed day), and last the aggregates, which read the
    # facts, each on its own planned days.
    aggregates = [a for a in changes.PARTITIONED_ASSETS if a.startswith("agg_")]
    for source in (s for s in changes.SOURCES if s.partitioned):
        days = found.days[source.assets[0]] | {SIMULATED_DAY}
        for first, last in _blocks(days):
            load_warehouse(urls, first, last, selection=dg.AssetSelection.assets(
                *[dg.AssetKey.from_user_string(a) for a in source.assets if a not in aggregates]))
    for aggregate in aggregates:
        for first, last in _blocks(found.days[aggregate] | {SIMULATED_DAY}):
            load_warehouse(urls, first, last, selection=dg.AssetSelection.assets(aggregate))
    incremental = {t: contents(urls["warehouse"], t) for t in REBUILT}
    assert all(incremental.values())
    rebuilt = _rebuilt_from_scratch(urls)
    for table in REBUILT:  # table by table, so a difference names its table
        assert incremental[table] == rebuilt[table], table
