"""Each check fails exactly when the data breaks the way it guards against."""

from __future__ import annotations

from datetime import date

import dagster as dg
import psycopg
import pytest

from tests.conftest import LAST_DAY, TEST_START, check_warehouse, load_warehouse, quality_thresholds
from tests.warehouse.helpers import rows, scalar


def _verdicts(result: dg.ExecuteInProcessResult) -> dict[tuple[str, str], dg.AssetCheckEvaluation]:
    out = {}
    for event in result.all_events:
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            ev = event.event_specific_data
            out[(ev.asset_key.to_user_string(), ev.check_name)] = ev
    return out


def _failed(result) -> set[tuple[str, str]]:
    return {k for k, ev in _verdicts(result).items() if not ev.passed}


def test_every_check_passes_on_the_seeded_world(loaded_template):
    urls, _ = loaded_template
    result = check_warehouse(urls)
    verdicts = _verdicts(result)
    assert result.success
    assert len(verdicts) >= 50
    assert _failed(result) == set()
    # Every evaluation is in etl_data_quality too, and the load recorded its verdicts as well.
    assert scalar(urls["warehouse"], "SELECT count(*) FROM etl_data_quality WHERE NOT passed") == 0
    assert scalar(urls["warehouse"], "SELECT count(DISTINCT (asset_key, check_name)) FROM etl_data_quality") == len(verdicts)


APP = "(SELECT application_id FROM fact_service_applications WHERE submitted_date_key = 20260903 ORDER BY 1 LIMIT 1)"
DECIDED_MET = ("(SELECT application_id FROM fact_service_applications WHERE submitted_date_key = 20260903 "
               "AND sla_met ORDER BY 1 LIMIT 1)")
OPEN_APP = ("(SELECT application_id FROM fact_service_applications WHERE submitted_date_key = 20260903 "
            "AND status IN ('submitted', 'under_review') ORDER BY 1 LIMIT 1)")
ACTION = "(SELECT action_id FROM fact_application_processing WHERE action_date_key = 20260904 ORDER BY 1 LIMIT 1)"
PREDICTION = "(SELECT prediction_id FROM fact_eligibility_scoring WHERE prediction_date_key = 20260904 ORDER BY 1 LIMIT 1)"
AGG_ROW = ("(SELECT ctid FROM agg_daily_applications WHERE date_key = 20260903 "
           "ORDER BY scheme_key, department_key, district LIMIT 1)")
ONE_VERSION_CITIZEN = "(SELECT citizen_id FROM dim_citizen WHERE citizen_key <> -1 ORDER BY citizen_id LIMIT 1)"

