-- Staging: the validated, cleaned copy of what the warehouse read from the portals, and
-- the quarantine for rows that failed validation. Personal data never lands here: the
-- extraction selects only the columns below (a birth year, not a date of birth).
-- Unlogged: staging is rebuilt from the portals, so it trades crash safety for speed.

CREATE SCHEMA IF NOT EXISTS staging;
COMMENT ON SCHEMA staging IS 'Extracted, validated portal rows and the quarantine (rejected_rows). Not for analysts.';

CREATE UNLOGGED TABLE staging.citizens (
    citizen_id   uuid PRIMARY KEY,
    gender       text        NOT NULL,
    birth_year   smallint,
    city         text,
    district     text,
    state        text,
    status       text        NOT NULL,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    etl_batch_id bigint      NOT NULL
);
COMMENT ON TABLE staging.citizens IS 'Citizens as last extracted from smart_citizen, cleaned, without personal data. Grain: one row per citizen.';
COMMENT ON COLUMN staging.citizens.citizen_id IS 'citizens.citizen_id.';
COMMENT ON COLUMN staging.citizens.gender IS 'Gender mapped to male, female, other or unknown.';
COMMENT ON COLUMN staging.citizens.birth_year IS 'Year of date_of_birth (computed in the portal; the date never leaves it).';
COMMENT ON COLUMN staging.citizens.city IS 'City, trimmed.';
COMMENT ON COLUMN staging.citizens.district IS 'District, trimmed, spaces collapsed, spelled one way.';
COMMENT ON COLUMN staging.citizens.state IS 'State, trimmed.';
COMMENT ON COLUMN staging.citizens.status IS 'Account status.';
COMMENT ON COLUMN staging.citizens.created_at IS 'Source created_at.';
COMMENT ON COLUMN staging.citizens.updated_at IS 'Source updated_at.';
COMMENT ON COLUMN staging.citizens.etl_batch_id IS 'Batch that extracted the row.';

CREATE UNLOGGED TABLE staging.schemes (
    scheme_id       uuid PRIMARY KEY,
    scheme_code     text        NOT NULL,
    scheme_name     text        NOT NULL,
    category        text        NOT NULL,
    department_code text,
    benefit_amount  numeric(12, 2),
    sla_days        integer,
    status          text        NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    etl_batch_id    bigint      NOT NULL
);
COMMENT ON TABLE staging.schemes IS 'Schemes as last extracted from smart_citizen. Grain: one row per scheme.';
COMMENT ON COLUMN staging.schemes.scheme_id IS 'schemes.scheme_id.';
COMMENT ON COLUMN staging.schemes.scheme_code IS 'Scheme code, trimmed and upper-case.';
COMMENT ON COLUMN staging.schemes.scheme_name IS 'Scheme name, trimmed.';
COMMENT ON COLUMN staging.schemes.category IS 'Category, trimmed and lower-case.';
COMMENT ON COLUMN staging.schemes.department_code IS 'Owning department code, trimmed and upper-case.';
COMMENT ON COLUMN staging.schemes.benefit_amount IS 'Benefit amount in rupees.';
COMMENT ON COLUMN staging.schemes.sla_days IS 'SLA in days.';
COMMENT ON COLUMN staging.schemes.status IS 'Scheme status.';
COMMENT ON COLUMN staging.schemes.created_at IS 'Source created_at.';
COMMENT ON COLUMN staging.schemes.updated_at IS 'Source updated_at.';
COMMENT ON COLUMN staging.schemes.etl_batch_id IS 'Batch that extracted the row.';

CREATE UNLOGGED TABLE staging.departments (
    department_id          uuid PRIMARY KEY,
    department_code        text        NOT NULL,
    department_name        text        NOT NULL,
    parent_department_id   uuid,
    department_type        text,
    district               text,
    status                 text        NOT NULL,
    created_at             timestamptz NOT NULL,
    updated_at             timestamptz NOT NULL,
    etl_batch_id           bigint      NOT NULL
);
COMMENT ON TABLE staging.departments IS 'Departments as last extracted from smart_dept. Grain: one row per department.';
COMMENT ON COLUMN staging.departments.department_id IS 'departments.department_id.';
COMMENT ON COLUMN staging.departments.department_code IS 'Department code, trimmed and upper-case.';
COMMENT ON COLUMN staging.departments.department_name IS 'Department name, trimmed.';
COMMENT ON COLUMN staging.departments.parent_department_id IS 'Parent department id; null at the top.';
COMMENT ON COLUMN staging.departments.department_type IS 'state, department or district_office.';
COMMENT ON COLUMN staging.departments.district IS 'District served, for district offices.';
COMMENT ON COLUMN staging.departments.status IS 'Department status.';
COMMENT ON COLUMN staging.departments.created_at IS 'Source created_at.';
COMMENT ON COLUMN staging.departments.updated_at IS 'Source updated_at.';
COMMENT ON COLUMN staging.departments.etl_batch_id IS 'Batch that extracted the row.';

