-- Money paid out: benefit payments of the citizen portal, staged per IST paid day and loaded
-- into fact_payments; each application carries what was disbursed to it so far. The
-- payment's transaction reference and the users who wrote the row stay in the portal.

CREATE UNLOGGED TABLE staging.payments (
    payment_id     uuid PRIMARY KEY,
    application_id uuid        NOT NULL,
    citizen_id     uuid        NOT NULL,
    scheme_id      uuid,
    amount         numeric(12, 2) NOT NULL,
    payment_mode   text        NOT NULL,
    payment_status text        NOT NULL,
    paid_at        timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    partition_date date        NOT NULL,
    etl_batch_id   bigint      NOT NULL
);
CREATE INDEX staging_payments_partition_idx ON staging.payments (partition_date);
CREATE INDEX staging_payments_application_idx ON staging.payments (application_id) INCLUDE (payment_status, amount);
COMMENT ON TABLE staging.payments IS 'Benefit payments that passed validation, per IST paid day, with the scheme of their application. Grain: one row per payment.';
COMMENT ON COLUMN staging.payments.payment_id IS 'payments.payment_id.';
COMMENT ON COLUMN staging.payments.application_id IS 'Application paid.';
COMMENT ON COLUMN staging.payments.citizen_id IS 'Citizen paid.';
COMMENT ON COLUMN staging.payments.scheme_id IS 'Scheme of the application (service_applications.scheme_id); null when the application is not found.';
COMMENT ON COLUMN staging.payments.amount IS 'Amount paid, in rupees.';
COMMENT ON COLUMN staging.payments.payment_mode IS 'Payment mode, lower case.';
COMMENT ON COLUMN staging.payments.payment_status IS 'Payment status, lower case.';
COMMENT ON COLUMN staging.payments.paid_at IS 'When the payment was made.';
COMMENT ON COLUMN staging.payments.updated_at IS 'Source updated_at (for change detection).';
COMMENT ON COLUMN staging.payments.partition_date IS 'IST day of paid_at: the partition.';
COMMENT ON COLUMN staging.payments.etl_batch_id IS 'Batch that extracted the row.';

CREATE TABLE public.fact_payments (
    payment_id     uuid PRIMARY KEY,
    application_id uuid           NOT NULL,
    citizen_key    bigint         NOT NULL,
    scheme_key     bigint         NOT NULL,
    department_key bigint         NOT NULL,
    paid_date_key  integer        NOT NULL,
    amount         numeric(12, 2) NOT NULL,
    payment_mode   text           NOT NULL,
    payment_status text           NOT NULL,
    paid_at        timestamptz    NOT NULL,
    etl_batch_id   bigint         NOT NULL
);
CREATE INDEX fact_payments_date_idx ON public.fact_payments (paid_date_key);
CREATE INDEX fact_payments_application_idx ON public.fact_payments (application_id) INCLUDE (payment_status, amount);
CREATE INDEX fact_payments_batch_idx ON public.fact_payments (etl_batch_id);

COMMENT ON TABLE public.fact_payments IS 'Benefit payments to citizens for their applications: money paid out, failed, initiated or reversed. Grain: one row per payment. Partitioned by the IST day of paid_at.';
COMMENT ON COLUMN public.fact_payments.payment_id IS 'Natural key: payments.payment_id in smart_citizen.';
COMMENT ON COLUMN public.fact_payments.application_id IS 'Application paid (degenerate dimension; joins fact_service_applications).';
COMMENT ON COLUMN public.fact_payments.citizen_key IS 'Citizen paid, the dim_citizen version valid at the payment; -1 when unknown.';
COMMENT ON COLUMN public.fact_payments.scheme_key IS 'Scheme of the application, version valid at the payment; -1 when unknown.';
COMMENT ON COLUMN public.fact_payments.department_key IS 'Department owning the scheme, version valid at the payment; -1 when unknown.';
COMMENT ON COLUMN public.fact_payments.paid_date_key IS 'IST day of the payment (YYYYMMDD); the partition key.';
COMMENT ON COLUMN public.fact_payments.amount IS 'Amount of the payment, in rupees (positive).';
COMMENT ON COLUMN public.fact_payments.payment_mode IS 'How it was paid: dbt (direct benefit transfer), neft, upi or cheque.';
COMMENT ON COLUMN public.fact_payments.payment_status IS 'initiated, success, failed or reversed; only success is money paid out.';
COMMENT ON COLUMN public.fact_payments.paid_at IS 'When the payment was made.';
COMMENT ON COLUMN public.fact_payments.etl_batch_id IS 'Batch (etl_batches) that wrote the row.';

ALTER TABLE public.fact_service_applications ADD COLUMN amount_disbursed numeric(12, 2);
COMMENT ON COLUMN public.fact_service_applications.amount_disbursed IS 'Rupees paid out to the application so far: the sum of its successful payments of any day, as staged (the same rows as fact_payments once every day is loaded; 0 when none); refreshed when a payment lands on it.';
