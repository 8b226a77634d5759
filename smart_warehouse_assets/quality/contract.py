"""What ``schema_matches_contract`` asserts, per warehouse table: columns and constraints.

The columns are those the data contract (docs/contract.md) promises. They are kept in code
so that the check needs no Markdown at run time; tests/foundation/test_schema_rules.py
compares this list with the contract's table of warehouse tables, so the two cannot drift.

The constraints are those that make a data check pointless: what the schema enforces, no
check tests on the rows (a primary key instead of a uniqueness check, NOT NULL instead of
an ``IS NULL`` arm, a CHECK instead of a range check). The schema check asserts instead that
each is still there and valid, so a migration dropping one fails a check rather than
silently leaving the rule unguarded.
"""

SCD2 = ("valid_from", "valid_to", "is_current")

CONTRACT_COLUMNS: dict[str, tuple[str, ...]] = {
    "dim_date": ("date_key", "full_date", "day_of_week", "day_name", "month", "month_name", "quarter",
                 "year", "fiscal_year", "fiscal_quarter", "is_weekend", "is_holiday", "holiday_name",
                 "is_working_day", "working_day_number"),
    "dim_holiday": ("date_key", "full_date", "state", "holiday_name", "is_national"),
    "dim_citizen": ("citizen_key", "citizen_id", "gender", "birth_year", "age_band", "city", "district",
                    "state", "status", *SCD2),
    "dim_scheme": ("scheme_key", "scheme_id", "scheme_code", "scheme_name", "category", "department_code",
                   "benefit_amount", "sla_days", "status", *SCD2),
    "dim_department": ("department_key", "department_id", "department_code", "department_name",
                       "parent_department_code", "hierarchy_path", "level", *SCD2),
    "dim_model": ("model_key", "model_id", "model_name", "model_version", "use_case_code", "algorithm",
                  "trained_at", "status", *SCD2),
    "dim_designation": ("designation_key", "designation_id", "designation_code", "designation_name",
                        "grade_level", "can_approve", "status", *SCD2),
    "fact_service_applications": ("application_id", "application_number", "citizen_key", "scheme_key",
                                  "department_key", "submitted_date_key", "decided_date_key", "status",
                                  "channel", "amount_requested", "amount_approved", "processing_days",
                                  "sla_days", "sla_met", "processing_working_days", "amount_disbursed",
                                  "etl_batch_id"),
    "fact_payments": ("payment_id", "application_id", "citizen_key", "scheme_key", "department_key",
                      "paid_date_key", "amount", "payment_mode", "payment_status", "etl_batch_id"),
    "fact_application_processing": ("action_id", "application_id", "department_key", "scheme_key",
                                    "action_date_key", "action_type", "step_number", "processing_minutes",
                                    "designation_key", "assignment_id", "assignment_priority",
                                    "step_action_required", "step_sla_hours", "step_is_final", "step_sla_met",
                                    "etl_batch_id"),
    "fact_eligibility_scoring": ("prediction_id", "application_id", "citizen_key", "scheme_key",
                                 "prediction_date_key", "model_version", "eligibility_score",
                                 "confidence_score", "predicted_eligible", "actual_outcome", "is_correct",
                                 "model_key", "etl_batch_id"),
    "fact_prediction_outcome": ("prediction_id", "application_id", "use_case_code", "citizen_key", "scheme_key",
                                "model_key", "prediction_date_key", "predicted_label", "predicted_positive",
                                "positive_score", "outcome", "actual_positive", "outcome_known_at", "is_correct",
                                "predicted_at", "etl_batch_id"),
    "agg_daily_applications": ("date_key", "scheme_key", "department_key", "state", "district",
                               "applications_submitted", "applications_approved", "applications_rejected",
                               "applications_pending", "amount_requested", "amount_approved",
                               "amount_disbursed", "avg_processing_days", "sla_compliance_rate",
                               "approval_rate", "rejection_rate", "step_sla_breaches"),
    "agg_daily_decisions": ("date_key", "scheme_key", "department_key", "state", "district", "decisions",
                            "approvals", "rejections", "approval_rate", "avg_processing_days",
                            "avg_processing_working_days", "sla_compliance_rate", "amount_approved",
                            "amount_disbursed"),
    "agg_model_performance": ("date_key", "model_key", "use_case_code", "predictions", "predictions_judged",
                              "predictions_correct", "accuracy", "precision_score", "recall_score", "f1_score",
                              "roc_auc", "brier_score", "calibration_error", "mean_confidence", "calibration",
                              "etl_batch_id"),
    "etl_batches": ("batch_id", "run_id", "asset_key", "partition_key", "status", "started_at",
                    "finished_at", "rows_extracted", "rows_loaded", "rows_rejected"),
    "etl_data_quality": ("check_id", "batch_id", "run_id", "asset_key", "partition_key", "check_name",
                         "passed", "severity", "observed_value", "expected", "checked_at"),
}
APPLICATION_STATUSES = ("submitted", "under_review", "approved", "rejected", "withdrawn")


def primary_key(*columns: str) -> str:
    return f"PRIMARY KEY ({', '.join(columns)})"


def unique(*columns: str, where: str | None = None) -> str:
    """A valid unique index (or constraint) on exactly these key columns, partial when ``where``."""
    return f"UNIQUE ({', '.join(columns)})" + (f" WHERE {where}" if where else "")


def not_null(*columns: str) -> tuple[str, ...]:
    return tuple(f"NOT NULL {c}" for c in columns)


def _scd2(natural_key: str) -> tuple[str, ...]:
    return (
        unique(natural_key, "valid_from"),  # natural_key_unique: one version per key and valid_from
        unique(natural_key, where="is_current"),  # one_current_row_per_key: at most one current version
    )


