"""The columns the data contract (docs/contract.md) promises, per warehouse table.

Kept in code so that the ``schema_matches_contract`` check needs no Markdown at run time;
tests/foundation/test_schema_rules.py compares this list with the contract's table of
warehouse tables, so the two cannot drift.
"""

SCD2 = ("valid_from", "valid_to", "is_current")

CONTRACT_COLUMNS: dict[str, tuple[str, ...]] = {
    "dim_date": ("date_key", "full_date", "day_of_week", "day_name", "month", "month_name", "quarter",
                 "year", "fiscal_year", "fiscal_quarter", "is_weekend", "is_holiday", "holiday_name"),
    "dim_citizen": ("citizen_key", "citizen_id", "gender", "birth_year", "age_band", "city", "district",
                    "state", "status", *SCD2),
    "dim_scheme": ("scheme_key", "scheme_id", "scheme_code", "scheme_name", "category", "department_code",
                   "benefit_amount", "sla_days", "status", *SCD2),
    "dim_department": ("department_key", "department_id", "department_code", "department_name",
                       "parent_department_code", "hierarchy_path", "level", *SCD2),
    "fact_service_applications": ("application_id", "application_number", "citizen_key", "scheme_key",
                                  "department_key", "submitted_date_key", "decided_date_key", "status",
                                  "channel", "amount_requested", "amount_approved", "processing_days",
                                  "sla_days", "sla_met", "etl_batch_id"),
    "fact_application_processing": ("action_id", "application_id", "department_key", "scheme_key",
                                    "action_date_key", "action_type", "step_number", "processing_minutes",
                                    "etl_batch_id"),
    "fact_eligibility_scoring": ("prediction_id", "application_id", "citizen_key", "scheme_key",
                                 "prediction_date_key", "model_version", "eligibility_score",
                                 "confidence_score", "predicted_eligible", "actual_outcome", "is_correct",
                                 "etl_batch_id"),
    "agg_daily_applications": ("date_key", "scheme_key", "department_key", "district",
                               "applications_submitted", "applications_approved", "applications_rejected",
                               "applications_pending", "amount_requested", "amount_approved",
                               "avg_processing_days", "sla_compliance_rate"),
    "etl_batches": ("batch_id", "run_id", "asset_key", "partition_key", "status", "started_at",
                    "finished_at", "rows_extracted", "rows_loaded", "rows_rejected"),
    "etl_data_quality": ("check_id", "batch_id", "run_id", "asset_key", "partition_key", "check_name",
                         "passed", "severity", "observed_value", "expected", "checked_at"),
}
APPLICATION_STATUSES = ("submitted", "under_review", "approved", "rejected", "withdrawn")
