-- Change watermarks: per portal source table, the latest updated_at (in the source's own
-- clock) up to which every change has been loaded by a successful run. The refresh sensor
-- and the nightly schedule look for rows updated after it; the run that loaded them moves
-- it forward only once it has succeeded.

CREATE TABLE public.etl_watermarks (
    source_database text        NOT NULL,
    source_table    text        NOT NULL,
    watermark       timestamptz NOT NULL,
    run_id          text        NOT NULL,
    advanced_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (source_database, source_table)
);

COMMENT ON TABLE public.etl_watermarks IS 'Change watermark per portal source table: every source row with updated_at at or before it has been loaded by a successful run. Grain: source table.';
COMMENT ON COLUMN public.etl_watermarks.source_database IS 'Portal database of the source table, e.g. smart_citizen.';
COMMENT ON COLUMN public.etl_watermarks.source_table IS 'Source table in schema public of that database, e.g. service_applications.';
COMMENT ON COLUMN public.etl_watermarks.watermark IS 'Latest source updated_at covered (read in the source database''s clock, never ahead of its now()).';
COMMENT ON COLUMN public.etl_watermarks.run_id IS 'Dagster run whose success last moved the watermark.';
COMMENT ON COLUMN public.etl_watermarks.advanced_at IS 'When the watermark was last moved (warehouse clock).';

CREATE TABLE public.etl_watermark_history (
    history_id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_database    text        NOT NULL,
    source_table       text        NOT NULL,
    previous_watermark timestamptz,
    watermark          timestamptz NOT NULL,
    window_start       timestamptz,
    run_id             text        NOT NULL,
    advanced_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    CHECK (previous_watermark IS NULL OR watermark >= previous_watermark)
);
CREATE INDEX etl_watermark_history_source_idx
    ON public.etl_watermark_history (source_database, source_table, advanced_at DESC);
CREATE INDEX etl_watermark_history_run_idx ON public.etl_watermark_history (run_id);

COMMENT ON TABLE public.etl_watermark_history IS 'Every move of a change watermark, for audit: which run covered which window of source changes. Grain: one watermark move.';
COMMENT ON COLUMN public.etl_watermark_history.history_id IS 'Surrogate key of the move.';
COMMENT ON COLUMN public.etl_watermark_history.source_database IS 'Portal database of the source table.';
COMMENT ON COLUMN public.etl_watermark_history.source_table IS 'Source table whose watermark moved.';
COMMENT ON COLUMN public.etl_watermark_history.previous_watermark IS 'Watermark before the move; null for the first one.';
COMMENT ON COLUMN public.etl_watermark_history.watermark IS 'Watermark after the move.';
COMMENT ON COLUMN public.etl_watermark_history.window_start IS 'Start (exclusive) of the change window the run loaded; null when it loaded every change (a full reload).';
COMMENT ON COLUMN public.etl_watermark_history.run_id IS 'Dagster run that loaded the window and succeeded.';
COMMENT ON COLUMN public.etl_watermark_history.advanced_at IS 'When the watermark moved (warehouse clock).';
