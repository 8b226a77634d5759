-- smart_citizen indexes: every foreign key, status, the timestamps that are queried
-- (incremental extraction reads updated_at), and composites for the portal's own screens.

CREATE INDEX citizens_status_idx            ON citizens (status);
CREATE INDEX citizens_updated_at_idx        ON citizens (updated_at);
CREATE INDEX citizens_state_district_idx    ON citizens (state, district);
CREATE INDEX citizens_phone_idx             ON citizens (phone);
CREATE INDEX citizens_email_idx             ON citizens (email);

CREATE INDEX schemes_status_idx             ON schemes (status);
CREATE INDEX schemes_updated_at_idx         ON schemes (updated_at);
CREATE INDEX schemes_department_code_idx    ON schemes (department_code);

CREATE INDEX service_applications_citizen_id_idx   ON service_applications (citizen_id);
CREATE INDEX service_applications_scheme_id_idx    ON service_applications (scheme_id);
CREATE INDEX service_applications_status_idx       ON service_applications (status);
CREATE INDEX service_applications_submitted_at_idx ON service_applications (submitted_at);
CREATE INDEX service_applications_decided_at_idx   ON service_applications (decided_at);
CREATE INDEX service_applications_updated_at_idx   ON service_applications (updated_at);
CREATE INDEX service_applications_scheme_status_submitted_idx
    ON service_applications (scheme_id, status, submitted_at);
CREATE INDEX service_applications_citizen_submitted_idx
    ON service_applications (citizen_id, submitted_at DESC);

CREATE INDEX documents_application_id_idx   ON documents (application_id);
CREATE INDEX documents_citizen_id_idx       ON documents (citizen_id);
CREATE INDEX documents_status_idx           ON documents (status);
CREATE INDEX documents_uploaded_at_idx      ON documents (uploaded_at);
CREATE INDEX documents_updated_at_idx       ON documents (updated_at);
CREATE INDEX documents_verification_status_idx ON documents (verification_status);

CREATE INDEX application_status_history_application_changed_idx
    ON application_status_history (application_id, changed_at);
CREATE INDEX application_status_history_status_idx     ON application_status_history (status);
CREATE INDEX application_status_history_changed_at_idx ON application_status_history (changed_at);
CREATE INDEX application_status_history_updated_at_idx ON application_status_history (updated_at);

CREATE INDEX notifications_citizen_sent_idx      ON notifications (citizen_id, sent_at DESC);
CREATE INDEX notifications_application_id_idx    ON notifications (application_id);
CREATE INDEX notifications_status_idx            ON notifications (status);
CREATE INDEX notifications_sent_at_idx           ON notifications (sent_at);
CREATE INDEX notifications_updated_at_idx        ON notifications (updated_at);

CREATE INDEX payments_application_id_idx    ON payments (application_id);
CREATE INDEX payments_citizen_id_idx        ON payments (citizen_id);
CREATE INDEX payments_status_idx            ON payments (status);
CREATE INDEX payments_paid_at_idx           ON payments (paid_at);
CREATE INDEX payments_updated_at_idx        ON payments (updated_at);
CREATE INDEX payments_payment_status_paid_idx ON payments (payment_status, paid_at);

CREATE INDEX feedback_citizen_id_idx        ON feedback (citizen_id);
CREATE INDEX feedback_application_id_idx    ON feedback (application_id);
CREATE INDEX feedback_status_idx            ON feedback (status);
CREATE INDEX feedback_submitted_at_idx      ON feedback (submitted_at);
CREATE INDEX feedback_updated_at_idx        ON feedback (updated_at);

CREATE INDEX audit_log_entity_idx           ON audit_log (entity_table, entity_id, changed_at);
CREATE INDEX audit_log_changed_at_idx       ON audit_log (changed_at);
CREATE INDEX audit_log_status_idx           ON audit_log (status);
CREATE INDEX audit_log_updated_at_idx       ON audit_log (updated_at);