CREATE UNLOGGED TABLE staging.service_applications (
    application_id     uuid PRIMARY KEY,
    application_number text        NOT NULL,
    citizen_id         uuid        NOT NULL,
    scheme_id          uuid        NOT NULL,
    status             text        NOT NULL,
    channel            text,
    submitted_at       timestamptz NOT NULL,
    decided_at         timestamptz,
    amount_requested   numeric(12, 2),
    amount_approved    numeric(12, 2),
    updated_at         timestamptz NOT NULL,
    partition_date     date        NOT NULL,
    etl_batch_id       bigint      NOT NULL
);
CREATE INDEX staging_service_applications_partition_idx ON staging.service_applications (partition_date);
COMMENT ON TABLE staging.service_applications IS 'Submitted applications that passed validation, per IST submission day. Grain: one row per application.';
COMMENT ON COLUMN staging.service_applications.application_id IS 'service_applications.application_id.';
COMMENT ON COLUMN staging.service_applications.application_number IS 'Application number.';
COMMENT ON COLUMN staging.service_applications.citizen_id IS 'Applicant citizen_id.';
COMMENT ON COLUMN staging.service_applications.scheme_id IS 'Scheme applied for.';
COMMENT ON COLUMN staging.service_applications.status IS 'Status, in the contract vocabulary.';
COMMENT ON COLUMN staging.service_applications.channel IS 'Submission channel.';
COMMENT ON COLUMN staging.service_applications.submitted_at IS 'Submission time.';
COMMENT ON COLUMN staging.service_applications.decided_at IS 'Decision time (approved or rejected only).';
COMMENT ON COLUMN staging.service_applications.amount_requested IS 'Amount requested.';
COMMENT ON COLUMN staging.service_applications.amount_approved IS 'Amount approved.';
COMMENT ON COLUMN staging.service_applications.updated_at IS 'Source updated_at (for change detection).';
COMMENT ON COLUMN staging.service_applications.partition_date IS 'IST day of submitted_at: the partition.';
COMMENT ON COLUMN staging.service_applications.etl_batch_id IS 'Batch that extracted the row.';

CREATE UNLOGGED TABLE staging.processing_actions (
    action_id              uuid PRIMARY KEY,
    application_id         uuid        NOT NULL,
    department_id          uuid        NOT NULL,
    action_type            text        NOT NULL,
    action_at              timestamptz NOT NULL,
    step_number            integer     NOT NULL,
    previous_action_at     timestamptz,
    application_scheme_id  uuid,
    application_submitted_at timestamptz,
    updated_at             timestamptz NOT NULL,
    partition_date         date        NOT NULL,
    etl_batch_id           bigint      NOT NULL
);
CREATE INDEX staging_processing_actions_partition_idx ON staging.processing_actions (partition_date);
COMMENT ON TABLE staging.processing_actions IS 'Processing actions that passed validation, per IST action day, with what the fact needs from the application. Grain: one row per action.';
COMMENT ON COLUMN staging.processing_actions.action_id IS 'processing_actions.action_id.';
COMMENT ON COLUMN staging.processing_actions.application_id IS 'Application acted on.';
COMMENT ON COLUMN staging.processing_actions.department_id IS 'Department whose officer acted.';
COMMENT ON COLUMN staging.processing_actions.action_type IS 'Action type.';
COMMENT ON COLUMN staging.processing_actions.action_at IS 'When the action was taken.';
COMMENT ON COLUMN staging.processing_actions.step_number IS 'Step number within the application.';
COMMENT ON COLUMN staging.processing_actions.previous_action_at IS 'Time of the application''s previous action (any day); null for its first.';
COMMENT ON COLUMN staging.processing_actions.application_scheme_id IS 'Scheme of the application, from smart_citizen; null when the application is unknown there.';
COMMENT ON COLUMN staging.processing_actions.application_submitted_at IS 'Submission time of the application, from smart_citizen.';
COMMENT ON COLUMN staging.processing_actions.updated_at IS 'Source updated_at.';
COMMENT ON COLUMN staging.processing_actions.partition_date IS 'IST day of action_at: the partition.';
COMMENT ON COLUMN staging.processing_actions.etl_batch_id IS 'Batch that extracted the row.';

