-- smart_monitor indexes: every foreign key, status, queried timestamps, common composites.

CREATE INDEX system_components_status_idx       ON system_components (status);
CREATE INDEX system_components_updated_at_idx   ON system_components (updated_at);

CREATE INDEX health_checks_component_checked_idx ON health_checks (component_id, checked_at);
CREATE INDEX health_checks_checked_at_idx       ON health_checks (checked_at);
CREATE INDEX health_checks_status_idx           ON health_checks (status);
CREATE INDEX health_checks_updated_at_idx       ON health_checks (updated_at);

CREATE INDEX system_metrics_component_name_recorded_idx
    ON system_metrics (component_id, metric_name, recorded_at);
CREATE INDEX system_metrics_recorded_at_idx     ON system_metrics (recorded_at);
CREATE INDEX system_metrics_status_idx          ON system_metrics (status);
CREATE INDEX system_metrics_updated_at_idx      ON system_metrics (updated_at);

CREATE INDEX performance_metrics_component_window_idx ON performance_metrics (component_id, window_start);
CREATE INDEX performance_metrics_window_start_idx ON performance_metrics (window_start);
CREATE INDEX performance_metrics_status_idx     ON performance_metrics (status);
CREATE INDEX performance_metrics_updated_at_idx ON performance_metrics (updated_at);

CREATE INDEX system_logs_component_logged_idx   ON system_logs (component_id, logged_at);
CREATE INDEX system_logs_level_logged_idx       ON system_logs (log_level, logged_at);
CREATE INDEX system_logs_logged_at_idx          ON system_logs (logged_at);
CREATE INDEX system_logs_status_idx             ON system_logs (status);
CREATE INDEX system_logs_updated_at_idx         ON system_logs (updated_at);

-- log_aggregations (component_id, window_start, log_level) is covered by its unique constraint.
CREATE INDEX log_aggregations_window_start_idx  ON log_aggregations (window_start);
CREATE INDEX log_aggregations_status_idx        ON log_aggregations (status);
CREATE INDEX log_aggregations_updated_at_idx    ON log_aggregations (updated_at);

CREATE INDEX alert_rules_component_id_idx       ON alert_rules (component_id);
CREATE INDEX alert_rules_status_idx             ON alert_rules (status);
CREATE INDEX alert_rules_updated_at_idx         ON alert_rules (updated_at);

CREATE INDEX alert_incidents_alert_rule_id_idx  ON alert_incidents (alert_rule_id);
CREATE INDEX alert_incidents_component_opened_idx ON alert_incidents (component_id, opened_at);
CREATE INDEX alert_incidents_incident_status_idx ON alert_incidents (incident_status, severity);
CREATE INDEX alert_incidents_opened_at_idx      ON alert_incidents (opened_at);
CREATE INDEX alert_incidents_status_idx         ON alert_incidents (status);
CREATE INDEX alert_incidents_updated_at_idx     ON alert_incidents (updated_at);

CREATE INDEX admin_users_status_idx             ON admin_users (status);
CREATE INDEX admin_users_updated_at_idx         ON admin_users (updated_at);

CREATE INDEX monitor_audit_log_admin_user_id_idx ON monitor_audit_log (admin_user_id);
CREATE INDEX monitor_audit_log_entity_idx       ON monitor_audit_log (entity_table, entity_id);
CREATE INDEX monitor_audit_log_changed_at_idx   ON monitor_audit_log (changed_at);
CREATE INDEX monitor_audit_log_status_idx       ON monitor_audit_log (status);
CREATE INDEX monitor_audit_log_updated_at_idx   ON monitor_audit_log (updated_at);
