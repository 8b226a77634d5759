"""Each check fails exactly when the data breaks the way it guards against."""

from __future__ import annotations

import re
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
    assert set(verdicts) == _all_checks()
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
OUTCOME = ("(SELECT prediction_id FROM fact_prediction_outcome WHERE prediction_date_key = 20260904 "
           "ORDER BY 1 LIMIT 1)")
PAYMENT = ("(SELECT payment_id FROM fact_payments WHERE paid_date_key = 20260911 AND payment_status = 'success' "
           "ORDER BY 1 LIMIT 1)")
AGG_ROW = ("(SELECT ctid FROM agg_daily_applications WHERE date_key = 20260903 "
           "ORDER BY scheme_key, department_key, district LIMIT 1)")
DECISION_ROW = ("(SELECT ctid FROM agg_daily_decisions WHERE date_key = 20260910 "
                "ORDER BY scheme_key, department_key, state, district LIMIT 1)")
MODEL_DAY = ("(SELECT ctid FROM agg_model_performance WHERE date_key = 20260903 "
             "AND use_case_code = 'ELIGIBILITY_SCORING' ORDER BY model_key LIMIT 1)")
NO_BATCH = "-42"  # batch ids are an identity from 1: no batch has this one
FACTS = ("fact_service_applications", "fact_application_processing", "fact_eligibility_scoring",
         "fact_prediction_outcome", "agg_daily_applications", "agg_model_performance", "fact_payments",
         "agg_daily_decisions")

# The SCD2 dimensions: natural key, and the attributes a copied version carries.
SCD2 = {
    "dim_citizen": ("citizen_id", "gender, birth_year, age_band, city, district, state, status"),
    "dim_scheme": ("scheme_id", "scheme_code, scheme_name, category, department_code, benefit_amount, sla_days, status"),
    "dim_department": ("department_id", ("department_code, department_name, parent_department_code, hierarchy_path, "
                                         "level, department_type, district, status")),
    "dim_model": ("model_id", ("model_name, model_version, use_case_code, use_case_name, problem_type, algorithm, "
                               "trained_at, status")),
    "dim_designation": ("designation_id", "designation_code, designation_name, grade_level, can_approve, status"),
}
# The staging tables: source database, source table, primary key, partitioned by day.
STAGED = {
    "citizens": ("smart_citizen", "citizens", "citizen_id", False),
    "schemes": ("smart_citizen", "schemes", "scheme_id", False),
    "departments": ("smart_dept", "departments", "department_id", False),
    "service_applications": ("smart_citizen", "service_applications", "application_id", True),
    "processing_actions": ("smart_dept", "processing_actions", "action_id", True),
    "predictions": ("smart_aiml", "predictions", "prediction_id", True),
    "ml_models": ("smart_aiml", "ml_models", "model_id", False),
    "designations": ("smart_dept", "designations", "designation_id", False),
    "payments": ("smart_citizen", "payments", "payment_id", True),
}
# The day each partitioned source is flooded on: one that has rows of it in the test world.
FLOOD_DAY = {"payments": "2026-09-14"}


def _current_version(table: str) -> str:
    """The current version of the first real member of an SCD2 dimension."""
    nk = SCD2[table][0]
    return (f"is_current AND {nk} = (SELECT {nk} FROM {table} WHERE {nk} IS NOT NULL ORDER BY {nk} LIMIT 1)")


def _overlapping_version(table: str) -> str:
    """An older, closed version of that member that runs into its current one."""
    nk, attributes = SCD2[table]
    return (f"INSERT INTO {table} ({nk}, {attributes}, valid_from, valid_to, is_current, etl_batch_id) "
            f"SELECT {nk}, {attributes}, valid_from - interval '10 days', valid_from + interval '1 day', false, "
            f"etl_batch_id FROM {table} WHERE {_current_version(table)}")