CREATE UNLOGGED TABLE staging.predictions (
    prediction_id      uuid PRIMARY KEY,
    application_id     uuid,
    citizen_id         uuid,
    scheme_id          uuid,
    model_name         text,
    model_version      text        NOT NULL,
    eligibility_score  numeric(5, 4),
    confidence_score   numeric(5, 4),
    predicted_label    text,
    predicted_at       timestamptz NOT NULL,
    application_status text,
    updated_at         timestamptz NOT NULL,
    partition_date     date        NOT NULL,
    etl_batch_id       bigint      NOT NULL
);
CREATE INDEX staging_predictions_partition_idx ON staging.predictions (partition_date);
COMMENT ON TABLE staging.predictions IS 'Eligibility predictions that passed validation, per IST prediction day, with the application''s current status. Grain: one row per prediction.';
COMMENT ON COLUMN staging.predictions.prediction_id IS 'predictions.prediction_id.';
COMMENT ON COLUMN staging.predictions.application_id IS 'Application scored.';
COMMENT ON COLUMN staging.predictions.citizen_id IS 'Citizen scored.';
COMMENT ON COLUMN staging.predictions.scheme_id IS 'Scheme applied for.';
COMMENT ON COLUMN staging.predictions.model_name IS 'Model name, from ml_models.';
COMMENT ON COLUMN staging.predictions.model_version IS 'Model version, from ml_models.';
COMMENT ON COLUMN staging.predictions.eligibility_score IS 'Eligibility score.';
COMMENT ON COLUMN staging.predictions.confidence_score IS 'Confidence score.';
COMMENT ON COLUMN staging.predictions.predicted_label IS 'Label the model predicted.';
COMMENT ON COLUMN staging.predictions.predicted_at IS 'When the prediction was made.';
COMMENT ON COLUMN staging.predictions.application_status IS 'Current status of the application in smart_citizen; null when unknown there.';
COMMENT ON COLUMN staging.predictions.updated_at IS 'Source updated_at.';
COMMENT ON COLUMN staging.predictions.partition_date IS 'IST day of predicted_at: the partition.';
COMMENT ON COLUMN staging.predictions.etl_batch_id IS 'Batch that extracted the row.';

CREATE TABLE staging.rejected_rows (
    rejected_id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    batch_id        bigint      NOT NULL REFERENCES public.etl_batches (batch_id),
    source_database text        NOT NULL,
    source_table    text        NOT NULL,
    source_pk       text        NOT NULL,
    partition_key   text,
    partition_date  date,
    reason          text        NOT NULL,
    payload         jsonb       NOT NULL,
    rejected_at     timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX rejected_rows_batch_idx ON staging.rejected_rows (batch_id);
CREATE INDEX rejected_rows_source_idx ON staging.rejected_rows (source_table, partition_date);
CREATE UNIQUE INDEX rejected_rows_source_pk_uq ON staging.rejected_rows (source_database, source_table, source_pk);
COMMENT ON TABLE staging.rejected_rows IS 'Quarantine: portal rows that failed validation, with the reason and the row without personal fields. Grain: one row per rejected source row.';
COMMENT ON COLUMN staging.rejected_rows.rejected_id IS 'Surrogate key.';
COMMENT ON COLUMN staging.rejected_rows.batch_id IS 'Batch that rejected the row.';
COMMENT ON COLUMN staging.rejected_rows.source_database IS 'Portal database, e.g. smart_citizen.';
COMMENT ON COLUMN staging.rejected_rows.source_table IS 'Portal table, e.g. service_applications.';
COMMENT ON COLUMN staging.rejected_rows.source_pk IS 'Primary key of the source row.';
COMMENT ON COLUMN staging.rejected_rows.partition_key IS 'Partition (IST day) the row belongs to; null for dimension sources.';
COMMENT ON COLUMN staging.rejected_rows.partition_date IS 'The same day as a date, for replacing a partition''s quarantine.';
COMMENT ON COLUMN staging.rejected_rows.reason IS 'Which rule the row broke, e.g. "decision before submission".';
COMMENT ON COLUMN staging.rejected_rows.payload IS 'The source row as JSON, personal fields removed.';
COMMENT ON COLUMN staging.rejected_rows.rejected_at IS 'When it was rejected.';
