-- smart_citizen: the public citizen portal (OLTP, 3NF).
-- Every table: uuid primary key, audit columns, soft-delete status.
-- Deliberately NOT constrained (the portal accepts these; the warehouse validates them):
-- decided_at vs submitted_at, future timestamps, amount signs, approved vs requested,
-- gender vocabulary, district spelling.

CREATE TABLE citizens (
    citizen_id      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    full_name       text NOT NULL,
    email           text,
    phone           text,
    id_number_hash  text UNIQUE,
    date_of_birth   date,
    gender          text,
    address_line    text,
    city            text,
    district        text,
    state           text,
    pincode         text CHECK (pincode ~ '^[1-9][0-9]{5}$'),
    preferred_language text,
    status          text NOT NULL DEFAULT 'active'
                    CHECK (status IN ('active', 'inactive', 'deleted')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    created_by      text,
    updated_by      text
);
COMMENT ON TABLE citizens IS 'Registered citizens (applicants); holds PII that must never leave the portal.';

CREATE TABLE schemes (
    scheme_id       uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    scheme_code     text NOT NULL UNIQUE,
    scheme_name     text NOT NULL,
    category        text NOT NULL,
    department_code text NOT NULL,  -- departments live in smart_dept: no FK
    description     text,
    benefit_amount  numeric(12,2),
    sla_days        integer NOT NULL CHECK (sla_days > 0),
    launched_on     date,
    status          text NOT NULL DEFAULT 'active'
                    CHECK (status IN ('active', 'inactive', 'closed')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    created_by      text,
    updated_by      text
);
COMMENT ON TABLE schemes IS 'Government schemes and services a citizen can apply for, with their benefit and service-level days.';

CREATE TABLE service_applications (
    application_id      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    application_number  text NOT NULL UNIQUE,
    citizen_id          uuid NOT NULL REFERENCES citizens (citizen_id),
    scheme_id           uuid NOT NULL REFERENCES schemes (scheme_id),
    status              text NOT NULL DEFAULT 'draft'
                        CHECK (status IN ('draft', 'submitted', 'under_review',
                                          'approved', 'rejected', 'withdrawn')),
    channel             text NOT NULL CHECK (channel IN ('web', 'mobile', 'csc', 'counter')),
    submitted_at        timestamptz,
    decided_at          timestamptz,
    amount_requested    numeric(12,2),
    amount_approved     numeric(12,2),
    remarks             text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    created_by          text,
    updated_by          text,
    CONSTRAINT service_applications_submitted_unless_draft
        CHECK ((status = 'draft') = (submitted_at IS NULL)),
    CONSTRAINT service_applications_decided_iff_decision
        CHECK ((status IN ('approved', 'rejected')) = (decided_at IS NOT NULL)),
    CONSTRAINT service_applications_approved_amount_only_when_approved
        CHECK (amount_approved IS NULL OR status = 'approved')
);
COMMENT ON TABLE service_applications IS 'One row per application of a citizen to a scheme, in its current lifecycle state.';

CREATE TABLE documents (
    document_id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    application_id      uuid NOT NULL REFERENCES service_applications (application_id),
    citizen_id          uuid NOT NULL REFERENCES citizens (citizen_id),
    document_type       text NOT NULL
                        CHECK (document_type IN ('identity_proof', 'address_proof', 'income_certificate',
                                                 'caste_certificate', 'bank_passbook', 'photograph',
                                                 'land_record', 'birth_certificate', 'disability_certificate',
                                                 'other')),
    file_name           text NOT NULL,
    mime_type           text NOT NULL CHECK (mime_type IN ('application/pdf', 'image/jpeg', 'image/png')),
    file_size_bytes     integer NOT NULL CHECK (file_size_bytes > 0),
    content_sha256      text,
    uploaded_at         timestamptz NOT NULL,
    verification_status text NOT NULL DEFAULT 'pending'
                        CHECK (verification_status IN ('pending', 'verified', 'rejected')),
    status              text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deleted')),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    created_by          text,
    updated_by          text
);
COMMENT ON TABLE documents IS 'Documents uploaded by citizens in support of an application.';

CREATE TABLE application_status_history (
    status_history_id   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    application_id      uuid NOT NULL REFERENCES service_applications (application_id),
    from_status         text CHECK (from_status IN ('draft', 'submitted', 'under_review',
                                                    'approved', 'rejected', 'withdrawn')),
    to_status           text NOT NULL CHECK (to_status IN ('draft', 'submitted', 'under_review',
                                                           'approved', 'rejected', 'withdrawn')),
    changed_at          timestamptz NOT NULL,
    changed_by          text,
    remarks             text,
    status              text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deleted')),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    created_by          text,
    updated_by          text
);
COMMENT ON TABLE application_status_history IS 'Every lifecycle transition of an application (from_status null for the first).';

CREATE TABLE notifications (
    notification_id     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    citizen_id          uuid NOT NULL REFERENCES citizens (citizen_id),
    application_id      uuid REFERENCES service_applications (application_id),
    channel             text NOT NULL CHECK (channel IN ('sms', 'email', 'push', 'in_app')),
    template_code       text NOT NULL,
    subject             text,
    body                text,
    sent_at             timestamptz NOT NULL,
    read_at             timestamptz,
    delivery_status     text NOT NULL DEFAULT 'queued'
                        CHECK (delivery_status IN ('queued', 'sent', 'delivered', 'failed')),
    status              text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deleted')),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    created_by          text,
    updated_by          text
);
COMMENT ON TABLE notifications IS 'Messages sent to citizens about their applications (SMS, e-mail, push, in-app).';

CREATE TABLE payments (
    payment_id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    application_id      uuid NOT NULL REFERENCES service_applications (application_id),
    citizen_id          uuid NOT NULL REFERENCES citizens (citizen_id),
    amount              numeric(12,2) NOT NULL CHECK (amount > 0),
    payment_mode        text NOT NULL CHECK (payment_mode IN ('dbt', 'neft', 'upi', 'cheque')),
    transaction_ref     text NOT NULL UNIQUE,
    paid_at             timestamptz NOT NULL,
    payment_status      text NOT NULL CHECK (payment_status IN ('initiated', 'success', 'failed', 'reversed')),
    status              text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deleted')),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    created_by          text,
    updated_by          text
);
COMMENT ON TABLE payments IS 'Benefit disbursements to citizens for approved applications.';

CREATE TABLE feedback (
    feedback_id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    citizen_id          uuid NOT NULL REFERENCES citizens (citizen_id),
    application_id      uuid REFERENCES service_applications (application_id),
    rating              smallint NOT NULL CHECK (rating BETWEEN 1 AND 5),
    comments            text,
    submitted_at        timestamptz NOT NULL,
    status              text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deleted')),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    created_by          text,
    updated_by          text
);
COMMENT ON TABLE feedback IS 'Citizen ratings (1-5) and comments on the service they received.';

CREATE TABLE audit_log (
    audit_id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    entity_table        text NOT NULL,
    entity_id           uuid NOT NULL,
    action              text NOT NULL CHECK (action IN ('insert', 'update', 'delete')),
    actor               text,
    changed_at          timestamptz NOT NULL,
    old_values          jsonb,
    new_values          jsonb,
    status              text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deleted')),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    created_by          text,
    updated_by          text
);
COMMENT ON TABLE audit_log IS 'Change trail of the citizen portal: who changed which row, when, from what to what.';
