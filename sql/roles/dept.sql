-- smart_dept: smart_etl_reader reads the columns the warehouse extracts and nothing else
-- (not the offices' e-mail and phone, not officers, remarks or the user names in
-- created_by/updated_by).

DO $$
BEGIN
    EXECUTE format('REVOKE ALL ON DATABASE %I FROM smart_etl_reader', current_database());
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO smart_etl_reader', current_database());
END
$$;

REVOKE ALL ON SCHEMA public FROM smart_etl_reader;
GRANT USAGE ON SCHEMA public TO smart_etl_reader;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM smart_etl_reader;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM smart_etl_reader;

GRANT SELECT (department_id, department_code, department_name, parent_department_id,
              department_type, district, status, created_at, updated_at)
    ON public.departments TO smart_etl_reader;
GRANT SELECT (action_id, application_id, department_id, action_type, action_at, step_number,
              status, created_at, updated_at)
    ON public.processing_actions TO smart_etl_reader;