def _flood(staging_table: str) -> str:
    """As many rows in quarantine as staged (for partitioned sources: on 2026-09-06 only)."""
    database, table, pk, partitioned = STAGED[staging_table]
    flood_day = FLOOD_DAY.get(staging_table, "2026-09-06")
    day = f"'{flood_day}'" if partitioned else "NULL"
    where = f"WHERE partition_date = '{flood_day}'" if partitioned else ""
    return ("INSERT INTO staging.rejected_rows (batch_id, source_database, source_table, source_pk, partition_key,"
            f" partition_date, reason, payload) SELECT etl_batch_id, '{database}', '{table}', 'fake-' || {pk},"
            f" {day}, {day}::date, 'negative amount', to_jsonb(s) FROM staging.{staging_table} s {where}")


def _batch(status: str) -> str:
    return f"INSERT INTO etl_batches (run_id, asset_key, status) VALUES ('planted', 'planted', '{status}')"


def _planted(status: str) -> str:
    return f"(SELECT max(batch_id) FROM etl_batches WHERE run_id = 'planted' AND status = '{status}')"


# case -> (statements on the warehouse, checks expected to fail, a word some message must
# hold, or per failing check a word its message must hold). Each case plants rows the schema
# accepts: no statement here alters the schema (test_the_cases_change_rows_not_the_schema).
BREAKS = {
    "keys resolving nowhere": (
        [f"UPDATE fact_service_applications SET citizen_key = 987654321 WHERE application_id = {APP}",
         f"UPDATE fact_application_processing SET acting_department_key = 987654321 WHERE action_id = {ACTION}",
         f"UPDATE fact_eligibility_scoring SET scheme_key = 987654321 WHERE prediction_id = {PREDICTION}",
         f"UPDATE fact_prediction_outcome SET model_key = 987654321 WHERE prediction_id = {OUTCOME}",
         f"UPDATE agg_daily_applications SET department_key = 987654321 WHERE ctid = {AGG_ROW}",
         f"UPDATE agg_model_performance SET model_key = 987654321 WHERE ctid = {MODEL_DAY}",
         f"UPDATE fact_payments SET citizen_key = 987654321 WHERE payment_id = {PAYMENT}",
         f"UPDATE agg_daily_decisions SET scheme_key = 987654321 WHERE ctid = {DECISION_ROW}"],
        {*((fact, "keys_resolve") for fact in FACTS), ("agg_daily_applications", "matches_fact_group_by"),
         ("agg_model_performance", "matches_prediction_facts"), ("agg_daily_decisions", "matches_fact_group_by")},
        {("fact_service_applications", "keys_resolve"): "2026-09-03",
         ("fact_application_processing", "keys_resolve"): "2026-09-04",
         ("fact_eligibility_scoring", "keys_resolve"): "2026-09-04",
         ("fact_prediction_outcome", "keys_resolve"): "2026-09-04",
         ("agg_daily_applications", "keys_resolve"): "987654321",
         ("agg_model_performance", "keys_resolve"): "987654321",
         ("fact_payments", "keys_resolve"): "2026-09-11",
         ("agg_daily_decisions", "keys_resolve"): "987654321"}),
    "unknown members everywhere on a day": (
        ["UPDATE fact_service_applications SET scheme_key = -1 WHERE submitted_date_key = 20260905",
         "UPDATE fact_application_processing SET department_key = -1 WHERE action_date_key = 20260905",
         "UPDATE fact_eligibility_scoring SET citizen_key = -1 WHERE prediction_date_key = 20260905",
         "UPDATE fact_prediction_outcome SET model_key = -1 WHERE prediction_date_key = 20260903"],
        {("fact_service_applications", "unknown_member_rate"), ("fact_application_processing", "unknown_member_rate"),
         ("fact_eligibility_scoring", "unknown_member_rate"), ("fact_prediction_outcome", "unknown_member_rate"),
         ("agg_daily_applications", "matches_fact_group_by"), ("agg_model_performance", "matches_prediction_facts"),
         ("agg_daily_decisions", "matches_fact_group_by")},
        "2026-09-05"),
    "deleted fact row": (
        [f"DELETE FROM fact_service_applications WHERE application_id = {APP}"],
        {("fact_service_applications", "reconciles_with_source"), ("agg_daily_applications", "matches_fact_group_by")},
        "missing"),
    "negative processing days": (
        [f"UPDATE fact_service_applications SET processing_days = -3 WHERE application_id = {DECIDED_MET}"],
        {("fact_service_applications", "processing_days_non_negative"), ("agg_daily_applications", "matches_fact_group_by"),
         ("agg_daily_decisions", "matches_fact_group_by")},
        "2026-09-03"),
    "sla_met flipped": (
        [f"UPDATE fact_service_applications SET sla_met = NOT sla_met WHERE application_id = {DECIDED_MET}"],
        {("fact_service_applications", "sla_met_consistent"), ("agg_daily_applications", "matches_fact_group_by"),
         ("agg_daily_decisions", "matches_fact_group_by")},
        "2026-09-03"),
    "decided without a decision day": (
        [f"UPDATE fact_service_applications SET decided_date_key = -1 WHERE application_id = {DECIDED_MET}"],
        {("fact_service_applications", "sla_met_consistent"), ("agg_daily_decisions", "matches_fact_group_by")},
        "2026-09-03"),
    "status outside the vocabulary": (
        [f"UPDATE fact_service_applications SET status = 'lost' WHERE application_id = {OPEN_APP}"],
        {("fact_service_applications", "status_in_vocabulary"), ("agg_daily_applications", "matches_fact_group_by")},
        "2026-09-03"),
    "rows of no successful batch": (
        [_batch("failed"), _batch("running"),
         f"UPDATE fact_service_applications SET etl_batch_id = {NO_BATCH} WHERE application_id = {APP}",
         f"UPDATE fact_application_processing SET etl_batch_id = {_planted('failed')} WHERE action_id = {ACTION}",
         f"UPDATE fact_eligibility_scoring SET etl_batch_id = {_planted('running')} WHERE prediction_id = {PREDICTION}",
         f"UPDATE fact_prediction_outcome SET etl_batch_id = {NO_BATCH} WHERE prediction_id = {OUTCOME}",
         f"UPDATE agg_daily_applications SET etl_batch_id = {NO_BATCH} WHERE ctid = {AGG_ROW}",
         f"UPDATE agg_model_performance SET etl_batch_id = {NO_BATCH} WHERE ctid = {MODEL_DAY}",
         f"UPDATE fact_payments SET etl_batch_id = {NO_BATCH} WHERE payment_id = {PAYMENT}",
         f"UPDATE agg_daily_decisions SET etl_batch_id = {NO_BATCH} WHERE ctid = {DECISION_ROW}"],
        {(fact, "batch_recorded") for fact in FACTS},
        {("fact_service_applications", "batch_recorded"): "2026-09-03",
         ("fact_application_processing", "batch_recorded"): "2026-09-04",
         ("fact_eligibility_scoring", "batch_recorded"): "2026-09-04",
         ("fact_prediction_outcome", "batch_recorded"): "2026-09-04",
         ("agg_daily_applications", "batch_recorded"): "2026-09-03",
         ("agg_model_performance", "batch_recorded"): "2026-09-03",
         ("fact_payments", "batch_recorded"): "2026-09-11",
         ("agg_daily_decisions", "batch_recorded"): "2026-09-10"}),
    "deleted action": (
        [f"DELETE FROM fact_application_processing WHERE action_id = {ACTION}"],
        {("fact_application_processing", "reconciles_with_source")},
        "2026-09-04"),
    "negative processing minutes": (
        [f"UPDATE fact_application_processing SET processing_minutes = -5 WHERE action_id = {ACTION}"],
        {("fact_application_processing", "processing_minutes_non_negative")},
        "2026-09-04"),
    "actions matching no chain step on a day": (
        ["UPDATE fact_application_processing SET step_action_required = NULL, step_sla_hours = NULL, "
         "step_is_final = NULL, step_sla_met = NULL WHERE action_date_key = 20260905"],
        # the aggregate counts breached steps: their applications' days no longer match it
        {("fact_application_processing", "unmatched_step_rate"), ("agg_daily_applications", "matches_fact_group_by")},
        "2026-09-05"),
    "step_sla_met flipped": (
        ["UPDATE fact_application_processing SET step_sla_met = NOT step_sla_met WHERE action_id = "
         "(SELECT action_id FROM fact_application_processing WHERE action_date_key = 20260904 "
         "AND step_sla_met IS NOT NULL ORDER BY 1 LIMIT 1)",
         "UPDATE fact_application_processing SET step_sla_met = true WHERE action_id = "
         "(SELECT action_id FROM fact_application_processing WHERE action_date_key = 20260904 "
         "AND step_sla_hours IS NULL ORDER BY 1 LIMIT 1)"],
        {("fact_application_processing", "step_sla_met_consistent"), ("agg_daily_applications", "matches_fact_group_by")},
        "2026-09-04"),
    "step number 0": (
        [f"UPDATE fact_application_processing SET step_number = 0 WHERE action_id = {ACTION}"],
        {("fact_application_processing", "step_number_positive")},
        "2026-09-04"),
    "score of 1.2": (
        [f"UPDATE fact_eligibility_scoring SET eligibility_score = 1.2 WHERE prediction_id = {PREDICTION}"],
        {("fact_eligibility_scoring", "scores_in_range"), ("fact_eligibility_scoring", "reconciles_with_source")},
        "2026-09-04"),
    "confidence below 0": (
        [f"UPDATE fact_eligibility_scoring SET confidence_score = -0.1 WHERE prediction_id = {PREDICTION}"],
        {("fact_eligibility_scoring", "scores_in_range")},
        "2026-09-04"),
    "is_correct flipped": (
        [("UPDATE fact_eligibility_scoring SET is_correct = NOT is_correct WHERE prediction_id = "
          "(SELECT prediction_id FROM fact_eligibility_scoring WHERE is_correct IS NOT NULL ORDER BY 1 LIMIT 1)")],
        {("fact_eligibility_scoring", "is_correct_consistent"), ("agg_model_performance", "matches_prediction_facts")},
        "is_correct"),
    "deleted prediction outcome": (
        [f"DELETE FROM fact_prediction_outcome WHERE prediction_id = {OUTCOME}"],
        {("fact_prediction_outcome", "reconciles_with_source"), ("agg_model_performance", "matches_prediction_facts")},
        "missing"),
    "outcome of another use case": (
        [("UPDATE fact_prediction_outcome SET outcome = 'submitted', actual_positive = false, "
          "is_correct = NOT predicted_positive WHERE prediction_id = (SELECT prediction_id FROM fact_prediction_outcome "
          "WHERE use_case_code = 'SLA_BREACH_PREDICTION' AND outcome IS NOT NULL ORDER BY 1 LIMIT 1)")],
        {("fact_prediction_outcome", "outcome_consistent")},
        "outcome_consistent"),
    "model below its threshold": (
        [f"UPDATE agg_model_performance SET predictions_judged = predictions, accuracy = 0.1 WHERE ctid = {MODEL_DAY}"],
        {("agg_model_performance", "models_above_threshold"), ("agg_model_performance", "matches_prediction_facts")},
        {("agg_model_performance", "models_above_threshold"): "accuracy 0.10000",
         ("agg_model_performance", "matches_prediction_facts"): "2026-09-03"}),
    "decision aggregate off by one": (
        [f"UPDATE agg_daily_decisions SET avg_processing_days = avg_processing_days + 1 WHERE ctid = {DECISION_ROW}"],
        {("agg_daily_decisions", "matches_fact_group_by")},
        "2026-09-10"),
    "aggregate off by one": (
        [f"UPDATE agg_daily_applications SET amount_requested = amount_requested + 1 WHERE ctid = {AGG_ROW}"],
        {("agg_daily_applications", "matches_fact_group_by")},
        "2026-09-03"),
    "aggregate step-SLA breaches off by one": (
        [f"UPDATE agg_daily_applications SET step_sla_breaches = step_sla_breaches + 1 WHERE ctid = {AGG_ROW}"],
        {("agg_daily_applications", "matches_fact_group_by")},
        "2026-09-03"),
    "negative average processing days": (
        [f"UPDATE agg_daily_applications SET avg_processing_days = -1 WHERE ctid = {AGG_ROW}"],
        {("agg_daily_applications", "avg_processing_days_non_negative"),
         ("agg_daily_applications", "matches_fact_group_by")},
        "2026-09-03"),
    "no current version": (
        [f"UPDATE {table} SET is_current = false, valid_to = valid_from + interval '1 day' "
         f"WHERE {_current_version(table)}" for table in SCD2],
        {(table, "one_current_row_per_key") for table in SCD2},
        {(table, "one_current_row_per_key"): table for table in SCD2}),
    "overlapping version": (
        [_overlapping_version(table) for table in SCD2],
        {(table, "versions_contiguous") for table in SCD2},
        {(table, "versions_contiguous"): table for table in SCD2}),
    "current flag on a closed interval": (
        [f"UPDATE {table} SET valid_to = '2030-01-01' WHERE {_current_version(table)}" for table in SCD2],
        {(table, "current_flag_matches_open_interval") for table in SCD2},
        {(table, "current_flag_matches_open_interval"): table for table in SCD2}),
    "missing calendar day": (
        ["DELETE FROM dim_date WHERE full_date = '2031-02-03'"],
        {("dim_date", "calendar_complete")},
        "2031-02-03"),
    "working day flag or number off": (
        ["UPDATE dim_date SET is_working_day = NOT is_working_day WHERE full_date = '2031-02-04'",
         "UPDATE dim_date SET working_day_number = working_day_number + 1 WHERE full_date = '2031-03-04'"],
        {("dim_date", "working_days_consistent")},
        "2031-02-04"),
    "national holiday missing from the calendar": (
        [_batch("success"),
         "INSERT INTO dim_holiday (date_key, full_date, state, holiday_name, is_national, etl_batch_id) "
         f"VALUES (20310205, '2031-02-05', NULL, 'Invented Day', true, {_planted('success')})"],
        {("dim_holiday", "holidays_match_calendar")},
        "20310205 national"),
    "working days beyond the calendar days": (
        [f"UPDATE fact_service_applications SET processing_working_days = processing_days + 1 "
         f"WHERE application_id = {DECIDED_MET}"],
        {("fact_service_applications", "processing_working_days_consistent"), ("agg_daily_decisions", "matches_fact_group_by")},
        "2026-09-03"),
    "payments of unknown members on a day": (
        ["INSERT INTO fact_payments (payment_id, application_id, citizen_key, scheme_key, department_key, "
         "paid_date_key, amount, payment_mode, payment_status, paid_at, etl_batch_id) "
         "SELECT md5('planted' || n)::uuid, md5('app' || n)::uuid, -1, -1, -1, 20260912, 100, 'dbt', 'success', "
         "'2026-09-12 10:00+05:30', (SELECT max(etl_batch_id) FROM fact_payments) FROM generate_series(1, 120) n"],
        {("fact_payments", "unknown_member_rate"), ("fact_payments", "reconciles_with_source")},
        "2026-09-12"),
    "deleted payment": (
        [f"DELETE FROM fact_payments WHERE payment_id = {PAYMENT}"],
        {("fact_payments", "reconciles_with_source")},  # amount_disbursed sums the staged payments
        {("fact_payments", "reconciles_with_source"): "missing"}),
    "payment in cash": (
        [f"UPDATE fact_payments SET payment_mode = 'cash' WHERE payment_id = {PAYMENT}"],
        {("fact_payments", "payment_values_valid")},
        "2026-09-11"),
    "disbursed amount off": (
        [f"UPDATE fact_service_applications SET amount_disbursed = amount_disbursed + 1 WHERE application_id = {APP}"],
        {("fact_service_applications", "amount_disbursed_matches_payments"),
         ("agg_daily_applications", "matches_fact_group_by")},
        "2026-09-03"),
    "quarantine flooded": (
        [_flood(table) for table in STAGED],
        {*((f"staging/{table}", "quarantine_rate") for table in STAGED),
         ("fact_service_applications", "reconciles_with_source"),
         ("fact_application_processing", "reconciles_with_source"),
         ("fact_eligibility_scoring", "reconciles_with_source"),
         ("fact_prediction_outcome", "reconciles_with_source"),
         ("fact_payments", "reconciles_with_source")},
        {**{(f"staging/{t}", "quarantine_rate"): FLOOD_DAY.get(t, "2026-09-06") if STAGED[t][3] else "whole table"
            for t in STAGED},
         ("fact_service_applications", "reconciles_with_source"): "2026-09-06"}),
}

