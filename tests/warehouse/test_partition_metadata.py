"""Each day's materialization tells that day's own truth, whatever range the run covered.

A range run yields one materialization per asset and Dagster records it per day; the
figures on each day's event must be that day's (count it with SQL), the range's own
figures are named run_*, a day a change-driven run did not reload says so, and a day
whose check failed names the check on its own event.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import dagster as dg
import psycopg
import pytest

from smart_warehouse_assets.jobs import range_tags
from smart_warehouse_assets.partitions import CHANGED_DAYS_TAG
from tests.conftest import LAST_DAY, TEST_START, quality_thresholds
from tests.warehouse.helpers import rows

DAY_COLUMNS = {  # asset -> (table, column holding the day, a YYYYMMDD key?)
    "staging/service_applications": ("staging.service_applications", "partition_date", False),
    "staging/processing_actions": ("staging.processing_actions", "partition_date", False),
    "staging/predictions": ("staging.predictions", "partition_date", False),
    "fact_service_applications": ("public.fact_service_applications", "submitted_date_key", True),
    "fact_application_processing": ("public.fact_application_processing", "action_date_key", True),
    "fact_eligibility_scoring": ("public.fact_eligibility_scoring", "prediction_date_key", True),
    "agg_daily_applications": ("public.agg_daily_applications", "date_key", True),
}
QUARANTINE_OF = {"staging/service_applications": "service_applications",
                 "staging/processing_actions": "processing_actions", "staging/predictions": "predictions"}


def _per_day(url: str, asset: str) -> dict[date, int]:
    table, column, is_key = DAY_COLUMNS[asset]
    day = f"to_date({column}::text, 'YYYYMMDD')" if is_key else column
    return dict(rows(url, f"SELECT {day}, count(*) FROM {table} GROUP BY 1"))  # noqa: S608 (names above)


def _run(urls, first: date, last: date, selection=None, tags=None):
    from smart_warehouse_assets.definitions import build_definitions
    from smart_warehouse_assets.jobs import run_request

    defs = build_definitions(urls, quality_thresholds())
    request = dg.RunRequest(asset_selection=selection or [dg.AssetKey.from_user_string(a) for a in DAY_COLUMNS],
                            tags=range_tags(first, last) | (tags or {}))
    instance = dg.DagsterInstance.ephemeral()
    result = run_request(defs, request, instance=instance, raise_on_error=False, retries=False)
    events = {}
    for event in result.get_asset_materialization_events():
        m = event.materialization
        events[(m.asset_key.to_user_string(), m.partition)] = {k: v.value for k, v in m.metadata.items()}
    checks = [e.event_specific_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    return result, events, checks


@pytest.fixture(scope="module")
def range_run(make_database_set, loaded_template):
    """The loaded world reloaded as one 14-day range run; the events it recorded."""
    template, _ = loaded_template
    urls = make_database_set(template=template)
    result, events, _ = _run(urls, TEST_START, LAST_DAY)
    assert result.success
    return urls, events


def test_every_day_shows_its_own_row_count(range_run):
    urls, events = range_run
    for asset in DAY_COLUMNS:
        counted = _per_day(urls["warehouse"], asset)
        shown = {}
        for i in range((LAST_DAY - TEST_START).days + 1):
            day = TEST_START + timedelta(days=i)
            meta = events[(asset, day.isoformat())]
            shown[day] = meta["dagster/partition_row_count"]
            assert meta["dagster/partition_row_count"] == counted.get(day, 0), (asset, day)
            assert meta["rows_loaded"] == counted.get(day, 0), (asset, day)
            assert meta["reloaded"] is True
            assert meta["run_partition_range"] == f"{TEST_START}...{LAST_DAY}"
            assert list(meta).index("rows_loaded") < list(meta).index("run_rows_loaded")
        assert len(set(shown.values())) > 1, f"{asset}: every day shows the same count {shown}"
        assert sum(shown.values()) == events[(asset, TEST_START.isoformat())]["run_rows_loaded"], asset
        # The whole table's rows, inside the range and out of it, beside each day's own.
        assert meta["dagster/row_count"] == _total(urls["warehouse"], asset), asset


def test_the_runs_last_day_carries_the_column_lineage_once(range_run):
    """The asset's latest materialization (the range's last day) carries its column lineage;
    the other days' events do not repeat it."""
    from smart_warehouse_assets.docs import column_lineage

    _, events = range_run
    declared = column_lineage()
    for asset in ("fact_service_applications", "fact_application_processing", "agg_daily_applications"):
        lineage = events[(asset, LAST_DAY.isoformat())]["dagster/column_lineage"]
        assert set(lineage.deps_by_column) == set(declared[f"public.{asset}"]), asset
        carried = [day for (a, day), meta in events.items() if a == asset and "dagster/column_lineage" in meta]
        assert carried == [LAST_DAY.isoformat()], asset


