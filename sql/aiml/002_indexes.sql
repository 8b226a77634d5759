-- smart_aiml indexes: every foreign key, status, queried timestamps, common composites.

CREATE INDEX ml_use_cases_status_idx            ON ml_use_cases (status);
CREATE INDEX ml_use_cases_updated_at_idx        ON ml_use_cases (updated_at);

CREATE INDEX ml_models_use_case_status_idx      ON ml_models (use_case_code, status);
CREATE INDEX ml_models_status_idx               ON ml_models (status);
CREATE INDEX ml_models_trained_at_idx           ON ml_models (trained_at);
CREATE INDEX ml_models_updated_at_idx           ON ml_models (updated_at);

CREATE INDEX mlflow_experiments_use_case_code_idx ON mlflow_experiments (use_case_code);
CREATE INDEX mlflow_experiments_status_idx      ON mlflow_experiments (status);
CREATE INDEX mlflow_experiments_updated_at_idx  ON mlflow_experiments (updated_at);

CREATE INDEX mlflow_runs_experiment_started_idx ON mlflow_runs (experiment_id, started_at);
CREATE INDEX mlflow_runs_model_id_idx           ON mlflow_runs (model_id);
CREATE INDEX mlflow_runs_status_idx             ON mlflow_runs (status);
CREATE INDEX mlflow_runs_started_at_idx         ON mlflow_runs (started_at);
CREATE INDEX mlflow_runs_updated_at_idx         ON mlflow_runs (updated_at);

CREATE INDEX batch_prediction_jobs_model_id_idx      ON batch_prediction_jobs (model_id);
CREATE INDEX batch_prediction_jobs_use_case_code_idx ON batch_prediction_jobs (use_case_code);
CREATE INDEX batch_prediction_jobs_status_idx        ON batch_prediction_jobs (status);
CREATE INDEX batch_prediction_jobs_scheduled_for_idx ON batch_prediction_jobs (scheduled_for);
CREATE INDEX batch_prediction_jobs_updated_at_idx    ON batch_prediction_jobs (updated_at);

CREATE INDEX predictions_model_id_idx           ON predictions (model_id);
CREATE INDEX predictions_use_case_predicted_idx ON predictions (use_case_code, predicted_at);
CREATE INDEX predictions_batch_prediction_job_id_idx ON predictions (batch_prediction_job_id);
CREATE INDEX predictions_application_id_idx     ON predictions (application_id);
CREATE INDEX predictions_citizen_id_idx         ON predictions (citizen_id);
CREATE INDEX predictions_predicted_at_idx       ON predictions (predicted_at);
CREATE INDEX predictions_updated_at_idx         ON predictions (updated_at);
CREATE INDEX predictions_status_idx             ON predictions (status);

CREATE INDEX pipeline_runs_use_case_code_idx    ON pipeline_runs (use_case_code);
CREATE INDEX pipeline_runs_name_started_idx     ON pipeline_runs (pipeline_name, started_at);
CREATE INDEX pipeline_runs_started_at_idx       ON pipeline_runs (started_at);
CREATE INDEX pipeline_runs_status_idx           ON pipeline_runs (status);
CREATE INDEX pipeline_runs_updated_at_idx       ON pipeline_runs (updated_at);

-- model_monitoring (model_id, metric_date, metric_name) is covered by its unique constraint.
CREATE INDEX model_monitoring_metric_date_idx   ON model_monitoring (metric_date);
CREATE INDEX model_monitoring_status_idx        ON model_monitoring (status);
CREATE INDEX model_monitoring_updated_at_idx    ON model_monitoring (updated_at);

CREATE INDEX analytics_cache_use_case_code_idx  ON analytics_cache (use_case_code);
CREATE INDEX analytics_cache_expires_at_idx     ON analytics_cache (expires_at);
CREATE INDEX analytics_cache_status_idx         ON analytics_cache (status);
CREATE INDEX analytics_cache_updated_at_idx     ON analytics_cache (updated_at);
