-- smart_aiml: smart_etl_reader reads the columns the warehouse extracts and nothing else
-- (not a prediction's features, which describe the citizen, nor model artefacts).

GRANT SELECT (prediction_id, model_id, use_case_code, application_id, citizen_id, scheme_id,
              eligibility_score, confidence_score, predicted_label, predicted_at, status,
              created_at, updated_at)
    ON public.predictions TO smart_etl_reader;
GRANT SELECT (model_id, use_case_code, model_name, model_version, status, created_at, updated_at)
    ON public.ml_models TO smart_etl_reader;
