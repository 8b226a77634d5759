-- The two other use cases the portal predicts and the warehouse can judge share one fact:
-- both are binary classifications of an application, scored once, whose ground truth
-- arrives later from the citizen portal. One table with one shape (predicted class, score
-- of the positive class, outcome, correct or not) lets model performance be computed the
-- same way for both, and a third binary use case is a row of vocabulary, not a new table.
-- Eligibility scoring keeps its own fact (its outcome is the decision itself).

CREATE TABLE public.fact_prediction_outcome (
    prediction_id       uuid PRIMARY KEY,
    application_id      uuid,
    use_case_code       text           NOT NULL CHECK (use_case_code IN ('SLA_BREACH_PREDICTION', 'DROPOUT_PREDICTION')),
    citizen_key         bigint         NOT NULL,
    scheme_key          bigint         NOT NULL,
    model_key           bigint         NOT NULL,
    prediction_date_key integer        NOT NULL,
    predicted_label     text           NOT NULL,
    predicted_positive  boolean        NOT NULL,
    positive_score      numeric(5, 4)  NOT NULL CHECK (positive_score BETWEEN 0 AND 1),
    confidence_score    numeric(5, 4),
    outcome             text CHECK (outcome IN ('breach', 'on_time', 'abandoned', 'submitted')),
    actual_positive     boolean,
    outcome_known_at    timestamptz,
    is_correct          boolean,
    predicted_at        timestamptz    NOT NULL,
    etl_batch_id        bigint         NOT NULL
);
CREATE INDEX fact_prediction_outcome_date_idx ON public.fact_prediction_outcome (prediction_date_key);
CREATE INDEX fact_prediction_outcome_application_idx ON public.fact_prediction_outcome (application_id);
CREATE INDEX fact_prediction_outcome_batch_idx ON public.fact_prediction_outcome (etl_batch_id);

COMMENT ON TABLE public.fact_prediction_outcome IS 'SLA-breach and dropout predictions of the ML portal, next to what happened: an accumulating snapshot whose outcome is filled in (and refreshed) as decisions and submissions arrive. Grain: one row per prediction of SLA_BREACH_PREDICTION or DROPOUT_PREDICTION. Partitioned by the IST day of predicted_at.';
COMMENT ON COLUMN public.fact_prediction_outcome.prediction_id IS 'Natural key: predictions.prediction_id in smart_aiml.';
COMMENT ON COLUMN public.fact_prediction_outcome.application_id IS 'Application scored (degenerate dimension; a draft for dropout predictions).';
COMMENT ON COLUMN public.fact_prediction_outcome.use_case_code IS 'SLA_BREACH_PREDICTION (will the decision miss the scheme''s SLA?) or DROPOUT_PREDICTION (will the draft never be submitted?).';
COMMENT ON COLUMN public.fact_prediction_outcome.citizen_key IS 'Citizen, version valid at the prediction; -1 when unknown.';
COMMENT ON COLUMN public.fact_prediction_outcome.scheme_key IS 'Scheme applied for, version valid at the prediction; -1 when unknown.';
COMMENT ON COLUMN public.fact_prediction_outcome.model_key IS 'Model version that scored, in the state (dim_model) valid at the prediction; -1 when unknown.';
COMMENT ON COLUMN public.fact_prediction_outcome.prediction_date_key IS 'IST day of the prediction (YYYYMMDD); the partition key.';
COMMENT ON COLUMN public.fact_prediction_outcome.predicted_label IS 'Label the model wrote: breach or on_time (SLA), likely_abandon or likely_submit (dropout).';
COMMENT ON COLUMN public.fact_prediction_outcome.predicted_positive IS 'True when the model predicted the positive class: a breach, or an abandoned draft.';
COMMENT ON COLUMN public.fact_prediction_outcome.positive_score IS 'Probability the model gave the positive class, 0 to 1: its confidence when it predicted positive, one minus it otherwise (these models write no score of their own).';
COMMENT ON COLUMN public.fact_prediction_outcome.confidence_score IS 'Model confidence in its label, 0 to 1.';
COMMENT ON COLUMN public.fact_prediction_outcome.outcome IS 'What happened: breach or on_time once the application is decided (from fact_service_applications.sla_met); submitted once the draft is submitted, abandoned when it is still a draft 7 days after the prediction; null while unknown (or when the application was withdrawn).';
COMMENT ON COLUMN public.fact_prediction_outcome.actual_positive IS 'outcome is the positive class (breach, abandoned); null while unknown.';
COMMENT ON COLUMN public.fact_prediction_outcome.outcome_known_at IS 'When the outcome became known: the decision, the submission, or the end of the 7-day horizon; null while unknown.';
COMMENT ON COLUMN public.fact_prediction_outcome.is_correct IS 'predicted_positive = actual_positive; null while the outcome is unknown.';
COMMENT ON COLUMN public.fact_prediction_outcome.predicted_at IS 'When the prediction was made.';
COMMENT ON COLUMN public.fact_prediction_outcome.etl_batch_id IS 'Batch (etl_batches) that wrote the row.';
