-- smart_dept: smart_etl_reader reads the columns the warehouse extracts and nothing else
-- (not the offices' e-mail and phone, not officers, remarks or the user names in
-- created_by/updated_by).

GRANT SELECT (department_id, department_code, department_name, parent_department_id,
              department_type, district, status, created_at, updated_at)
    ON public.departments TO smart_etl_reader;
GRANT SELECT (action_id, application_id, department_id, action_type, action_at, step_number,
              status, created_at, updated_at)
    ON public.processing_actions TO smart_etl_reader;
