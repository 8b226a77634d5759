-- Workflow steps on the processing fact: the approval-chain step each action is, the
-- designation of the officer who took it, and the assignment it belongs to.
--
-- dim_designation is SCD Type 2 on smart_dept.designations (which has updated_at): a post's
-- grade or approving power can change, and an action is judged by the post as it was when
-- the action was taken. It is keyed by the designation alone: nothing of the staff member
-- (name, e-mail, phone, employee code) is read; dept_users gives only its designation_id.
-- The portal ties designations to no department: the department of an action is the fact's
-- acting_department_key.
--
-- The chain step, the assignment's priority and the designation are read with the action in
-- the department portal (one extraction): they are the state of the portal when the action's
-- day was last loaded or its action last changed.

CREATE UNLOGGED TABLE staging.designations (
    designation_id    uuid PRIMARY KEY,
    designation_code  text        NOT NULL,
    designation_name  text        NOT NULL,
    grade_level       smallint    NOT NULL,
    can_approve       boolean     NOT NULL,
    status            text        NOT NULL,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    etl_batch_id      bigint      NOT NULL
);
COMMENT ON TABLE staging.designations IS 'Designations (official posts) that passed validation. Grain: one row per designation.';
COMMENT ON COLUMN staging.designations.designation_id IS 'designations.designation_id.';
COMMENT ON COLUMN staging.designations.designation_code IS 'Business code of the post, upper case, trimmed.';
COMMENT ON COLUMN staging.designations.designation_name IS 'Name of the post, trimmed.';
COMMENT ON COLUMN staging.designations.grade_level IS 'Grade of the post, 1 (junior) to 10.';
COMMENT ON COLUMN staging.designations.can_approve IS 'Whether holders of the post may approve.';
COMMENT ON COLUMN staging.designations.status IS 'active or inactive.';
COMMENT ON COLUMN staging.designations.created_at IS 'Source created_at: the first version of dim_designation opens here.';
COMMENT ON COLUMN staging.designations.updated_at IS 'Source updated_at: a changed version opens here.';
COMMENT ON COLUMN staging.designations.etl_batch_id IS 'Batch that extracted the row.';

CREATE TABLE public.dim_designation (
    designation_key   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    designation_id    uuid,
    designation_code  text        NOT NULL,
    designation_name  text        NOT NULL,
    grade_level       smallint    NOT NULL,
    can_approve       boolean     NOT NULL,
    status            text        NOT NULL,
    valid_from        timestamptz NOT NULL,
    valid_to          timestamptz NOT NULL DEFAULT '9999-12-31 00:00:00+00',
    is_current        boolean     NOT NULL DEFAULT true,
    etl_batch_id      bigint REFERENCES public.etl_batches (batch_id),
    CHECK (valid_to > valid_from),
    CHECK ((designation_key = -1) = (designation_id IS NULL)),
    CHECK (designation_key = -1 OR etl_batch_id IS NOT NULL)
);
CREATE UNIQUE INDEX dim_designation_version_uq ON public.dim_designation (designation_id, valid_from) INCLUDE (valid_to);
CREATE UNIQUE INDEX dim_designation_current_uq ON public.dim_designation (designation_id) WHERE is_current;
CREATE INDEX dim_designation_batch_idx ON public.dim_designation (etl_batch_id);

INSERT INTO public.dim_designation (designation_key, designation_id, designation_code, designation_name, grade_level,
                                    can_approve, status, valid_from, valid_to, is_current)
OVERRIDING SYSTEM VALUE
VALUES (-1, NULL, 'UNKNOWN', 'Unknown designation', 0, false, 'unknown',
        '1900-01-01 00:00:00+00', '9999-12-31 00:00:00+00', true);