# schema_matches_contract judges the schema itself, so the one case that fails it has to
# change the schema: on every table, a contract column or a constraint that stands in for
# a data check (a NOT VALID check, or a unique index turned plain, does not count).
SCHEMA_BREAKS = {
    "schema drifted from the contract": (
        ["ALTER TABLE dim_date DROP COLUMN month_name",
         "DROP INDEX dim_citizen_current_uq",
         "DROP INDEX dim_scheme_version_uq",
         "DROP INDEX dim_department_version_uq",
         "CREATE INDEX dim_department_version_idx ON dim_department (department_id, valid_from)",
         "ALTER TABLE fact_service_applications DROP COLUMN channel",
         "ALTER TABLE fact_service_applications DROP CONSTRAINT fact_service_applications_pkey",
         "ALTER TABLE fact_application_processing ALTER COLUMN step_number DROP NOT NULL",
         ("ALTER TABLE fact_eligibility_scoring DROP CONSTRAINT fact_eligibility_scoring_actual_outcome_check, "
          "ADD CONSTRAINT fact_eligibility_scoring_actual_outcome_check "
          "CHECK (actual_outcome IN ('approved', 'rejected')) NOT VALID"),
         "ALTER TABLE agg_daily_applications DROP CONSTRAINT agg_daily_applications_check",
         "DROP INDEX dim_model_current_uq",
         "DROP INDEX dim_designation_version_uq",
         "ALTER TABLE fact_prediction_outcome DROP CONSTRAINT fact_prediction_outcome_outcome_check",
         "ALTER TABLE agg_model_performance DROP CONSTRAINT agg_model_performance_pkey",
         "DROP INDEX dim_holiday_day_state_uq",
         "CREATE UNIQUE INDEX dim_holiday_day_state_idx ON dim_holiday (date_key, state)",
         "ALTER TABLE fact_payments ALTER COLUMN amount DROP NOT NULL",
         "ALTER TABLE agg_daily_decisions DROP CONSTRAINT agg_daily_decisions_check"],
        {(table, "schema_matches_contract") for table in ("dim_date", "dim_holiday", *SCD2, *FACTS)},
        {("dim_date", "schema_matches_contract"): "missing columns: month_name",
         ("dim_citizen", "schema_matches_contract"): "UNIQUE (citizen_id) WHERE is_current",
         ("dim_scheme", "schema_matches_contract"): "UNIQUE (scheme_id, valid_from)",
         ("dim_department", "schema_matches_contract"): "UNIQUE (department_id, valid_from)",
         ("fact_service_applications", "schema_matches_contract"):
             "missing columns: channel; missing constraints: PRIMARY KEY (application_id)",
         ("fact_application_processing", "schema_matches_contract"): "NOT NULL step_number",
         ("fact_eligibility_scoring", "schema_matches_contract"): "CHECK ((actual_outcome",
         ("agg_daily_applications", "schema_matches_contract"): "CHECK ((applications_submitted",
         ("dim_model", "schema_matches_contract"): "UNIQUE (model_id) WHERE is_current",
         ("dim_designation", "schema_matches_contract"): "UNIQUE (designation_id, valid_from)",
         ("fact_prediction_outcome", "schema_matches_contract"): "CHECK ((outcome",
         ("agg_model_performance", "schema_matches_contract"): "PRIMARY KEY (date_key, model_key, use_case_code)",
         ("dim_holiday", "schema_matches_contract"): "UNIQUE (date_key, state) NULLS NOT DISTINCT",
         ("fact_payments", "schema_matches_contract"): "NOT NULL amount",
         ("agg_daily_decisions", "schema_matches_contract"): "CHECK ((decisions"}),
}
CASES = BREAKS | SCHEMA_BREAKS