# Each entry is spelled as rules.present_constraints reads the catalog; CHECK expressions as
# pg_get_constraintdef prints them (BETWEEN becomes >= AND <=, IN becomes = ANY (ARRAY[...])).
# The comment after each names the check, or check arm, that the constraint replaces
# (natural_key_unique was dropped whole; rates_in_range kept one of its three conditions, as
# avg_processing_days_non_negative; the other checks named lost an arm).
CONTRACT_CONSTRAINTS: dict[str, tuple[str, ...]] = {
    "dim_holiday": (
        # a check for two holidays on one day and state (one national row per day, too)
        unique("date_key", "state") + " NULLS NOT DISTINCT",
    ),
    "dim_citizen": _scd2("citizen_id"),
    "dim_scheme": _scd2("scheme_id"),
    "dim_department": _scd2("department_id"),
    "dim_model": _scd2("model_id"),
    "dim_designation": _scd2("designation_id"),
    "fact_service_applications": (
        primary_key("application_id"),  # natural_key_unique
        *not_null("citizen_key", "scheme_key", "department_key", "submitted_date_key",
                  "decided_date_key"),  # keys_resolve: the "key IS NULL" arms
        *not_null("status"),  # status_in_vocabulary: the "status IS NULL" arm
    ),
    "fact_application_processing": (
        primary_key("action_id"),  # natural_key_unique
        *not_null("department_key", "scheme_key", "acting_department_key",
                  "action_date_key", "designation_key"),  # keys_resolve: the "key IS NULL" arms
        *not_null("step_number"),  # step_number_positive: the "step_number IS NULL" arm
    ),
    "fact_payments": (
        primary_key("payment_id"),  # natural_key_unique
        *not_null("citizen_key", "scheme_key", "department_key", "paid_date_key"),  # keys_resolve's null arms
        *not_null("amount", "payment_mode", "payment_status"),  # payment_values_valid's null arms
    ),
    "fact_eligibility_scoring": (
        primary_key("prediction_id"),  # natural_key_unique
        *not_null("citizen_key", "scheme_key", "department_key",
                  "prediction_date_key", "model_key"),  # keys_resolve: the "key IS NULL" arms
        # is_correct_consistent: the "actual_outcome NOT IN ('approved', 'rejected')" arm
        "CHECK ((actual_outcome = ANY (ARRAY['approved'::text, 'rejected'::text])))",
    ),
    "fact_prediction_outcome": (
        primary_key("prediction_id"),
        *not_null("use_case_code", "citizen_key", "scheme_key", "model_key", "prediction_date_key",
                  "predicted_positive", "positive_score"),  # keys_resolve and the scores: no "IS NULL" arms
        # outcome_consistent: the vocabularies of use_case_code and outcome; a score in [0, 1]
        "CHECK ((use_case_code = ANY (ARRAY['SLA_BREACH_PREDICTION'::text, 'DROPOUT_PREDICTION'::text])))",
        "CHECK (((positive_score >= (0)::numeric) AND (positive_score <= (1)::numeric)))",
        "CHECK ((outcome = ANY (ARRAY['breach'::text, 'on_time'::text, 'abandoned'::text, 'submitted'::text])))",
    ),
    "agg_daily_applications": (
        # natural_key_unique on the grain; a primary key also makes its columns NOT NULL,
        # which covers keys_resolve's "key IS NULL" arms
        primary_key("date_key", "scheme_key", "department_key", "state", "district"),
        # rates_in_range: "sla_compliance_rate lies in [0, 1]"
        "CHECK (((sla_compliance_rate >= (0)::numeric) AND (sla_compliance_rate <= (1)::numeric)))",
        # rates_in_range: "the outcome counts add up to applications_submitted", with no null
        # count slipping past the CHECK
        ("CHECK ((applications_submitted = (((applications_approved + applications_rejected) "
         "+ applications_pending) + applications_withdrawn)))"),
        *not_null("applications_submitted", "applications_approved", "applications_rejected",
                  "applications_pending", "applications_withdrawn"),
        # matches_fact_group_by computes the rates; these say a stored rate is a fraction
        "CHECK (((approval_rate >= (0)::numeric) AND (approval_rate <= (1)::numeric)))",
        "CHECK (((rejection_rate >= (0)::numeric) AND (rejection_rate <= (1)::numeric)))",
    ),
    "agg_daily_decisions": (
        primary_key("date_key", "scheme_key", "department_key", "state", "district"),  # the grain, unique
        "CHECK ((decisions = (approvals + rejections)))",  # a check on the outcome counts
        "CHECK (((approval_rate >= (0)::numeric) AND (approval_rate <= (1)::numeric)))",
        "CHECK (((sla_compliance_rate >= (0)::numeric) AND (sla_compliance_rate <= (1)::numeric)))",
        *not_null("decisions", "approvals", "rejections", "approval_rate", "avg_processing_days"),
    ),
    "agg_model_performance": (
        primary_key("date_key", "model_key", "use_case_code"),  # one row per model-day; keys never null
        *not_null("predictions", "predictions_judged", "predictions_correct"),
        # the counts nest, and every figure is a rate in [0, 1]
        "CHECK (((predictions_judged >= 0) AND (predictions_judged <= predictions)))",
        "CHECK (((predictions_correct >= 0) AND (predictions_correct <= predictions_judged)))",
        *(f"CHECK ((({m} >= (0)::numeric) AND ({m} <= (1)::numeric)))" for m in (
            "accuracy", "precision_score", "recall_score", "f1_score", "roc_auc", "brier_score",
            "calibration_error", "mean_confidence")),
    ),
}
