-- smart_dept: the internal department workflow portal (OLTP, 3NF).
-- Application ids and document ids refer to smart_citizen, a different database:
-- they are plain uuid columns, never foreign keys.

CREATE TABLE departments (
    department_id        uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    department_code      text NOT NULL UNIQUE,
    department_name      text NOT NULL,
    parent_department_id uuid REFERENCES departments (department_id),
    department_type      text NOT NULL CHECK (department_type IN ('state', 'department', 'district_office')),
    district             text,
    email                text,
    phone                text,
    status               text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive')),
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    created_by           text,
    updated_by           text,
    CONSTRAINT departments_not_own_parent CHECK (parent_department_id <> department_id)
);
COMMENT ON TABLE departments IS 'Department hierarchy: the state, its line departments and their district offices.';

CREATE TABLE designations (
    designation_id      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    designation_code    text NOT NULL UNIQUE,
    designation_name    text NOT NULL,
    grade_level         smallint NOT NULL CHECK (grade_level BETWEEN 1 AND 10),
    can_approve         boolean NOT NULL DEFAULT false,
    status              text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive')),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    created_by          text,
    updated_by          text
);
COMMENT ON TABLE designations IS 'Official posts (clerk, section officer, deputy director...) and their grade.';

CREATE TABLE dept_users (
    dept_user_id        uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    department_id       uuid NOT NULL REFERENCES departments (department_id),
    designation_id      uuid NOT NULL REFERENCES designations (designation_id),
    employee_code       text NOT NULL UNIQUE,
    full_name           text NOT NULL,
    email               text,
    phone               text,
    role                text NOT NULL CHECK (role IN ('officer', 'supervisor', 'admin', 'viewer')),
    joined_on           date,
    status              text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive', 'deleted')),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    created_by          text,
    updated_by          text
);
COMMENT ON TABLE dept_users IS 'Department staff who process applications (officers); names and contacts are staff PII.';

CREATE TABLE workflows (
    workflow_id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workflow_code       text NOT NULL UNIQUE,
    workflow_name       text NOT NULL,
    scheme_code         text NOT NULL,  -- schemes live in smart_citizen: no FK
    department_id       uuid NOT NULL REFERENCES departments (department_id),
    total_steps         smallint NOT NULL CHECK (total_steps >= 1),
    version             integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    status              text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive', 'retired')),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    created_by          text,
    updated_by          text
);
COMMENT ON TABLE workflows IS 'The processing workflow a department follows for one scheme.';

CREATE TABLE approval_chains (
    approval_chain_id   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workflow_id         uuid NOT NULL REFERENCES workflows (workflow_id),
    step_number         smallint NOT NULL CHECK (step_number >= 1),
    designation_id      uuid NOT NULL REFERENCES designations (designation_id),
    action_required     text NOT NULL,
    sla_hours           integer NOT NULL CHECK (sla_hours > 0),
    is_final            boolean NOT NULL DEFAULT false,
    status              text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive')),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    created_by          text,
    updated_by          text,
    CONSTRAINT approval_chains_step_unique UNIQUE (workflow_id, step_number)
);
COMMENT ON TABLE approval_chains IS 'Ordered steps of a workflow: which designation acts at each step and within how many hours.';

CREATE TABLE application_assignments (
    assignment_id       uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    application_id      uuid NOT NULL,  -- smart_citizen.service_applications: no FK
    department_id       uuid NOT NULL REFERENCES departments (department_id),
    officer_id          uuid REFERENCES dept_users (dept_user_id),
    workflow_id         uuid REFERENCES workflows (workflow_id),
    assigned_at         timestamptz NOT NULL,
    completed_at        timestamptz,
    priority            text NOT NULL DEFAULT 'normal' CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    assignment_status   text NOT NULL DEFAULT 'assigned'
                        CHECK (assignment_status IN ('assigned', 'in_progress', 'completed', 'reassigned')),
    status              text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deleted')),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    created_by          text,
    updated_by          text
);
COMMENT ON TABLE application_assignments IS 'Which office and officer an application is assigned to, and when it was completed.';

CREATE TABLE processing_actions (
    action_id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    application_id      uuid NOT NULL,  -- smart_citizen.service_applications: no FK
    assignment_id       uuid REFERENCES application_assignments (assignment_id),
    department_id       uuid NOT NULL REFERENCES departments (department_id),
    officer_id          uuid REFERENCES dept_users (dept_user_id),
    action_type         text NOT NULL
                        CHECK (action_type IN ('received', 'document_check', 'field_verification', 'forwarded',
                                               'returned', 'approved', 'rejected', 'closed')),
    action_at           timestamptz NOT NULL,
    step_number         integer NOT NULL CHECK (step_number >= 1),
    remarks             text,
    status              text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deleted')),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    created_by          text,
    updated_by          text
);
COMMENT ON TABLE processing_actions IS 'Each step an office takes on an application, numbered 1..n per application.';

CREATE TABLE document_verifications (
    verification_id     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    document_id         uuid NOT NULL,  -- smart_citizen.documents: no FK
    application_id      uuid NOT NULL,  -- smart_citizen.service_applications: no FK
    department_id       uuid NOT NULL REFERENCES departments (department_id),
    officer_id          uuid REFERENCES dept_users (dept_user_id),
    verification_result text NOT NULL
                        CHECK (verification_result IN ('verified', 'rejected', 'needs_resubmission')),
    verified_at         timestamptz NOT NULL,
    remarks             text,
    status              text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deleted')),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    created_by          text,
    updated_by          text
);
COMMENT ON TABLE document_verifications IS 'Officers'' verdicts on the documents attached to applications.';

CREATE TABLE dashboard_metrics (
    dashboard_metric_id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    department_id       uuid NOT NULL REFERENCES departments (department_id),
    metric_date         date NOT NULL,
    metric_name         text NOT NULL,
    metric_value        numeric(14,2) NOT NULL,
    status              text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deleted')),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    created_by          text,
    updated_by          text,
    CONSTRAINT dashboard_metrics_unique UNIQUE (department_id, metric_date, metric_name)
);
COMMENT ON TABLE dashboard_metrics IS 'Daily per-department figures shown on the department dashboard (received, disposed, pending...).';

CREATE TABLE dept_notifications (
    dept_notification_id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    dept_user_id        uuid NOT NULL REFERENCES dept_users (dept_user_id),
    department_id       uuid NOT NULL REFERENCES departments (department_id),
    application_id      uuid,  -- smart_citizen.service_applications: no FK
    notification_type   text NOT NULL
                        CHECK (notification_type IN ('assignment', 'sla_warning', 'sla_breach', 'escalation', 'system')),
    message             text NOT NULL,
    sent_at             timestamptz NOT NULL,
    read_at             timestamptz,
    status              text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deleted')),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    created_by          text,
    updated_by          text
);
COMMENT ON TABLE dept_notifications IS 'Alerts to department staff: new assignments, SLA warnings and breaches, escalations.';

CREATE TABLE dept_audit_log (
    dept_audit_id       uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    actor_user_id       uuid REFERENCES dept_users (dept_user_id),
    entity_table        text NOT NULL,
    entity_id           uuid NOT NULL,
    action              text NOT NULL CHECK (action IN ('insert', 'update', 'delete')),
    changed_at          timestamptz NOT NULL,
    old_values          jsonb,
    new_values          jsonb,
    status              text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deleted')),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    created_by          text,
    updated_by          text
);
COMMENT ON TABLE dept_audit_log IS 'Change trail of the department portal.';
