-- Change data capture: how far each portal's logical replication slot has been applied,
-- and today's critical application figures, kept live from the portals' write-ahead log.
-- The consumer applies a batch of decoded changes and records the LSN it reached in the
-- same transaction; the portal's slot is advanced only after that commit, so a crash
-- anywhere replays changes already applied (skipped by LSN) and never loses one.

CREATE TABLE public.etl_cdc_progress (
    source_database  text        PRIMARY KEY,
    slot_name        text        NOT NULL,
    lsn              pg_lsn      NOT NULL,
    changes_applied  bigint      NOT NULL DEFAULT 0,
    last_commit_at   timestamptz,
    applied_at       timestamptz NOT NULL DEFAULT clock_timestamp()
);

COMMENT ON TABLE public.etl_cdc_progress IS 'Change data capture position per portal: every portal transaction that committed at or before lsn is in the warehouse. Grain: portal database.';
COMMENT ON COLUMN public.etl_cdc_progress.source_database IS 'Portal database whose slot this is, e.g. smart_citizen.';
COMMENT ON COLUMN public.etl_cdc_progress.slot_name IS 'Logical replication slot read in that portal.';
COMMENT ON COLUMN public.etl_cdc_progress.lsn IS 'End LSN of the last portal transaction applied; transactions ending at or before it are skipped on replay.';
COMMENT ON COLUMN public.etl_cdc_progress.changes_applied IS 'Row changes applied since the slot was created (cumulative).';
COMMENT ON COLUMN public.etl_cdc_progress.last_commit_at IS 'Portal commit time of the last transaction applied.';
COMMENT ON COLUMN public.etl_cdc_progress.applied_at IS 'When the warehouse last applied a batch (warehouse clock).';

CREATE TABLE public.agg_live_applications (
    date_key                integer        NOT NULL,
    scheme_key              bigint         NOT NULL,
    department_key          bigint         NOT NULL,
    district                text           NOT NULL,
    applications_submitted  integer        NOT NULL,
    applications_decided    integer        NOT NULL,
    applications_approved   integer        NOT NULL,
    applications_rejected   integer        NOT NULL,
    applications_pending    integer        NOT NULL,
    applications_withdrawn  integer        NOT NULL,
    sla_breaches            integer        NOT NULL,
    amount_requested        numeric(16, 2),
    amount_approved         numeric(16, 2),
    refreshed_at            timestamptz    NOT NULL,
    etl_batch_id            bigint         NOT NULL REFERENCES public.etl_batches (batch_id),
    PRIMARY KEY (date_key, scheme_key, department_key, district),
    CHECK (applications_decided = applications_approved + applications_rejected),
    CHECK (applications_submitted = applications_decided + applications_pending + applications_withdrawn)
);
CREATE INDEX agg_live_applications_batch_idx ON public.agg_live_applications (etl_batch_id);

COMMENT ON TABLE public.agg_live_applications IS 'Live application figures for the submission days the nightly load has not finalized yet (today), kept within a minute of the portal commit by change data capture. Grain: submission day x scheme x department x applicant district, as agg_daily_applications; for a closed day the shared columns equal it.';
COMMENT ON COLUMN public.agg_live_applications.date_key IS 'IST submission day (YYYYMMDD).';
COMMENT ON COLUMN public.agg_live_applications.scheme_key IS 'Scheme version (as on the fact).';
COMMENT ON COLUMN public.agg_live_applications.department_key IS 'Department version owning the scheme (as on the fact).';
COMMENT ON COLUMN public.agg_live_applications.district IS 'Applicant''s district, from the citizen version valid at submission (Unknown for an unknown citizen).';
COMMENT ON COLUMN public.agg_live_applications.applications_submitted IS 'Applications submitted that day in the group.';
COMMENT ON COLUMN public.agg_live_applications.applications_decided IS 'Of those, decided (approved or rejected) so far.';
COMMENT ON COLUMN public.agg_live_applications.applications_approved IS 'Of those, approved so far.';
COMMENT ON COLUMN public.agg_live_applications.applications_rejected IS 'Of those, rejected so far.';
COMMENT ON COLUMN public.agg_live_applications.applications_pending IS 'Of those, still submitted or under review.';
COMMENT ON COLUMN public.agg_live_applications.applications_withdrawn IS 'Of those, withdrawn by the citizen.';
COMMENT ON COLUMN public.agg_live_applications.sla_breaches IS 'Of those, decided later than the scheme''s SLA, or still pending longer than it (as of refreshed_at).';
COMMENT ON COLUMN public.agg_live_applications.amount_requested IS 'Sum of amounts requested, in rupees.';
COMMENT ON COLUMN public.agg_live_applications.amount_approved IS 'Sum of amounts approved, in rupees.';
COMMENT ON COLUMN public.agg_live_applications.refreshed_at IS 'When the group was last recomputed from captured changes.';
COMMENT ON COLUMN public.agg_live_applications.etl_batch_id IS 'Batch (etl_batches) of the change data capture apply that wrote the row.';
