-- Models as a dimension, and the predictions of every use case the warehouse can judge.
--
-- dim_model is SCD Type 2 on the model version's registry row: its lifecycle status
-- (staging -> production -> archived) changes after it was trained, and an analyst judging
-- a prediction needs the status the version had when it scored ("was this the production
-- model then?"), not the one it has today. A prediction's model_key is the version valid at
-- predicted_at. The grain is one row per model version and lifecycle state.

CREATE UNLOGGED TABLE staging.ml_models (
    model_id        uuid PRIMARY KEY,
    model_name      text        NOT NULL,
    model_version   text        NOT NULL,
    use_case_code   text        NOT NULL,
    use_case_name   text,
    problem_type    text,
    algorithm       text,
    trained_at      timestamptz,
    status          text        NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    etl_batch_id    bigint      NOT NULL
);
COMMENT ON TABLE staging.ml_models IS 'Registered model versions that passed validation, with their use case. Grain: one row per model version.';
COMMENT ON COLUMN staging.ml_models.model_id IS 'ml_models.model_id.';
COMMENT ON COLUMN staging.ml_models.model_name IS 'Model name, trimmed.';
COMMENT ON COLUMN staging.ml_models.model_version IS 'Model version, trimmed.';
COMMENT ON COLUMN staging.ml_models.use_case_code IS 'Use case the model serves (ml_use_cases.use_case_code).';
COMMENT ON COLUMN staging.ml_models.use_case_name IS 'Name of the use case, from ml_use_cases.';
COMMENT ON COLUMN staging.ml_models.problem_type IS 'classification, regression, ..., from ml_use_cases.';
COMMENT ON COLUMN staging.ml_models.algorithm IS 'Algorithm, lower case.';
COMMENT ON COLUMN staging.ml_models.trained_at IS 'When the version was trained.';
COMMENT ON COLUMN staging.ml_models.status IS 'Lifecycle stage: staging, production or archived.';
COMMENT ON COLUMN staging.ml_models.created_at IS 'Source created_at: the first version of dim_model opens here.';
COMMENT ON COLUMN staging.ml_models.updated_at IS 'Source updated_at: a changed version opens here.';
COMMENT ON COLUMN staging.ml_models.etl_batch_id IS 'Batch that extracted the row.';

CREATE TABLE public.dim_model (
    model_key      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    model_id       uuid,
    model_name     text        NOT NULL,
    model_version  text        NOT NULL,
    use_case_code  text        NOT NULL,
    use_case_name  text,
    problem_type   text,
    algorithm      text,
    trained_at     timestamptz,
    status         text        NOT NULL,
    valid_from     timestamptz NOT NULL,
    valid_to       timestamptz NOT NULL DEFAULT '9999-12-31 00:00:00+00',
    is_current     boolean     NOT NULL DEFAULT true,
    etl_batch_id   bigint REFERENCES public.etl_batches (batch_id),
    CHECK (valid_to > valid_from),
    CHECK ((model_key = -1) = (model_id IS NULL)),
    CHECK (model_key = -1 OR etl_batch_id IS NOT NULL)
);
CREATE UNIQUE INDEX dim_model_version_uq ON public.dim_model (model_id, valid_from) INCLUDE (valid_to);
CREATE UNIQUE INDEX dim_model_current_uq ON public.dim_model (model_id) WHERE is_current;
CREATE INDEX dim_model_name_idx ON public.dim_model (model_name, model_version);
CREATE INDEX dim_model_batch_idx ON public.dim_model (etl_batch_id);

INSERT INTO public.dim_model (model_key, model_id, model_name, model_version, use_case_code, use_case_name,
                              problem_type, algorithm, trained_at, status, valid_from, valid_to, is_current)
OVERRIDING SYSTEM VALUE
VALUES (-1, NULL, 'unknown', 'unknown', 'UNKNOWN', 'Unknown use case', NULL, NULL, NULL, 'unknown',
        '1900-01-01 00:00:00+00', '9999-12-31 00:00:00+00', true);

COMMENT ON TABLE public.dim_model IS 'ML model versions of the AI/ML portal, with their use case and lifecycle status. SCD Type 2 (the status history matters: which version was in production when it scored). Grain: one row per model version and lifecycle state.';
COMMENT ON COLUMN public.dim_model.model_key IS 'Surrogate key of the model version''s state; -1 is the unknown model.';
COMMENT ON COLUMN public.dim_model.model_id IS 'Natural key: ml_models.model_id in smart_aiml.';
COMMENT ON COLUMN public.dim_model.model_name IS 'Model name, e.g. eligibility-scoring.';
COMMENT ON COLUMN public.dim_model.model_version IS 'Model version, e.g. 2.0; (model_name, model_version) is unique in the portal.';
COMMENT ON COLUMN public.dim_model.use_case_code IS 'Use case the model serves, e.g. ELIGIBILITY_SCORING, SLA_BREACH_PREDICTION, DROPOUT_PREDICTION.';
COMMENT ON COLUMN public.dim_model.use_case_name IS 'Name of the use case.';
COMMENT ON COLUMN public.dim_model.problem_type IS 'Kind of problem the use case poses: classification, regression, forecasting, ...';
COMMENT ON COLUMN public.dim_model.algorithm IS 'Algorithm of the version, e.g. xgboost, logistic_regression.';
COMMENT ON COLUMN public.dim_model.trained_at IS 'When the version was trained.';
COMMENT ON COLUMN public.dim_model.status IS 'Lifecycle stage in this interval: staging, production or archived (unknown for the unknown member).';
COMMENT ON COLUMN public.dim_model.valid_from IS 'Start of the state (inclusive): the registry row''s created_at for the first, its updated_at for later ones.';
COMMENT ON COLUMN public.dim_model.valid_to IS 'End of the state (exclusive); 9999-12-31 00:00:00+00 while current.';
COMMENT ON COLUMN public.dim_model.is_current IS 'True for the open state; exactly one per model version.';
COMMENT ON COLUMN public.dim_model.etl_batch_id IS 'Batch (etl_batches) that wrote the row; null for the unknown member.';

-- Predictions: staging keeps every judged use case now (eligibility, SLA breach, dropout),
-- with the model's id and what the citizen portal says about the application.
ALTER TABLE staging.predictions ADD COLUMN model_id uuid;
ALTER TABLE staging.predictions ADD COLUMN use_case_code text NOT NULL DEFAULT 'ELIGIBILITY_SCORING';
ALTER TABLE staging.predictions ALTER COLUMN use_case_code DROP DEFAULT;
ALTER TABLE staging.predictions ADD COLUMN application_submitted_at timestamptz;
ALTER TABLE staging.predictions ADD COLUMN outcome_as_of timestamptz;
COMMENT ON TABLE staging.predictions IS 'Predictions of the judged use cases (eligibility, SLA breach, dropout) that passed validation, per IST prediction day, with the application''s current status. Grain: one row per prediction.';
COMMENT ON COLUMN staging.predictions.model_id IS 'Model version that scored (ml_models.model_id).';
COMMENT ON COLUMN staging.predictions.use_case_code IS 'ELIGIBILITY_SCORING, SLA_BREACH_PREDICTION or DROPOUT_PREDICTION.';
COMMENT ON COLUMN staging.predictions.application_submitted_at IS 'When the application was submitted, from smart_citizen; null for a draft.';
COMMENT ON COLUMN staging.predictions.outcome_as_of IS 'The citizen portal''s latest updated_at at extraction: the instant up to which the application''s outcome is known.';

-- Eligibility predictions name their model version's state.
ALTER TABLE public.fact_eligibility_scoring ADD COLUMN model_key bigint NOT NULL DEFAULT -1;
COMMENT ON COLUMN public.fact_eligibility_scoring.model_key IS 'Model version that scored, in the state (dim_model) valid at the prediction; -1 when unknown.';
