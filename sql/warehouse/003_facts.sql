-- Facts, partitioned (logically, by Dagster) by the IST day of their event. A partition
-- load deletes the days it covers and inserts them again in one transaction, so each
-- table has an index leading with its partition date key.
-- Foreign keys to the dimensions are deliberately absent: loads resolve every key
-- (unresolvable members point to -1) and the data-quality checks prove that each key
-- resolves, per partition, without taxing every insert of a backfill.

CREATE TABLE public.fact_service_applications (
    application_id     uuid PRIMARY KEY,
    application_number text           NOT NULL,
    citizen_key        bigint         NOT NULL,
    scheme_key         bigint         NOT NULL,
    department_key     bigint         NOT NULL,
    submitted_date_key integer        NOT NULL,
    decided_date_key   integer        NOT NULL DEFAULT -1,
    status             text           NOT NULL,
    channel            text,
    amount_requested   numeric(12, 2),
    amount_approved    numeric(12, 2),
    processing_days    integer,
    sla_days           integer,
    sla_met            boolean,
    submitted_at       timestamptz    NOT NULL,
    decided_at         timestamptz,
    etl_batch_id       bigint         NOT NULL REFERENCES public.etl_batches (batch_id)
);
CREATE INDEX fact_service_applications_submitted_idx ON public.fact_service_applications (submitted_date_key);
CREATE INDEX fact_service_applications_decided_idx ON public.fact_service_applications (decided_date_key);
CREATE INDEX fact_service_applications_citizen_idx ON public.fact_service_applications (citizen_key);
CREATE INDEX fact_service_applications_scheme_idx ON public.fact_service_applications (scheme_key, submitted_date_key);
CREATE INDEX fact_service_applications_department_idx ON public.fact_service_applications (department_key);
CREATE INDEX fact_service_applications_status_idx ON public.fact_service_applications (status);
CREATE INDEX fact_service_applications_batch_idx ON public.fact_service_applications (etl_batch_id);

COMMENT ON TABLE public.fact_service_applications IS 'Applications for schemes as an accumulating snapshot: decisions update the row. Grain: one row per submitted application. Partitioned by the IST day of submitted_at.';
COMMENT ON COLUMN public.fact_service_applications.application_id IS 'Natural key: service_applications.application_id in smart_citizen.';
COMMENT ON COLUMN public.fact_service_applications.application_number IS 'Application number shown to the citizen.';
COMMENT ON COLUMN public.fact_service_applications.citizen_key IS 'Applicant: the dim_citizen version valid at submission; -1 when unknown.';
COMMENT ON COLUMN public.fact_service_applications.scheme_key IS 'Scheme: the dim_scheme version valid at submission; -1 when unknown.';
COMMENT ON COLUMN public.fact_service_applications.department_key IS 'Department owning the scheme (the scheme version''s department_code), version valid at submission; -1 when unknown.';
COMMENT ON COLUMN public.fact_service_applications.submitted_date_key IS 'IST day of submission (YYYYMMDD); the partition key.';
COMMENT ON COLUMN public.fact_service_applications.decided_date_key IS 'IST day of the decision (YYYYMMDD); -1 while undecided.';
COMMENT ON COLUMN public.fact_service_applications.status IS 'Current status: submitted, under_review, approved, rejected or withdrawn. Decided means approved or rejected.';
COMMENT ON COLUMN public.fact_service_applications.channel IS 'Where it was submitted: web, mobile, csc (common service centre) or counter.';
COMMENT ON COLUMN public.fact_service_applications.amount_requested IS 'Amount requested, in rupees.';
COMMENT ON COLUMN public.fact_service_applications.amount_approved IS 'Amount approved, in rupees; null unless approved.';
COMMENT ON COLUMN public.fact_service_applications.processing_days IS 'IST calendar date of the decision minus IST calendar date of submission; null while undecided.';
COMMENT ON COLUMN public.fact_service_applications.sla_days IS 'The scheme version''s SLA at submission, in days.';
COMMENT ON COLUMN public.fact_service_applications.sla_met IS 'processing_days <= sla_days; null while undecided.';
COMMENT ON COLUMN public.fact_service_applications.submitted_at IS 'When the application was submitted.';
COMMENT ON COLUMN public.fact_service_applications.decided_at IS 'When it was approved or rejected; null while undecided.';
COMMENT ON COLUMN public.fact_service_applications.etl_batch_id IS 'Batch (etl_batches) that wrote the row.';

