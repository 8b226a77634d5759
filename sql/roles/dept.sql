-- smart_dept: smart_etl_reader reads the columns the warehouse extracts and nothing else
-- (not the offices' e-mail and phone, not the officers' names, e-mails, phones or employee
-- codes, not remarks or the user names in created_by/updated_by). Of an officer it reads
-- only the designation.

GRANT SELECT (department_id, department_code, department_name, parent_department_id,
              department_type, district, status, created_at, updated_at)
    ON public.departments TO smart_etl_reader;
GRANT SELECT (action_id, application_id, assignment_id, department_id, officer_id, action_type, action_at,
              step_number, status, created_at, updated_at)
    ON public.processing_actions TO smart_etl_reader;
GRANT SELECT (designation_id, designation_code, designation_name, grade_level, can_approve, status,
              created_at, updated_at)
    ON public.designations TO smart_etl_reader;
GRANT SELECT (dept_user_id, designation_id, updated_at) ON public.dept_users TO smart_etl_reader;
GRANT SELECT (assignment_id, workflow_id, priority, updated_at) ON public.application_assignments TO smart_etl_reader;
GRANT SELECT (approval_chain_id, workflow_id, step_number, action_required, sla_hours, is_final, updated_at)
    ON public.approval_chains TO smart_etl_reader;
