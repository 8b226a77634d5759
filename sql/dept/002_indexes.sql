-- smart_dept indexes: every foreign key, status, queried timestamps, common composites.

CREATE INDEX departments_parent_department_id_idx ON departments (parent_department_id);
CREATE INDEX departments_status_idx               ON departments (status);
CREATE INDEX departments_updated_at_idx           ON departments (updated_at);

CREATE INDEX designations_status_idx              ON designations (status);
CREATE INDEX designations_updated_at_idx          ON designations (updated_at);

CREATE INDEX dept_users_department_id_idx         ON dept_users (department_id);
CREATE INDEX dept_users_designation_id_idx        ON dept_users (designation_id);
CREATE INDEX dept_users_status_idx                ON dept_users (status);
CREATE INDEX dept_users_updated_at_idx            ON dept_users (updated_at);

CREATE INDEX workflows_department_id_idx          ON workflows (department_id);
CREATE INDEX workflows_scheme_code_idx            ON workflows (scheme_code);
CREATE INDEX workflows_status_idx                 ON workflows (status);
CREATE INDEX workflows_updated_at_idx             ON workflows (updated_at);

CREATE INDEX approval_chains_designation_id_idx   ON approval_chains (designation_id);
CREATE INDEX approval_chains_workflow_id_idx      ON approval_chains (workflow_id);
CREATE INDEX approval_chains_status_idx           ON approval_chains (status);

CREATE INDEX application_assignments_application_id_idx ON application_assignments (application_id);
CREATE INDEX application_assignments_department_id_idx  ON application_assignments (department_id);
CREATE INDEX application_assignments_officer_status_idx
    ON application_assignments (officer_id, assignment_status);
CREATE INDEX application_assignments_workflow_id_idx    ON application_assignments (workflow_id);
CREATE INDEX application_assignments_status_idx         ON application_assignments (status);
CREATE INDEX application_assignments_assigned_at_idx    ON application_assignments (assigned_at);
CREATE INDEX application_assignments_updated_at_idx     ON application_assignments (updated_at);

CREATE INDEX processing_actions_action_at_idx           ON processing_actions (action_at);
CREATE INDEX processing_actions_application_action_at_idx ON processing_actions (application_id, action_at);
CREATE INDEX processing_actions_updated_at_idx          ON processing_actions (updated_at);
CREATE INDEX processing_actions_assignment_id_idx       ON processing_actions (assignment_id);
CREATE INDEX processing_actions_department_action_at_idx ON processing_actions (department_id, action_at);
CREATE INDEX processing_actions_officer_id_idx          ON processing_actions (officer_id);
CREATE INDEX processing_actions_status_idx              ON processing_actions (status);

CREATE INDEX document_verifications_document_id_idx     ON document_verifications (document_id);
CREATE INDEX document_verifications_application_id_idx  ON document_verifications (application_id);
CREATE INDEX document_verifications_department_id_idx   ON document_verifications (department_id);
CREATE INDEX document_verifications_officer_id_idx      ON document_verifications (officer_id);
CREATE INDEX document_verifications_status_idx          ON document_verifications (status);
CREATE INDEX document_verifications_verified_at_idx     ON document_verifications (verified_at);
CREATE INDEX document_verifications_updated_at_idx      ON document_verifications (updated_at);

-- dashboard_metrics (department_id, metric_date, metric_name) is covered by its unique constraint.
CREATE INDEX dashboard_metrics_metric_date_idx          ON dashboard_metrics (metric_date);
CREATE INDEX dashboard_metrics_status_idx               ON dashboard_metrics (status);
CREATE INDEX dashboard_metrics_updated_at_idx           ON dashboard_metrics (updated_at);

CREATE INDEX dept_notifications_user_sent_idx           ON dept_notifications (dept_user_id, sent_at DESC);
CREATE INDEX dept_notifications_department_id_idx       ON dept_notifications (department_id);
CREATE INDEX dept_notifications_application_id_idx      ON dept_notifications (application_id);
CREATE INDEX dept_notifications_status_idx              ON dept_notifications (status);
CREATE INDEX dept_notifications_sent_at_idx             ON dept_notifications (sent_at);
CREATE INDEX dept_notifications_updated_at_idx          ON dept_notifications (updated_at);

CREATE INDEX dept_audit_log_actor_user_id_idx           ON dept_audit_log (actor_user_id);
CREATE INDEX dept_audit_log_entity_idx                  ON dept_audit_log (entity_table, entity_id, changed_at);
CREATE INDEX dept_audit_log_changed_at_idx              ON dept_audit_log (changed_at);
CREATE INDEX dept_audit_log_status_idx                  ON dept_audit_log (status);
CREATE INDEX dept_audit_log_updated_at_idx              ON dept_audit_log (updated_at);
