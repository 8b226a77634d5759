-- smart_aiml: the ML registry, experiment tracking and predictions (OLTP).
-- Application, citizen and scheme ids refer to smart_citizen: plain uuid columns, no FK.

CREATE TABLE ml_use_cases (
    use_case_id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    use_case_code       text NOT NULL UNIQUE,
    use_case_name       text NOT NULL,
    domain              text NOT NULL,
    problem_type        text NOT NULL
                        CHECK (problem_type IN ('classification', 'regression', 'forecasting',
                                                'anomaly_detection', 'ranking', 'nlp', 'clustering',
                                                'computer_vision')),
    description         text,
    status              text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive', 'retired')),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    created_by          text,
    updated_by          text
);
COMMENT ON TABLE ml_use_cases IS 'The 27 machine-learning use cases of the platform.';

CREATE TABLE ml_models (
    model_id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    use_case_code       text NOT NULL REFERENCES ml_use_cases (use_case_code),
    model_name          text NOT NULL,
    model_version       text NOT NULL,
    algorithm           text,
    trained_at          timestamptz,
    metrics             jsonb,
    artifact_uri        text,
    status              text NOT NULL DEFAULT 'staging' CHECK (status IN ('staging', 'production', 'archived')),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    created_by          text,
    updated_by          text,
    CONSTRAINT ml_models_name_version_unique UNIQUE (model_name, model_version)
);
COMMENT ON TABLE ml_models IS 'Registered model versions per use case and their lifecycle stage.';

CREATE TABLE mlflow_experiments (
    experiment_id       uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    mlflow_experiment_key text NOT NULL UNIQUE,
    use_case_code       text NOT NULL REFERENCES ml_use_cases (use_case_code),
    experiment_name     text NOT NULL,
    artifact_location   text,
    status              text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'archived', 'deleted')),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    created_by          text,
    updated_by          text
);
COMMENT ON TABLE mlflow_experiments IS 'Mirror of the MLflow experiments, one per use case.';

CREATE TABLE mlflow_runs (
    run_id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    experiment_id       uuid NOT NULL REFERENCES mlflow_experiments (experiment_id),
    model_id            uuid REFERENCES ml_models (model_id),
    mlflow_run_key      text NOT NULL UNIQUE,
    run_name            text,
    started_at          timestamptz NOT NULL,
    ended_at            timestamptz,
    run_status          text NOT NULL CHECK (run_status IN ('running', 'finished', 'failed', 'killed')),
    params              jsonb,
    metrics             jsonb,
    status              text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deleted')),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    created_by          text,
    updated_by          text
);
COMMENT ON TABLE mlflow_runs IS 'Mirror of MLflow training runs; a run that produced a registered model points to it.';

CREATE TABLE batch_prediction_jobs (
    batch_prediction_job_id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    model_id            uuid NOT NULL REFERENCES ml_models (model_id),
    use_case_code       text NOT NULL REFERENCES ml_use_cases (use_case_code),
    scheduled_for       timestamptz NOT NULL,
    started_at          timestamptz,
    finished_at         timestamptz,
    job_status          text NOT NULL CHECK (job_status IN ('queued', 'running', 'succeeded', 'failed')),
    rows_scored         integer CHECK (rows_scored >= 0),
    error_message       text,
    status              text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deleted')),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    created_by          text,
    updated_by          text
);
COMMENT ON TABLE batch_prediction_jobs IS 'Scheduled batch-scoring jobs and their outcome.';

CREATE TABLE predictions (
    prediction_id       uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    model_id            uuid NOT NULL REFERENCES ml_models (model_id),
    use_case_code       text NOT NULL REFERENCES ml_use_cases (use_case_code),
    batch_prediction_job_id uuid REFERENCES batch_prediction_jobs (batch_prediction_job_id),
    application_id      uuid,  -- smart_citizen: no FK
    citizen_id          uuid,  -- smart_citizen: no FK
    scheme_id           uuid,  -- smart_citizen: no FK
    eligibility_score   numeric(5,4) CHECK (eligibility_score BETWEEN 0 AND 1),
    confidence_score    numeric(5,4) CHECK (confidence_score BETWEEN 0 AND 1),
    predicted_label     text,
    features            jsonb,
    predicted_at        timestamptz NOT NULL,
    status              text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'superseded', 'deleted')),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    created_by          text,
    updated_by          text
);
COMMENT ON TABLE predictions IS 'Model outputs per subject (application, citizen, scheme), e.g. eligibility scores.';

CREATE TABLE pipeline_runs (
    pipeline_run_id     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    pipeline_name       text NOT NULL,
    run_type            text NOT NULL CHECK (run_type IN ('feature', 'training', 'scoring', 'evaluation')),
    use_case_code       text REFERENCES ml_use_cases (use_case_code),
    started_at          timestamptz NOT NULL,
    finished_at         timestamptz,
    run_status          text NOT NULL CHECK (run_status IN ('running', 'succeeded', 'failed')),
    rows_processed      bigint CHECK (rows_processed >= 0),
    error_message       text,
    status              text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deleted')),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    created_by          text,
    updated_by          text
);
COMMENT ON TABLE pipeline_runs IS 'Runs of the ML feature, training, scoring and evaluation pipelines.';

CREATE TABLE model_monitoring (
    model_monitoring_id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    model_id            uuid NOT NULL REFERENCES ml_models (model_id),
    metric_date         date NOT NULL,
    metric_name         text NOT NULL,
    metric_value        double precision NOT NULL,
    threshold           double precision,
    is_breached         boolean NOT NULL DEFAULT false,
    status              text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deleted')),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    created_by          text,
    updated_by          text,
    CONSTRAINT model_monitoring_unique UNIQUE (model_id, metric_date, metric_name)
);
COMMENT ON TABLE model_monitoring IS 'Daily drift and quality metrics per deployed model, with their alert thresholds.';

CREATE TABLE analytics_cache (
    analytics_cache_id  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    cache_key           text NOT NULL UNIQUE,
    use_case_code       text REFERENCES ml_use_cases (use_case_code),
    payload             jsonb NOT NULL,
    computed_at         timestamptz NOT NULL,
    expires_at          timestamptz,
    status              text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'expired', 'deleted')),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    created_by          text,
    updated_by          text
);
COMMENT ON TABLE analytics_cache IS 'Precomputed analytics results served to the portals, keyed by cache_key.';
