-- The submission-day aggregate carries rates and money, and the applicant's state beside the
-- district (in its grain, so a state dashboard needs no join); a second aggregate counts by
-- decision day, what "decided this week" dashboards need.

ALTER TABLE public.agg_daily_applications
    ADD COLUMN state text NOT NULL DEFAULT 'Unknown',
    ADD COLUMN approval_rate numeric(6, 5) CHECK (approval_rate BETWEEN 0 AND 1),
    ADD COLUMN rejection_rate numeric(6, 5) CHECK (rejection_rate BETWEEN 0 AND 1),
    ADD COLUMN amount_disbursed numeric(16, 2);
ALTER TABLE public.agg_daily_applications ALTER COLUMN state DROP DEFAULT;
-- Rows loaded before this migration: the state their district's citizens mostly live in, and
-- rates from their counts (a district lies in one state in the portals); the next load of a
-- day writes its rows exactly (matches_fact_group_by says which days still differ).
UPDATE public.agg_daily_applications a
SET state = coalesce((SELECT c.state FROM public.dim_citizen c WHERE c.district = a.district AND c.state IS NOT NULL
                      GROUP BY c.state ORDER BY count(*) DESC, c.state LIMIT 1), 'Unknown'),
    approval_rate = round(a.applications_approved::numeric / nullif(a.applications_approved + a.applications_rejected, 0), 5),
    rejection_rate = round(a.applications_rejected::numeric / nullif(a.applications_approved + a.applications_rejected, 0), 5);
ALTER TABLE public.agg_daily_applications DROP CONSTRAINT agg_daily_applications_pkey;
ALTER TABLE public.agg_daily_applications ADD PRIMARY KEY (date_key, scheme_key, department_key, state, district);

COMMENT ON TABLE public.agg_daily_applications IS 'Daily application volumes and outcomes. Grain: one row per submission day x scheme x department x applicant state and district. Partitioned by submission day; equals a GROUP BY over fact_service_applications for that day.';
COMMENT ON COLUMN public.agg_daily_applications.state IS 'Applicant''s state, from the citizen version valid at submission (Unknown for an unknown citizen or state).';
COMMENT ON COLUMN public.agg_daily_applications.approval_rate IS 'applications_approved / (applications_approved + applications_rejected), 5 decimals: the share of the decided applications approved; null when none is decided.';
COMMENT ON COLUMN public.agg_daily_applications.rejection_rate IS 'applications_rejected / (applications_approved + applications_rejected), 5 decimals; null when none is decided.';
COMMENT ON COLUMN public.agg_daily_applications.amount_disbursed IS 'Sum of amount_disbursed (successful payments so far), in rupees.';

CREATE TABLE public.agg_daily_decisions (
    date_key                 integer        NOT NULL,
    scheme_key               bigint         NOT NULL,
    department_key           bigint         NOT NULL,
    state                    text           NOT NULL,
    district                 text           NOT NULL,
    decisions                integer        NOT NULL,
    approvals                integer        NOT NULL,
    rejections               integer        NOT NULL,
    approval_rate            numeric(6, 5)  NOT NULL CHECK (approval_rate BETWEEN 0 AND 1),
    avg_processing_days      numeric(10, 4) NOT NULL,
    avg_processing_working_days numeric(10, 4),
    sla_compliance_rate      numeric(6, 5) CHECK (sla_compliance_rate BETWEEN 0 AND 1),
    amount_approved          numeric(16, 2),
    amount_disbursed         numeric(16, 2),
    etl_batch_id             bigint         NOT NULL,
    PRIMARY KEY (date_key, scheme_key, department_key, state, district),
    CHECK (decisions = approvals + rejections)
);
CREATE INDEX agg_daily_decisions_scheme_idx ON public.agg_daily_decisions (scheme_key);
CREATE INDEX agg_daily_decisions_batch_idx ON public.agg_daily_decisions (etl_batch_id);

COMMENT ON TABLE public.agg_daily_decisions IS 'Daily decisions. Grain: one row per decision day x scheme x department x applicant state and district. Partitioned by the IST decision day; equals a GROUP BY over the decided rows of fact_service_applications for that day.';
COMMENT ON COLUMN public.agg_daily_decisions.date_key IS 'IST decision day (decided_date_key, YYYYMMDD); the partition key.';
COMMENT ON COLUMN public.agg_daily_decisions.scheme_key IS 'Scheme version (as on the fact).';
COMMENT ON COLUMN public.agg_daily_decisions.department_key IS 'Department version owning the scheme (as on the fact).';
COMMENT ON COLUMN public.agg_daily_decisions.state IS 'Applicant''s state, from the citizen version valid at submission (Unknown when unknown).';
COMMENT ON COLUMN public.agg_daily_decisions.district IS 'Applicant''s district, from the citizen version valid at submission (Unknown when unknown).';
COMMENT ON COLUMN public.agg_daily_decisions.decisions IS 'Applications decided (approved or rejected) that day in the group.';
COMMENT ON COLUMN public.agg_daily_decisions.approvals IS 'Of those, approved.';
COMMENT ON COLUMN public.agg_daily_decisions.rejections IS 'Of those, rejected.';
COMMENT ON COLUMN public.agg_daily_decisions.approval_rate IS 'approvals / decisions, 5 decimals.';
COMMENT ON COLUMN public.agg_daily_decisions.avg_processing_days IS 'Average processing_days (calendar days from submission to decision), 4 decimals.';
COMMENT ON COLUMN public.agg_daily_decisions.avg_processing_working_days IS 'Average processing_working_days (working days in the applicant''s state), 4 decimals.';
COMMENT ON COLUMN public.agg_daily_decisions.sla_compliance_rate IS 'Fraction (0 to 1) of the decisions (with a known sla_met) made within the SLA, 5 decimals; null when none has one.';
COMMENT ON COLUMN public.agg_daily_decisions.amount_approved IS 'Sum of amount_approved, in rupees.';
COMMENT ON COLUMN public.agg_daily_decisions.amount_disbursed IS 'Sum of amount_disbursed (successful payments so far) of the applications decided that day, in rupees.';
COMMENT ON COLUMN public.agg_daily_decisions.etl_batch_id IS 'Batch (etl_batches) that wrote the row.';
