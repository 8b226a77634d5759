-- smart_citizen: smart_etl_reader reads the columns the warehouse extracts and nothing else.
-- citizens holds personal data: the reader gets the view citizens_for_warehouse (birth
-- year, no name, contact, identity number or address) plus the key and lifecycle columns
-- of citizens that the source observation and change detection count. remarks and the
-- created_by/updated_by user names of service_applications and payments, and a payment's
-- transaction_ref, stay out of reach too.
-- TEMPORARY: the extraction streams the keys it looks up into a temporary table here.

DO $$
BEGIN
    EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO smart_etl_reader', current_database());
END
$$;

GRANT SELECT ON public.citizens_for_warehouse TO smart_etl_reader;
GRANT SELECT (citizen_id, status, created_at, updated_at) ON public.citizens TO smart_etl_reader;
GRANT SELECT (scheme_id, scheme_code, scheme_name, category, department_code, benefit_amount,
              sla_days, status, created_at, updated_at)
    ON public.schemes TO smart_etl_reader;
GRANT SELECT (application_id, application_number, citizen_id, scheme_id, status, channel,
              submitted_at, decided_at, amount_requested, amount_approved, created_at, updated_at)
    ON public.service_applications TO smart_etl_reader;
GRANT SELECT (payment_id, application_id, citizen_id, amount, payment_mode, payment_status, paid_at,
              status, created_at, updated_at)
    ON public.payments TO smart_etl_reader;
