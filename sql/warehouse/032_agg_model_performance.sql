-- Daily model performance, per prediction day: each prediction is judged once, in the
-- cohort of the day it was made, and a day's figures are refreshed when its late outcomes
-- arrive (the change plans re-load prediction days, as for the prediction facts). A day
-- keyed by when outcomes became known would mix cohorts and would move with every late
-- decision; predictions_judged says how complete a day's verdict is so far.

CREATE TABLE public.agg_model_performance (
    date_key            integer        NOT NULL,
    model_key           bigint         NOT NULL,
    use_case_code       text           NOT NULL,
    predictions         integer        NOT NULL CHECK (predictions > 0),
    predictions_judged  integer        NOT NULL CHECK (predictions_judged BETWEEN 0 AND predictions),
    predictions_correct integer        NOT NULL CHECK (predictions_correct BETWEEN 0 AND predictions_judged),
    accuracy            numeric(6, 5)  CHECK (accuracy BETWEEN 0 AND 1),
    precision_score     numeric(6, 5)  CHECK (precision_score BETWEEN 0 AND 1),
    recall_score        numeric(6, 5)  CHECK (recall_score BETWEEN 0 AND 1),
    f1_score            numeric(6, 5)  CHECK (f1_score BETWEEN 0 AND 1),
    roc_auc             numeric(6, 5)  CHECK (roc_auc BETWEEN 0 AND 1),
    brier_score         numeric(6, 5)  CHECK (brier_score BETWEEN 0 AND 1),
    calibration_error   numeric(6, 5)  CHECK (calibration_error BETWEEN 0 AND 1),
    mean_confidence     numeric(6, 5)  CHECK (mean_confidence BETWEEN 0 AND 1),
    calibration         jsonb,
    etl_batch_id        bigint         NOT NULL,
    PRIMARY KEY (date_key, model_key, use_case_code)
);
CREATE INDEX agg_model_performance_model_idx ON public.agg_model_performance (model_key);
CREATE INDEX agg_model_performance_batch_idx ON public.agg_model_performance (etl_batch_id);

COMMENT ON TABLE public.agg_model_performance IS 'How well each model version predicted, per day of prediction, judged against the outcomes known so far (fact_eligibility_scoring, fact_prediction_outcome); computed in polars and written back to smart_aiml.model_monitoring. Grain: one row per prediction day x model version state x use case. Partitioned by the IST prediction day.';
COMMENT ON COLUMN public.agg_model_performance.date_key IS 'IST day the predictions were made (YYYYMMDD); the partition key.';
COMMENT ON COLUMN public.agg_model_performance.model_key IS 'Model version (dim_model state valid at the predictions); -1 for predictions of an unknown model.';
COMMENT ON COLUMN public.agg_model_performance.use_case_code IS 'ELIGIBILITY_SCORING, SLA_BREACH_PREDICTION or DROPOUT_PREDICTION.';
COMMENT ON COLUMN public.agg_model_performance.predictions IS 'Predictions made that day by the model.';
COMMENT ON COLUMN public.agg_model_performance.predictions_judged IS 'Of those, the ones whose outcome is known (decided, submitted, abandoned); the metrics are over these.';
COMMENT ON COLUMN public.agg_model_performance.predictions_correct IS 'Of the judged, the ones whose predicted class was the actual one.';
COMMENT ON COLUMN public.agg_model_performance.accuracy IS 'predictions_correct / predictions_judged; null when none is judged.';
COMMENT ON COLUMN public.agg_model_performance.precision_score IS 'Of the judged predicted positive (eligible, breach, abandon), the share actually positive; null when none was predicted positive.';
COMMENT ON COLUMN public.agg_model_performance.recall_score IS 'Of the judged actually positive, the share predicted positive; null when none was positive.';
COMMENT ON COLUMN public.agg_model_performance.f1_score IS 'Harmonic mean of precision and recall: 2TP / (2TP + FP + FN); null when there is no positive at all.';
COMMENT ON COLUMN public.agg_model_performance.roc_auc IS 'Area under the ROC curve of the positive-class score (ties count half); null unless both classes occur among the judged.';
COMMENT ON COLUMN public.agg_model_performance.brier_score IS 'Mean squared difference between the positive-class score and the outcome (1 positive, 0 not); lower is better.';
COMMENT ON COLUMN public.agg_model_performance.calibration_error IS 'Expected calibration error over score deciles: the judged-weighted mean of |mean score - observed positive rate|.';
COMMENT ON COLUMN public.agg_model_performance.mean_confidence IS 'Mean confidence_score the model gave its judged predictions (compare with accuracy).';
COMMENT ON COLUMN public.agg_model_performance.calibration IS 'Calibration by score decile: a JSON array of {decile (0 = scores below 0.1 ... 9), predictions, mean_score, observed_rate} over the judged predictions with a score.';
COMMENT ON COLUMN public.agg_model_performance.etl_batch_id IS 'Batch (etl_batches) that wrote the row.';
