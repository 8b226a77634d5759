-- smart_aiml: smart_etl_reader reads the columns the warehouse extracts and nothing else
-- (not a prediction's features, which describe the citizen, nor model artefacts), and
-- writes the model figures the warehouse measured into model_monitoring.

GRANT SELECT (prediction_id, model_id, use_case_code, application_id, citizen_id, scheme_id,
              eligibility_score, confidence_score, predicted_label, predicted_at, status,
              created_at, updated_at)
    ON public.predictions TO smart_etl_reader;
GRANT SELECT (model_id, use_case_code, model_name, model_version, algorithm, trained_at, status,
              created_at, updated_at)
    ON public.ml_models TO smart_etl_reader;
GRANT SELECT (use_case_id, use_case_code, use_case_name, problem_type, updated_at)
    ON public.ml_use_cases TO smart_etl_reader;
-- The warehouse writes what it measured back (aggregates/model_performance.py): it upserts its
-- own warehouse_* figures into model_monitoring and withdraws (status = 'deleted') those it no
-- longer measures. SELECT is what ON CONFLICT ... WHERE and the withdrawal's WHERE need.
-- Nothing is deleted; no other table is written.
GRANT SELECT, INSERT, UPDATE ON public.model_monitoring TO smart_etl_reader;