BREAKS = {  # case -> (SQL on the warehouse, checks expected to fail, a word the message must hold)
    "duplicate application": (
        ["ALTER TABLE fact_service_applications DROP CONSTRAINT fact_service_applications_pkey",
         f"INSERT INTO fact_service_applications SELECT * FROM fact_service_applications WHERE application_id = {APP}"],
        {("fact_service_applications", "natural_key_unique"), ("fact_service_applications", "reconciles_with_source"),
         ("agg_daily_applications", "matches_fact_group_by")},
        "2026-09-03"),
    "key resolving nowhere": (
        [f"UPDATE fact_service_applications SET citizen_key = 987654321 WHERE application_id = {APP}"],
        {("fact_service_applications", "keys_resolve"), ("agg_daily_applications", "matches_fact_group_by")},
        "2026-09-03"),
    "unknown members everywhere on a day": (
        ["UPDATE fact_service_applications SET scheme_key = -1 WHERE submitted_date_key = 20260905"],
        {("fact_service_applications", "unknown_member_rate"), ("agg_daily_applications", "matches_fact_group_by")},
        "2026-09-05"),
    "deleted fact row": (
        [f"DELETE FROM fact_service_applications WHERE application_id = {APP}"],
        {("fact_service_applications", "reconciles_with_source"), ("agg_daily_applications", "matches_fact_group_by")},
        "missing"),
    "negative processing days": (
        [f"UPDATE fact_service_applications SET processing_days = -3 WHERE application_id = {DECIDED_MET}"],
        {("fact_service_applications", "processing_days_non_negative"), ("agg_daily_applications", "matches_fact_group_by")},
        "2026-09-03"),
    "sla_met flipped": (
        [f"UPDATE fact_service_applications SET sla_met = NOT sla_met WHERE application_id = {DECIDED_MET}"],
        {("fact_service_applications", "sla_met_consistent"), ("agg_daily_applications", "matches_fact_group_by")},
        "2026-09-03"),
    "status outside the vocabulary": (
        [f"UPDATE fact_service_applications SET status = 'lost' WHERE application_id = {OPEN_APP}"],
        {("fact_service_applications", "status_in_vocabulary"), ("agg_daily_applications", "matches_fact_group_by")},
        "lost" if False else "2026-09-03"),
    "dropped contract column": (
        ["ALTER TABLE fact_service_applications DROP COLUMN channel"],
        {("fact_service_applications", "schema_matches_contract")},
        "channel"),
    "deleted action": (
        [f"DELETE FROM fact_application_processing WHERE action_id = {ACTION}"],
        {("fact_application_processing", "reconciles_with_source")},
        "2026-09-04"),
    "negative processing minutes": (
        [f"UPDATE fact_application_processing SET processing_minutes = -5 WHERE action_id = {ACTION}"],
        {("fact_application_processing", "processing_minutes_non_negative")},
        "2026-09-04"),
    "score of 1.2": (
        [f"UPDATE fact_eligibility_scoring SET eligibility_score = 1.2 WHERE prediction_id = {PREDICTION}"],
        {("fact_eligibility_scoring", "scores_in_range"), ("fact_eligibility_scoring", "reconciles_with_source")},
        "2026-09-04"),
    "is_correct flipped": (
        [f"UPDATE fact_eligibility_scoring SET is_correct = NOT is_correct WHERE prediction_id = "
         "(SELECT prediction_id FROM fact_eligibility_scoring WHERE is_correct IS NOT NULL ORDER BY 1 LIMIT 1)"],
        {("fact_eligibility_scoring", "is_correct_consistent")},
        "is_correct"),
    "aggregate off by one": (
        [f"UPDATE agg_daily_applications SET amount_requested = amount_requested + 1 WHERE ctid = {AGG_ROW}"],
        {("agg_daily_applications", "matches_fact_group_by")},
        "2026-09-03"),
    "aggregate outcome counts that do not add up": (
        ["ALTER TABLE agg_daily_applications DROP CONSTRAINT agg_daily_applications_check",
         f"UPDATE agg_daily_applications SET applications_approved = applications_approved + 1 WHERE ctid = {AGG_ROW}"],
        {("agg_daily_applications", "rates_in_range"), ("agg_daily_applications", "matches_fact_group_by")},
        "2026-09-03"),
    "two current versions": (
        ["DROP INDEX dim_citizen_current_uq",
         f"INSERT INTO dim_citizen (citizen_id, gender, birth_year, age_band, city, district, state, status, valid_from,"
         f" etl_batch_id) SELECT citizen_id, gender, birth_year, age_band, city, district, state, status,"
         f" valid_from + interval '1 day', etl_batch_id FROM dim_citizen WHERE citizen_id = {ONE_VERSION_CITIZEN}"],
        {("dim_citizen", "one_current_row_per_key"), ("dim_citizen", "versions_contiguous")},
        "dim_citizen"),
    "overlapping version": (
        [f"INSERT INTO dim_citizen (citizen_id, gender, birth_year, age_band, city, district, state, status, valid_from,"
         f" valid_to, is_current, etl_batch_id) SELECT citizen_id, gender, birth_year, age_band, city, district, state,"
         f" status, valid_from - interval '10 days', valid_from + interval '1 day', false, etl_batch_id"
         f" FROM dim_citizen WHERE citizen_id = {ONE_VERSION_CITIZEN}"],
        {("dim_citizen", "versions_contiguous")},
        "dim_citizen"),
    "current flag on a closed interval": (
        [f"UPDATE dim_scheme SET valid_to = '2030-01-01' WHERE scheme_id = "
         "(SELECT scheme_id FROM dim_scheme WHERE scheme_key <> -1 ORDER BY scheme_id LIMIT 1)"],
        {("dim_scheme", "current_flag_matches_open_interval")},
        "dim_scheme"),
    "missing calendar day": (
        ["DELETE FROM dim_date WHERE full_date = '2031-02-03'"],
        {("dim_date", "calendar_complete")},
        "2031-02-03"),
    "quarantine flooded": (
        ["INSERT INTO staging.rejected_rows (batch_id, source_database, source_table, source_pk, partition_key,"
         " partition_date, reason, payload) SELECT etl_batch_id, 'smart_citizen', 'service_applications',"
         " 'fake-' || application_id, '2026-09-06', '2026-09-06', 'negative amount', '{}'"
         " FROM staging.service_applications WHERE partition_date = '2026-09-06'"],
        {("staging/service_applications", "quarantine_rate"), ("fact_service_applications", "reconciles_with_source")},
        "2026-09-06"),
}