# Shown failing by test_freshness_warns_when_the_latest_day_is_old.
FRESHNESS = {(fact, "latest_partition_fresh") for fact in FACTS}


def _all_checks() -> set[tuple[str, str]]:
    """(asset, check) for every asset check of the code location."""
    from smart_warehouse_assets.definitions import build_definitions

    # The live asset's replication-slot checks judge the pipeline, not rows: they are shown
    # failing (WARN, ERROR) on a real slot in tests/cdc/test_capture.py.
    return {(k.asset_key.to_user_string(), k.name) for k in build_definitions().resolve_asset_graph().asset_check_keys
            if k.asset_key.to_user_string() != "agg_live_applications"}


def test_every_check_has_a_case_that_fails_it():
    """A check added to the suite without a case here fails this test."""
    checks = _all_checks()
    assert len(checks) > 40
    shown = FRESHNESS.union(*(expected for _, expected, _ in CASES.values()))
    assert checks - shown == set(), "checks never shown failing"
    assert shown - checks == set(), "cases expect checks that do not exist"


_DDL = re.compile(r"^\s*(ALTER|DROP|CREATE|TRUNCATE|COMMENT|GRANT|REVOKE)\b", re.IGNORECASE)


def test_the_cases_change_rows_not_the_schema():
    """A check is shown failing on rows the schema accepts; only the schema check's case alters it."""
    for case, (statements, _, _) in BREAKS.items():
        assert not [s for s in statements if _DDL.match(s)], case
    for case, (_, expected, _) in SCHEMA_BREAKS.items():
        assert {check for _, check in expected} == {"schema_matches_contract"}, case


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_check_fails_exactly_when_its_rule_is_broken(loaded, case):
    urls, _ = loaded
    statements, expected, word = CASES[case]
    with psycopg.connect(urls["warehouse"]) as conn:
        for statement in statements:
            conn.execute(statement)
    result = check_warehouse(urls, TEST_START, LAST_DAY)
    assert _failed(result) == expected
    messages = rows(urls["warehouse"], "SELECT asset_key, check_name, message FROM etl_data_quality WHERE NOT passed")
    assert {(a, c) for a, c, _ in messages} == expected
    if isinstance(word, str):
        assert any(word in m for *_, m in messages), messages
    else:
        for (asset, check), w in word.items():
            assert any(w in m for a, c, m in messages if (a, c) == (asset, check)), (asset, check, w, messages)
    for (asset, check), ev in _verdicts(result).items():
        if (asset, check) in expected:
            assert "expected" in (ev.description or "")