CREATE TABLE public.fact_application_processing (
    action_id                 uuid PRIMARY KEY,
    application_id            uuid           NOT NULL,
    department_key            bigint         NOT NULL,
    scheme_key                bigint         NOT NULL,
    acting_department_key     bigint         NOT NULL,
    action_date_key           integer        NOT NULL,
    action_type               text           NOT NULL,
    step_number               integer        NOT NULL,
    processing_minutes        numeric(12, 2),
    action_at                 timestamptz    NOT NULL,
    etl_batch_id              bigint         NOT NULL REFERENCES public.etl_batches (batch_id)
);
CREATE INDEX fact_application_processing_date_idx ON public.fact_application_processing (action_date_key);
CREATE INDEX fact_application_processing_application_idx ON public.fact_application_processing (application_id, step_number);
CREATE INDEX fact_application_processing_department_idx ON public.fact_application_processing (department_key);
CREATE INDEX fact_application_processing_scheme_idx ON public.fact_application_processing (scheme_key);
CREATE INDEX fact_application_processing_acting_idx ON public.fact_application_processing (acting_department_key);
CREATE INDEX fact_application_processing_batch_idx ON public.fact_application_processing (etl_batch_id);

COMMENT ON TABLE public.fact_application_processing IS 'Steps officers take on applications. Grain: one row per processing action. Partitioned by the IST day of action_at.';
COMMENT ON COLUMN public.fact_application_processing.action_id IS 'Natural key: processing_actions.action_id in smart_dept.';
COMMENT ON COLUMN public.fact_application_processing.application_id IS 'Application acted on (degenerate dimension; joins fact_service_applications).';
COMMENT ON COLUMN public.fact_application_processing.department_key IS 'Department owning the application''s scheme, version valid at the action; -1 when unknown.';
COMMENT ON COLUMN public.fact_application_processing.scheme_key IS 'Scheme of the application, version valid at the action; -1 when the application is unknown to the citizen portal.';
COMMENT ON COLUMN public.fact_application_processing.acting_department_key IS 'Department (or office) whose officer took the action, version valid at the action; -1 when unknown.';
COMMENT ON COLUMN public.fact_application_processing.action_date_key IS 'IST day of the action (YYYYMMDD); the partition key.';
COMMENT ON COLUMN public.fact_application_processing.action_type IS 'What was done: received, document_check, field_verification, forwarded, returned, approved, rejected, closed.';
COMMENT ON COLUMN public.fact_application_processing.step_number IS 'Position of the action in the application''s workflow, from 1.';
COMMENT ON COLUMN public.fact_application_processing.processing_minutes IS 'Minutes since the application''s previous action, or since its submission for the first action; null when neither is known.';
COMMENT ON COLUMN public.fact_application_processing.action_at IS 'When the action was taken.';
COMMENT ON COLUMN public.fact_application_processing.etl_batch_id IS 'Batch (etl_batches) that wrote the row.';

CREATE TABLE public.fact_eligibility_scoring (
    prediction_id       uuid PRIMARY KEY,
    application_id      uuid,
    citizen_key         bigint         NOT NULL,
    scheme_key          bigint         NOT NULL,
    department_key      bigint         NOT NULL,
    prediction_date_key integer        NOT NULL,
    model_version       text           NOT NULL,
    model_name          text,
    eligibility_score   numeric(5, 4),
    confidence_score    numeric(5, 4),
    predicted_eligible  boolean        NOT NULL,
    actual_outcome      text CHECK (actual_outcome IN ('approved', 'rejected')),
    is_correct          boolean,
    predicted_at        timestamptz    NOT NULL,
    etl_batch_id        bigint         NOT NULL REFERENCES public.etl_batches (batch_id)
);
CREATE INDEX fact_eligibility_scoring_date_idx ON public.fact_eligibility_scoring (prediction_date_key);
CREATE INDEX fact_eligibility_scoring_application_idx ON public.fact_eligibility_scoring (application_id);
CREATE INDEX fact_eligibility_scoring_citizen_idx ON public.fact_eligibility_scoring (citizen_key);
CREATE INDEX fact_eligibility_scoring_scheme_idx ON public.fact_eligibility_scoring (scheme_key);
CREATE INDEX fact_eligibility_scoring_department_idx ON public.fact_eligibility_scoring (department_key);
CREATE INDEX fact_eligibility_scoring_model_idx ON public.fact_eligibility_scoring (model_version);
CREATE INDEX fact_eligibility_scoring_batch_idx ON public.fact_eligibility_scoring (etl_batch_id);