COMMENT ON TABLE public.dim_designation IS 'Designations (official posts: clerk, section officer, tahsildar...) of the department portal, with grade and approving power; no staff member''s personal data. SCD Type 2. Grain: one row per designation version.';
COMMENT ON COLUMN public.dim_designation.designation_key IS 'Surrogate key of the designation version; -1 is the unknown designation.';
COMMENT ON COLUMN public.dim_designation.designation_id IS 'Natural key: designations.designation_id in smart_dept.';
COMMENT ON COLUMN public.dim_designation.designation_code IS 'Business code of the post, unique in the portal.';
COMMENT ON COLUMN public.dim_designation.designation_name IS 'Name of the post.';
COMMENT ON COLUMN public.dim_designation.grade_level IS 'Grade of the post, 1 (junior) to 10; 0 for the unknown member.';
COMMENT ON COLUMN public.dim_designation.can_approve IS 'Whether holders of the post may approve applications.';
COMMENT ON COLUMN public.dim_designation.status IS 'active or inactive (unknown for the unknown member).';
COMMENT ON COLUMN public.dim_designation.valid_from IS 'Start of the version (inclusive): created_at for the first, updated_at for later ones.';
COMMENT ON COLUMN public.dim_designation.valid_to IS 'End of the version (exclusive); 9999-12-31 00:00:00+00 while current.';
COMMENT ON COLUMN public.dim_designation.is_current IS 'True for the open version; exactly one per designation.';
COMMENT ON COLUMN public.dim_designation.etl_batch_id IS 'Batch (etl_batches) that wrote the version; null for the unknown member.';

-- The action's step, assignment and officer's post, as staged.
ALTER TABLE staging.processing_actions
    ADD COLUMN assignment_id uuid,
    ADD COLUMN assignment_priority text,
    ADD COLUMN designation_id uuid,
    ADD COLUMN step_action_required text,
    ADD COLUMN step_sla_hours integer,
    ADD COLUMN step_is_final boolean;
COMMENT ON COLUMN staging.processing_actions.assignment_id IS 'Assignment the action belongs to (application_assignments.assignment_id); null when the portal names none.';
COMMENT ON COLUMN staging.processing_actions.assignment_priority IS 'Priority of that assignment: low, normal, high or urgent.';
COMMENT ON COLUMN staging.processing_actions.designation_id IS 'Designation of the acting officer (dept_users.designation_id); null when no officer is named.';
COMMENT ON COLUMN staging.processing_actions.step_action_required IS 'action_required of the approval-chain step (the assignment''s workflow, the action''s step_number); null when none matches.';
COMMENT ON COLUMN staging.processing_actions.step_sla_hours IS 'sla_hours of that chain step; null when none matches.';
COMMENT ON COLUMN staging.processing_actions.step_is_final IS 'is_final of that chain step; null when none matches.';

ALTER TABLE public.fact_application_processing
    ADD COLUMN designation_key bigint NOT NULL DEFAULT -1,
    ADD COLUMN assignment_id uuid,
    ADD COLUMN assignment_priority text,
    ADD COLUMN step_action_required text,
    ADD COLUMN step_sla_hours integer,
    ADD COLUMN step_is_final boolean,
    ADD COLUMN step_sla_met boolean;
COMMENT ON COLUMN public.fact_application_processing.designation_key IS 'Designation (post) of the officer who acted, version (dim_designation) valid at the action; -1 when no officer or designation is known.';
COMMENT ON COLUMN public.fact_application_processing.assignment_id IS 'Assignment the action belongs to (degenerate dimension: application_assignments.assignment_id in smart_dept); null when none.';
COMMENT ON COLUMN public.fact_application_processing.assignment_priority IS 'Priority of the assignment: low, normal, high or urgent; null without an assignment.';
COMMENT ON COLUMN public.fact_application_processing.step_action_required IS 'What the approval-chain step asks for (e.g. check documents): the step of the assignment''s workflow whose step_number is the action''s; null when no chain step matches.';
COMMENT ON COLUMN public.fact_application_processing.step_sla_hours IS 'Hours the chain step allows (approval_chains.sla_hours); null when no chain step matches.';
COMMENT ON COLUMN public.fact_application_processing.step_is_final IS 'True when the chain step is the workflow''s last (the decision); null when no chain step matches.';
COMMENT ON COLUMN public.fact_application_processing.step_sla_met IS 'processing_minutes <= step_sla_hours * 60: the step took no longer than its chain allows; null when either is unknown.';