@pytest.mark.parametrize("case", sorted(BREAKS))
def test_a_check_fails_exactly_when_its_rule_is_broken(loaded, case):
    urls, _ = loaded
    statements, expected, word = BREAKS[case]
    with psycopg.connect(urls["warehouse"]) as conn:
        for statement in statements:
            conn.execute(statement)
    result = check_warehouse(urls, TEST_START, LAST_DAY)
    assert _failed(result) == expected
    messages = rows(urls["warehouse"], "SELECT asset_key, check_name, message FROM etl_data_quality WHERE NOT passed")
    assert {(a, c) for a, c, _ in messages} == expected
    assert any(word in m for *_, m in messages), messages
    for (asset, check), ev in _verdicts(result).items():
        if (asset, check) in expected:
            assert "expected" in (ev.description or "")


def test_freshness_warns_when_the_latest_day_is_old(loaded_template):
    urls, _ = loaded_template
    result = check_warehouse(urls, selection=dg.AssetSelection.checks_for_assets(dg.AssetKey("agg_daily_applications")),
                             thresholds=quality_thresholds(freshness_max_lag_days=1))
    verdict = _verdicts(result)[("agg_daily_applications", "latest_partition_fresh")]
    assert not verdict.passed and verdict.severity == dg.AssetCheckSeverity.WARN
    assert str(LAST_DAY) in verdict.description


def test_a_lossy_load_is_blocked_before_the_aggregate(loaded):
    urls, _ = loaded
    wh = urls["warehouse"]
    lost = scalar(wh, f"SELECT application_id FROM fact_service_applications WHERE application_id = {APP}")
    agg_before = scalar(wh, "SELECT max(etl_batch_id) FROM agg_daily_applications")
    # A trigger swallows one row on insert, as a buggy load step would: nothing errors.
    with psycopg.connect(wh) as conn:
        conn.execute("CREATE FUNCTION swallow() RETURNS trigger LANGUAGE plpgsql AS "
                     f"$$ BEGIN IF NEW.application_id = '{lost}' THEN RETURN NULL; END IF; RETURN NEW; END $$")
        conn.execute("CREATE TRIGGER swallow BEFORE INSERT ON fact_service_applications "
                     "FOR EACH ROW EXECUTE FUNCTION swallow()")
    result = load_warehouse(urls, date(2026, 9, 2), date(2026, 9, 4), raise_on_error=False)
    assert not result.success
    verdict = _verdicts(result)[("fact_service_applications", "reconciles_with_source")]
    assert not verdict.passed and verdict.severity == dg.AssetCheckSeverity.ERROR
    assert "2026-09-03" in verdict.description and f"missing {lost}" in verdict.description
    assert "source" in verdict.description and "quarantined" in verdict.description
    # The aggregate did not run for those days, and the failed verdict is on record.
    assert scalar(wh, "SELECT max(etl_batch_id) FROM agg_daily_applications") == agg_before
    assert not any(e.event_type_value == "ASSET_MATERIALIZATION" and e.asset_key == dg.AssetKey("agg_daily_applications")
                   for e in result.all_events)
    assert scalar(wh, "SELECT count(*) FROM etl_data_quality WHERE check_name = 'reconciles_with_source' "
                      "AND NOT passed AND partition_key = '2026-09-03'") == 1
