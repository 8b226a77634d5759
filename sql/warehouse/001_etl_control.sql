-- ETL control: one batch per materialization of one asset (partition range), and the
-- verdict of every data-quality check. Created first: every loaded row points at a batch.

CREATE TABLE public.etl_batches (
    batch_id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id          text        NOT NULL,
    asset_key       text        NOT NULL,
    partition_key   text,
    partition_start date,
    partition_end   date,
    status          text        NOT NULL DEFAULT 'running'
                    CHECK (status IN ('running', 'success', 'failed')),
    started_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at     timestamptz,
    rows_extracted  bigint      NOT NULL DEFAULT 0 CHECK (rows_extracted >= 0),
    rows_loaded     bigint      NOT NULL DEFAULT 0 CHECK (rows_loaded >= 0),
    rows_rejected   bigint      NOT NULL DEFAULT 0 CHECK (rows_rejected >= 0),
    error_message   text,
    CHECK (partition_start IS NULL OR partition_end >= partition_start),
    CHECK (finished_at IS NULL OR finished_at >= started_at)
);
CREATE INDEX etl_batches_asset_idx ON public.etl_batches (asset_key, started_at DESC);
CREATE INDEX etl_batches_run_idx ON public.etl_batches (run_id);
CREATE INDEX etl_batches_status_idx ON public.etl_batches (status);

COMMENT ON TABLE public.etl_batches IS 'One row per materialization of one asset partition (or partition range). Grain: batch.';
COMMENT ON COLUMN public.etl_batches.batch_id IS 'Surrogate key of the batch; every loaded row carries it as etl_batch_id.';
COMMENT ON COLUMN public.etl_batches.run_id IS 'Dagster run id that executed the batch.';
COMMENT ON COLUMN public.etl_batches.asset_key IS 'Dagster asset key that was materialized, e.g. fact_service_applications.';
COMMENT ON COLUMN public.etl_batches.partition_key IS 'Partition key (YYYY-MM-DD) or range (first...last); null for unpartitioned assets.';
COMMENT ON COLUMN public.etl_batches.partition_start IS 'First IST day covered by the batch; null for unpartitioned assets.';
COMMENT ON COLUMN public.etl_batches.partition_end IS 'Last IST day covered by the batch (inclusive); null for unpartitioned assets.';
COMMENT ON COLUMN public.etl_batches.status IS 'running while the load is open, success when its rows were committed, failed otherwise. A batch left running by a killed process never became visible.';
COMMENT ON COLUMN public.etl_batches.started_at IS 'When the batch started.';
COMMENT ON COLUMN public.etl_batches.finished_at IS 'When the batch committed or failed.';
COMMENT ON COLUMN public.etl_batches.rows_extracted IS 'Rows read from the source for this batch.';
COMMENT ON COLUMN public.etl_batches.rows_loaded IS 'Rows written to the target table by this batch.';
COMMENT ON COLUMN public.etl_batches.rows_rejected IS 'Rows sent to staging.rejected_rows by this batch.';
COMMENT ON COLUMN public.etl_batches.error_message IS 'Why a failed batch failed, in words a user can act on.';

CREATE TABLE public.etl_data_quality (
    check_id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    batch_id       bigint REFERENCES public.etl_batches (batch_id),
    run_id         text        NOT NULL,
    asset_key      text        NOT NULL,
    partition_key  text,
    check_name     text        NOT NULL,
    passed         boolean     NOT NULL,
    severity       text        NOT NULL CHECK (severity IN ('WARN', 'ERROR')),
    observed_value numeric,
    expected       text,
    message        text,
    details        jsonb,
    checked_at     timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX etl_data_quality_batch_idx ON public.etl_data_quality (batch_id);
CREATE INDEX etl_data_quality_asset_idx ON public.etl_data_quality (asset_key, check_name, checked_at DESC);
CREATE INDEX etl_data_quality_failed_idx ON public.etl_data_quality (checked_at DESC) WHERE NOT passed;

COMMENT ON TABLE public.etl_data_quality IS 'One row per evaluation of one data-quality check (a Dagster asset check). Grain: check evaluation.';
COMMENT ON COLUMN public.etl_data_quality.check_id IS 'Surrogate key of the evaluation.';
COMMENT ON COLUMN public.etl_data_quality.batch_id IS 'Batch whose rows were judged; null when the check ran on its own.';
COMMENT ON COLUMN public.etl_data_quality.run_id IS 'Dagster run id that evaluated the check.';
COMMENT ON COLUMN public.etl_data_quality.asset_key IS 'Asset the check judges.';
COMMENT ON COLUMN public.etl_data_quality.partition_key IS 'Partition (or range first...last) judged; null for unpartitioned assets.';
COMMENT ON COLUMN public.etl_data_quality.check_name IS 'Name of the asset check.';
COMMENT ON COLUMN public.etl_data_quality.passed IS 'True when the data met the expectation.';
COMMENT ON COLUMN public.etl_data_quality.severity IS 'WARN (informs) or ERROR (blocks downstream assets when it fails).';
COMMENT ON COLUMN public.etl_data_quality.observed_value IS 'What the check measured (a count, a rate, a difference).';
COMMENT ON COLUMN public.etl_data_quality.expected IS 'What it should have been, e.g. "= 0" or "<= 0.01".';
COMMENT ON COLUMN public.etl_data_quality.message IS 'The verdict in words: check, partition, observed against expected.';
COMMENT ON COLUMN public.etl_data_quality.details IS 'A sample of offending keys and other evidence.';
COMMENT ON COLUMN public.etl_data_quality.checked_at IS 'When the check was evaluated.';
