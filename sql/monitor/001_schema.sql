-- smart_monitor: monitoring and administration of the platform (OLTP).

CREATE TABLE system_components (
    component_id        uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    component_code      text NOT NULL UNIQUE,
    component_name      text NOT NULL,
    component_type      text NOT NULL,
    data_centre         text,
    host_name           text,
    environment         text NOT NULL DEFAULT 'production'
                        CHECK (environment IN ('production', 'staging', 'development')),
    description         text,
    status              text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive')),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    created_by          text,
    updated_by          text
);
COMMENT ON TABLE system_components IS 'Monitored parts of the platform: portals, databases, pipelines, gateways.';

CREATE TABLE health_checks (
    health_check_id     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    component_id        uuid NOT NULL REFERENCES system_components (component_id),
    status              text NOT NULL CHECK (status IN ('healthy', 'degraded', 'down')),
    checked_at          timestamptz NOT NULL,
    response_ms         integer CHECK (response_ms >= 0),
    details             jsonb,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    created_by          text,
    updated_by          text
);
COMMENT ON TABLE health_checks IS 'Periodic health probes of each component (status is the probe result).';

CREATE TABLE system_metrics (
    system_metric_id    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    component_id        uuid NOT NULL REFERENCES system_components (component_id),
    metric_name         text NOT NULL,
    metric_value        double precision NOT NULL,
    unit                text,
    recorded_at         timestamptz NOT NULL,
    status              text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deleted')),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    created_by          text,
    updated_by          text
);
COMMENT ON TABLE system_metrics IS 'Resource samples per component: CPU, memory, disk, connections.';

CREATE TABLE performance_metrics (
    performance_metric_id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    component_id        uuid NOT NULL REFERENCES system_components (component_id),
    endpoint            text NOT NULL,
    window_start        timestamptz NOT NULL,
    window_end          timestamptz NOT NULL,
    request_count       integer NOT NULL CHECK (request_count >= 0),
    error_count         integer NOT NULL CHECK (error_count >= 0),
    p50_ms              integer CHECK (p50_ms >= 0),
    p95_ms              integer CHECK (p95_ms >= 0),
    p99_ms              integer CHECK (p99_ms >= 0),
    status              text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deleted')),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    created_by          text,
    updated_by          text,
    CONSTRAINT performance_metrics_window CHECK (window_end > window_start),
    CONSTRAINT performance_metrics_errors CHECK (error_count <= request_count)
);
COMMENT ON TABLE performance_metrics IS 'Request counts, errors and latency percentiles per endpoint and time window.';

CREATE TABLE system_logs (
    system_log_id       uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    component_id        uuid NOT NULL REFERENCES system_components (component_id),
    log_level           text NOT NULL CHECK (log_level IN ('debug', 'info', 'warning', 'error', 'critical')),
    message             text NOT NULL,
    logged_at           timestamptz NOT NULL,
    trace_id            text,
    context             jsonb,
    status              text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deleted')),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    created_by          text,
    updated_by          text
);
COMMENT ON TABLE system_logs IS 'Application log lines collected from the components (warnings and above, sampled info).';

CREATE TABLE log_aggregations (
    log_aggregation_id  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    component_id        uuid NOT NULL REFERENCES system_components (component_id),
    window_start        timestamptz NOT NULL,
    window_end          timestamptz NOT NULL,
    log_level           text NOT NULL CHECK (log_level IN ('debug', 'info', 'warning', 'error', 'critical')),
    log_count           integer NOT NULL CHECK (log_count >= 0),
    status              text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deleted')),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    created_by          text,
    updated_by          text,
    CONSTRAINT log_aggregations_window CHECK (window_end > window_start),
    CONSTRAINT log_aggregations_unique UNIQUE (component_id, window_start, log_level)
);
COMMENT ON TABLE log_aggregations IS 'Hourly log counts per component and level.';

CREATE TABLE alert_rules (
    alert_rule_id       uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    rule_code           text NOT NULL UNIQUE,
    rule_name           text,
    component_id        uuid REFERENCES system_components (component_id),
    metric_name         text,
    severity            text NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
    condition           text NOT NULL,
    threshold           double precision,
    status              text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive', 'deleted')),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    created_by          text,
    updated_by          text
);
COMMENT ON TABLE alert_rules IS 'Alerting rules: the condition on a metric or health check that opens an incident.';

CREATE TABLE alert_incidents (
    incident_id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    alert_rule_id       uuid REFERENCES alert_rules (alert_rule_id),
    component_id        uuid NOT NULL REFERENCES system_components (component_id),
    severity            text NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
    title               text NOT NULL,
    incident_status     text NOT NULL DEFAULT 'open'
                        CHECK (incident_status IN ('open', 'acknowledged', 'resolved')),
    opened_at           timestamptz NOT NULL,
    acknowledged_at     timestamptz,
    resolved_at         timestamptz,
    details             jsonb,
    status              text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deleted')),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    created_by          text,
    updated_by          text,
    CONSTRAINT alert_incidents_resolved_has_time
        CHECK (incident_status <> 'resolved' OR resolved_at IS NOT NULL)
);
COMMENT ON TABLE alert_incidents IS 'Incidents opened by alert rules (or by the pipeline), until resolved.';

CREATE TABLE admin_users (
    admin_user_id       uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    username            text NOT NULL UNIQUE,
    full_name           text NOT NULL,
    email               text,
    role                text NOT NULL CHECK (role IN ('superadmin', 'operator', 'auditor', 'viewer')),
    last_login_at       timestamptz,
    status              text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive', 'deleted')),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    created_by          text,
    updated_by          text
);
COMMENT ON TABLE admin_users IS 'Platform administrators and operators (synthetic staff PII).';

CREATE TABLE monitor_audit_log (
    monitor_audit_id    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    admin_user_id       uuid REFERENCES admin_users (admin_user_id),
    entity_table        text NOT NULL,
    entity_id           uuid,
    action              text NOT NULL,
    changed_at          timestamptz NOT NULL,
    old_values          jsonb,
    new_values          jsonb,
    status              text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deleted')),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    created_by          text,
    updated_by          text
);
COMMENT ON TABLE monitor_audit_log IS 'Administrative actions: logins, rule changes, incident handling.';