def test_freshness_warns_when_the_latest_day_is_old(loaded_template):
    urls, _ = loaded_template
    selection = dg.AssetSelection.checks(*(dg.AssetCheckKey(dg.AssetKey(asset), check) for asset, check in FRESHNESS))
    result = check_warehouse(urls, selection=selection, thresholds=quality_thresholds(freshness_max_lag_days=1))
    verdicts = _verdicts(result)
    assert set(verdicts) == FRESHNESS
    for verdict in verdicts.values():
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


def test_a_merge_judges_the_rows_it_wrote_on_the_days_it_touched(loaded):
    """A row-level merge (merge.py) scopes the row checks to its own batch's rows: a broken
    row it wrote fails its day; the same row written by another load is not its to judge,
    and a day it did not touch is not judged at all."""
    from smart_warehouse_assets.definitions import database_resources
    from smart_warehouse_assets.facts import application_processing
    from smart_warehouse_assets.partitions import DayRange
    from smart_warehouse_assets.quality.spec import CheckScope

    urls, _ = loaded
    with psycopg.connect(urls["warehouse"]) as conn:
        batch = conn.execute("INSERT INTO etl_batches (run_id, asset_key, status) "
                             "VALUES ('merge-test', 'fact_application_processing', 'success') "
                             "RETURNING batch_id").fetchone()[0]
        conn.execute(f"UPDATE fact_application_processing SET processing_minutes = -1, etl_batch_id = %s "  # noqa: S608
                     f"WHERE action_id = {ACTION}", (batch,))
    (check,) = [c for c in application_processing.CHECKS if c.name == "processing_minutes_non_negative"]
    touched = DayRange.of({date(2026, 9, 2), date(2026, 9, 4)}, LAST_DAY)

    def judged(batch_id: int) -> dict[date, bool]:
        scope = CheckScope(warehouse=database_resources(urls)["warehouse"], portals={}, days=touched,
                           thresholds=quality_thresholds(), rows_of_batch=batch_id)
        return {o.day: o.passed for o in check.evaluate(scope)}

    assert judged(batch) == {date(2026, 9, 2): True, date(2026, 9, 4): False}
    assert judged(batch + 1) == {date(2026, 9, 2): True, date(2026, 9, 4): True}