COMMENT ON TABLE public.fact_eligibility_scoring IS 'Eligibility predictions of the ML portal, next to the decision the department actually took. Grain: one row per eligibility prediction. Partitioned by the IST day of predicted_at.';
COMMENT ON COLUMN public.fact_eligibility_scoring.prediction_id IS 'Natural key: predictions.prediction_id in smart_aiml.';
COMMENT ON COLUMN public.fact_eligibility_scoring.application_id IS 'Application scored (degenerate dimension; joins fact_service_applications).';
COMMENT ON COLUMN public.fact_eligibility_scoring.citizen_key IS 'Citizen scored, version valid at the prediction; -1 when unknown.';
COMMENT ON COLUMN public.fact_eligibility_scoring.scheme_key IS 'Scheme applied for, version valid at the prediction; -1 when unknown.';
COMMENT ON COLUMN public.fact_eligibility_scoring.department_key IS 'Department owning the scheme, version valid at the prediction; -1 when unknown.';
COMMENT ON COLUMN public.fact_eligibility_scoring.prediction_date_key IS 'IST day of the prediction (YYYYMMDD); the partition key.';
COMMENT ON COLUMN public.fact_eligibility_scoring.model_version IS 'Version of the model that scored.';
COMMENT ON COLUMN public.fact_eligibility_scoring.model_name IS 'Name of the model that scored.';
COMMENT ON COLUMN public.fact_eligibility_scoring.eligibility_score IS 'Predicted probability of eligibility, 0 to 1.';
COMMENT ON COLUMN public.fact_eligibility_scoring.confidence_score IS 'Model confidence in the prediction, 0 to 1.';
COMMENT ON COLUMN public.fact_eligibility_scoring.predicted_eligible IS 'True when the model predicted the citizen eligible.';
COMMENT ON COLUMN public.fact_eligibility_scoring.actual_outcome IS 'approved or rejected once the application is decided; null before (or when it was withdrawn).';
COMMENT ON COLUMN public.fact_eligibility_scoring.is_correct IS 'predicted_eligible = (actual_outcome = approved); null until decided.';
COMMENT ON COLUMN public.fact_eligibility_scoring.predicted_at IS 'When the prediction was made.';
COMMENT ON COLUMN public.fact_eligibility_scoring.etl_batch_id IS 'Batch (etl_batches) that wrote the row.';

CREATE TABLE public.agg_daily_applications (
    date_key                integer        NOT NULL,
    scheme_key              bigint         NOT NULL,
    department_key          bigint         NOT NULL,
    district                text           NOT NULL,
    applications_submitted  integer        NOT NULL,
    applications_approved   integer        NOT NULL,
    applications_rejected   integer        NOT NULL,
    applications_pending    integer        NOT NULL,
    applications_withdrawn  integer        NOT NULL,
    amount_requested        numeric(16, 2),
    amount_approved         numeric(16, 2),
    avg_processing_days     numeric(10, 4),
    sla_compliance_rate     numeric(6, 5) CHECK (sla_compliance_rate BETWEEN 0 AND 1),
    etl_batch_id            bigint         NOT NULL REFERENCES public.etl_batches (batch_id),
    PRIMARY KEY (date_key, scheme_key, department_key, district),
    CHECK (applications_submitted = applications_approved + applications_rejected
                                     + applications_pending + applications_withdrawn)
);
CREATE INDEX agg_daily_applications_scheme_idx ON public.agg_daily_applications (scheme_key);
CREATE INDEX agg_daily_applications_department_idx ON public.agg_daily_applications (department_key);
CREATE INDEX agg_daily_applications_batch_idx ON public.agg_daily_applications (etl_batch_id);

COMMENT ON TABLE public.agg_daily_applications IS 'Daily application volumes and outcomes. Grain: one row per submission day x scheme x department x applicant district. Partitioned by submission day; equals a GROUP BY over fact_service_applications for that day.';
COMMENT ON COLUMN public.agg_daily_applications.date_key IS 'IST submission day (YYYYMMDD); the partition key.';
COMMENT ON COLUMN public.agg_daily_applications.scheme_key IS 'Scheme version (as on the fact).';
COMMENT ON COLUMN public.agg_daily_applications.department_key IS 'Department version owning the scheme (as on the fact).';
COMMENT ON COLUMN public.agg_daily_applications.district IS 'Applicant''s district, from the citizen version valid at submission (Unknown for an unknown citizen).';
COMMENT ON COLUMN public.agg_daily_applications.applications_submitted IS 'Applications submitted that day in the group.';
COMMENT ON COLUMN public.agg_daily_applications.applications_approved IS 'Of those, approved so far.';
COMMENT ON COLUMN public.agg_daily_applications.applications_rejected IS 'Of those, rejected so far.';
COMMENT ON COLUMN public.agg_daily_applications.applications_pending IS 'Of those, still submitted or under review.';
COMMENT ON COLUMN public.agg_daily_applications.applications_withdrawn IS 'Of those, withdrawn by the citizen.';
COMMENT ON COLUMN public.agg_daily_applications.amount_requested IS 'Sum of amounts requested, in rupees.';
COMMENT ON COLUMN public.agg_daily_applications.amount_approved IS 'Sum of amounts approved, in rupees.';
COMMENT ON COLUMN public.agg_daily_applications.avg_processing_days IS 'Average processing_days over the group''s decided applications; null when none is decided.';
COMMENT ON COLUMN public.agg_daily_applications.sla_compliance_rate IS 'Fraction (0 to 1) of the group''s decided applications decided within the SLA; null when none is decided.';
COMMENT ON COLUMN public.agg_daily_applications.etl_batch_id IS 'Batch (etl_batches) that wrote the row.';