def _total(url: str, asset: str) -> int:
    return rows(url, f"SELECT count(*) FROM {DAY_COLUMNS[asset][0]}")[0][0]  # noqa: S608 (names above)


def test_a_one_day_run_counts_the_whole_table_beside_its_day(make_database_set, loaded_template):
    template, _ = loaded_template
    urls = make_database_set(template=template)
    assets = ["staging/service_applications", "fact_service_applications", "agg_daily_applications"]
    result, events, _ = _run(urls, LAST_DAY, LAST_DAY, [dg.AssetKey.from_user_string(a) for a in assets])
    assert result.success
    for asset in assets:
        meta = events[(asset, LAST_DAY.isoformat())]
        assert meta["dagster/partition_row_count"] == _per_day(urls["warehouse"], asset)[LAST_DAY], asset
        assert meta["dagster/row_count"] == _total(urls["warehouse"], asset) > meta["dagster/partition_row_count"]


def test_every_day_shows_its_own_extracted_and_quarantined_rows(range_run):
    urls, events = range_run
    for asset, table in QUARANTINE_OF.items():
        rejected = dict(rows(urls["warehouse"], "SELECT partition_date, count(*) FROM staging.rejected_rows "
                                                "WHERE source_table = %s GROUP BY 1", (table,)))
        staged = _per_day(urls["warehouse"], asset)
        for (name, key), meta in events.items():
            if name != asset:
                continue
            day = date.fromisoformat(key)
            assert meta["rows_rejected"] == rejected.get(day, 0), (asset, day)
            assert meta["rows_extracted"] == staged.get(day, 0) + rejected.get(day, 0), (asset, day)
    quarantined_days = [k for (a, k), m in events.items() if a == "staging/service_applications" and m["rows_rejected"]]
    assert 0 < len(quarantined_days) < (LAST_DAY - TEST_START).days + 1, "the seeded world quarantines some days"


def test_a_change_driven_run_says_which_days_it_did_not_reload(range_run, make_database_set, loaded_template):
    template, _ = loaded_template
    urls = make_database_set(template=template)
    changed = TEST_START + timedelta(days=5)
    tags = {CHANGED_DAYS_TAG: json.dumps({"fact_application_processing": changed.isoformat()})}
    result, events, _ = _run(urls, TEST_START, LAST_DAY, [dg.AssetKey("fact_application_processing")], tags)
    assert result.success
    counted = _per_day(urls["warehouse"], "fact_application_processing")
    for (asset, key), meta in events.items():
        day = date.fromisoformat(key)
        assert meta["dagster/partition_row_count"] == counted.get(day, 0)
        assert meta["reloaded"] is (day == changed), day
        assert meta["rows_loaded"] == (counted.get(day, 0) if day == changed else 0), day
        assert ("etl_batch_id" in meta) is (day == changed)
        assert meta["run_reloaded_days"] == changed.isoformat()
        assert meta["dagster/row_count"] == _total(urls["warehouse"], "fact_application_processing")


def test_a_failed_check_is_named_on_its_own_day(make_database_set, loaded_template):
    """An action stamped before its application's submission: negative minutes on one day."""
    template, _ = loaded_template
    urls = make_database_set(template=template)
    bad_day = TEST_START + timedelta(days=3)
    with psycopg.connect(urls["dept"]) as conn:
        action_id, application_id = conn.execute(
            "SELECT action_id, application_id FROM processing_actions "
            "WHERE (action_at AT TIME ZONE 'Asia/Kolkata')::date = %s AND status <> 'deleted' "
            "ORDER BY action_id LIMIT 1", (bad_day,)).fetchone()
    with psycopg.connect(urls["citizen"]) as conn:
        submitted = conn.execute("SELECT submitted_at FROM service_applications WHERE application_id = %s",
                                 (application_id,)).fetchone()[0]
    with psycopg.connect(urls["dept"]) as conn:  # still on bad_day, but before the submission
        conn.execute("UPDATE processing_actions SET action_at = %s WHERE action_id = %s",
                     (submitted - timedelta(minutes=1), action_id))
        moved = conn.execute("SELECT (action_at AT TIME ZONE 'Asia/Kolkata')::date FROM processing_actions "
                             "WHERE action_id = %s", (action_id,)).fetchone()[0]
    selection = [dg.AssetKey(["staging", "processing_actions"]), dg.AssetKey("fact_application_processing")]
    _, events, checks = _run(urls, TEST_START, LAST_DAY, selection)
    for (asset, key), meta in events.items():
        if asset != "fact_application_processing":
            continue
        if key == moved.isoformat():
            assert meta["checks"].startswith("FAILED: ") and "processing_minutes_non_negative" in meta["checks"]
        else:
            assert meta["checks"].startswith("all "), (key, meta["checks"])
    (verdict,) = [c for c in checks if c.check_name == "processing_minutes_non_negative"]
    assert not verdict.passed
    assert verdict.description.startswith(f"Failed on {moved.isoformat()} (1 of ")
