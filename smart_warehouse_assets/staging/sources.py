"""What each staging table reads from its portal, and the rules a row must pass.

Personal data stops at the portal: the selects below name only the columns the warehouse
needs, and citizens are read through the portal's view ``citizens_for_warehouse``, which
has no personal column and gives a birth year, never a date of birth. Each ``checked``
query gives a row the first contract rule it breaks (unknown status, negative amount,
missing key, timestamp in the future, decision before submission) as ``reject_reason``;
null means it flows on.
"""

from __future__ import annotations

from smart_warehouse_assets.staging.extract import Lookup, SourceExtract

IST_DAY = "({col} AT TIME ZONE 'Asia/Kolkata')::date"
APPLICATION_STATUSES = ("submitted", "under_review", "approved", "rejected", "withdrawn")
DECIDED = ("approved", "rejected")

# Gender arrives in several vocabularies (male/M/MALE, female/F, other/T/X); one comes out.
_GENDER = """
CASE lower(btrim(c.gender))
    WHEN 'male' THEN 'male' WHEN 'm' THEN 'male'
    WHEN 'female' THEN 'female' WHEN 'f' THEN 'female'
    WHEN 'other' THEN 'other' WHEN 'o' THEN 'other' WHEN 't' THEN 'other'
    WHEN 'x' THEN 'other' WHEN 'transgender' THEN 'other'
    ELSE 'unknown'
END
"""

CITIZENS = SourceExtract(
    staging_table="citizens",
    source_key="citizen",
    source_table="citizens",
    pk="citizen_id",
    partitioned=False,
    landing_ddl="citizen_id uuid, gender text, birth_year integer, city text, district text, "
    "state text, status text, created_at timestamptz, updated_at timestamptz",
    select="""
        SELECT citizen_id, gender, birth_year, city, district, state, status, created_at, updated_at
        FROM public.citizens_for_warehouse
    """,
    checked="""
        SELECT l.*,
               CASE WHEN l.citizen_id IS NULL THEN 'missing key: citizen_id'
                    WHEN l.created_at > now() OR l.updated_at > now() THEN 'timestamp in the future'
               END AS reject_reason,
               NULL::date AS partition_date,
               btrim(regexp_replace(l.district, '\\s+', ' ', 'g')) AS district_spelled
        FROM land l
    """,
    # A district is spelled the way most rows spell it, preferring a mixed-case spelling,
    # so '  pune ' and 'PUNE' become 'Pune' without a hard-coded list of districts.
    stage="""
        WITH spellings AS (
            SELECT DISTINCT ON (lower(district_spelled)) lower(district_spelled) AS k,
                   CASE WHEN district_spelled IN (lower(district_spelled), upper(district_spelled))
                        THEN initcap(district_spelled) ELSE district_spelled END AS best
            FROM (SELECT district_spelled, count(*) AS n FROM checked
                  WHERE reject_reason IS NULL AND district_spelled <> '' GROUP BY 1) s
            ORDER BY lower(district_spelled),
                     district_spelled IN (lower(district_spelled), upper(district_spelled)),
                     n DESC, district_spelled
        )
        SELECT c.citizen_id, """ + _GENDER + """, c.birth_year, nullif(btrim(c.city), ''),
               sp.best, nullif(btrim(c.state), ''), c.status, c.created_at, c.updated_at
        FROM checked c LEFT JOIN spellings sp ON sp.k = lower(c.district_spelled)
        WHERE c.reject_reason IS NULL
    """,
    stage_columns=("citizen_id", "gender", "birth_year", "city", "district", "state", "status",
                   "created_at", "updated_at"),
)

SCHEMES = SourceExtract(
    staging_table="schemes",
    source_key="citizen",
    source_table="schemes",
    pk="scheme_id",
    partitioned=False,
    landing_ddl="scheme_id uuid, scheme_code text, scheme_name text, category text, "
    "department_code text, benefit_amount numeric(12,2), sla_days integer, status text, "
    "created_at timestamptz, updated_at timestamptz",
    select="""
        SELECT scheme_id, scheme_code, scheme_name, category, department_code, benefit_amount,
               sla_days, status, created_at, updated_at
        FROM public.schemes
    """,
    checked="""
        SELECT l.*,
               CASE WHEN l.scheme_id IS NULL OR nullif(btrim(l.scheme_code), '') IS NULL
                        THEN 'missing key: scheme_code'
                    WHEN l.benefit_amount < 0 THEN 'negative amount: benefit_amount'
                    WHEN l.created_at > now() OR l.updated_at > now() THEN 'timestamp in the future'
               END AS reject_reason,
               NULL::date AS partition_date
        FROM land l
    """,
    stage="""
        SELECT c.scheme_id, upper(btrim(c.scheme_code)), btrim(c.scheme_name), lower(btrim(c.category)),
               nullif(upper(btrim(c.department_code)), ''), c.benefit_amount, c.sla_days, c.status,
               c.created_at, c.updated_at
        FROM checked c WHERE c.reject_reason IS NULL
    """,
    stage_columns=("scheme_id", "scheme_code", "scheme_name", "category", "department_code",
                   "benefit_amount", "sla_days", "status", "created_at", "updated_at"),
)

DEPARTMENTS = SourceExtract(
    staging_table="departments",
    source_key="dept",
    source_table="departments",
    pk="department_id",
    partitioned=False,
    landing_ddl="department_id uuid, department_code text, department_name text, "
    "parent_department_id uuid, department_type text, district text, status text, "
    "created_at timestamptz, updated_at timestamptz",
    select="""
        SELECT department_id, department_code, department_name, parent_department_id,
               department_type, district, status, created_at, updated_at
        FROM public.departments
    """,
    checked="""
        SELECT l.*,
               CASE WHEN l.department_id IS NULL OR nullif(btrim(l.department_code), '') IS NULL
                        THEN 'missing key: department_code'
                    WHEN l.created_at > now() OR l.updated_at > now() THEN 'timestamp in the future'
               END AS reject_reason,
               NULL::date AS partition_date
        FROM land l
    """,
    stage="""
        SELECT c.department_id, upper(btrim(c.department_code)), btrim(c.department_name),
               c.parent_department_id, c.department_type, nullif(btrim(c.district), ''), c.status,
               c.created_at, c.updated_at
        FROM checked c WHERE c.reject_reason IS NULL
    """,
    stage_columns=("department_id", "department_code", "department_name", "parent_department_id",
                   "department_type", "district", "status", "created_at", "updated_at"),
)

SERVICE_APPLICATIONS = SourceExtract(
    staging_table="service_applications",
    source_key="citizen",
    source_table="service_applications",
    pk="application_id",
    landing_ddl="application_id uuid, application_number text, citizen_id uuid, scheme_id uuid, "
    "status text, channel text, submitted_at timestamptz, decided_at timestamptz, "
    "amount_requested numeric(12,2), amount_approved numeric(12,2), updated_at timestamptz",
    select="""
        SELECT application_id, application_number, citizen_id, scheme_id, status, channel,
               submitted_at, decided_at, amount_requested, amount_approved, updated_at
        FROM public.service_applications
        WHERE submitted_at >= %(start)s AND submitted_at < %(end)s
    """,
    checked="""
        SELECT l.*,
               CASE WHEN l.citizen_id IS NULL THEN 'missing key: citizen_id'
                    WHEN l.scheme_id IS NULL THEN 'missing key: scheme_id'
                    WHEN l.status IS NULL OR l.status NOT IN
                         ('submitted', 'under_review', 'approved', 'rejected', 'withdrawn')
                        THEN 'unknown status: ' || coalesce(l.status, 'null')
                    WHEN l.amount_requested < 0 OR l.amount_approved < 0 THEN 'negative amount'
                    WHEN l.submitted_at > now() OR l.decided_at > now() THEN 'timestamp in the future'
                    WHEN l.decided_at < l.submitted_at THEN 'decision before submission'
                    WHEN l.status IN ('approved', 'rejected') AND l.decided_at IS NULL
                        THEN 'decided without a decision time'
               END AS reject_reason,
               (l.submitted_at AT TIME ZONE 'Asia/Kolkata')::date AS partition_date
        FROM land l
    """,
    stage="""
        SELECT c.application_id, btrim(c.application_number), c.citizen_id, c.scheme_id, c.status,
               lower(btrim(c.channel)), c.submitted_at,
               CASE WHEN c.status IN ('approved', 'rejected') THEN c.decided_at END,
               c.amount_requested, c.amount_approved, c.updated_at, c.partition_date
        FROM checked c WHERE c.reject_reason IS NULL
    """,
    stage_columns=("application_id", "application_number", "citizen_id", "scheme_id", "status",
                   "channel", "submitted_at", "decided_at", "amount_requested", "amount_approved",
                   "updated_at", "partition_date"),
)

PROCESSING_ACTIONS = SourceExtract(
    staging_table="processing_actions",
    source_key="dept",
    source_table="processing_actions",
    pk="action_id",
    landing_ddl="action_id uuid, application_id uuid, department_id uuid, action_type text, "
    "action_at timestamptz, step_number integer, previous_action_at timestamptz, "
    "updated_at timestamptz",
    # The previous action may lie on any earlier day, so it is found in the portal.
    select="""
        SELECT a.action_id, a.application_id, a.department_id, a.action_type, a.action_at,
               a.step_number,
               (SELECT max(p.action_at) FROM public.processing_actions p
                WHERE p.application_id = a.application_id AND p.status <> 'deleted'
                  AND (p.action_at, p.step_number) < (a.action_at, a.step_number)),
               a.updated_at
        FROM public.processing_actions a
        WHERE a.action_at >= %(start)s AND a.action_at < %(end)s AND a.status <> 'deleted'
    """,
    lookups=(
        Lookup(
            source_key="citizen",
            key_column="application_id",
            landing_ddl="application_id uuid, scheme_id uuid, submitted_at timestamptz",
            select="""
                SELECT sa.application_id, sa.scheme_id, sa.submitted_at
                FROM public.service_applications sa JOIN lookup_keys k ON k.id = sa.application_id
            """,
        ),
    ),
    checked="""
        SELECT l.*, k.scheme_id AS application_scheme_id, k.submitted_at AS application_submitted_at,
               CASE WHEN l.application_id IS NULL THEN 'missing key: application_id'
                    WHEN l.department_id IS NULL THEN 'missing key: department_id'
                    WHEN l.action_at > now() THEN 'timestamp in the future'
               END AS reject_reason,
               (l.action_at AT TIME ZONE 'Asia/Kolkata')::date AS partition_date
        FROM land l LEFT JOIN lookup_0 k ON k.application_id = l.application_id
    """,
    stage="""
        SELECT c.action_id, c.application_id, c.department_id, c.action_type, c.action_at,
               c.step_number, c.previous_action_at, c.application_scheme_id,
               c.application_submitted_at, c.updated_at, c.partition_date
        FROM checked c WHERE c.reject_reason IS NULL
    """,
    stage_columns=("action_id", "application_id", "department_id", "action_type", "action_at",
                   "step_number", "previous_action_at", "application_scheme_id",
                   "application_submitted_at", "updated_at", "partition_date"),
)

PREDICTIONS = SourceExtract(
    staging_table="predictions",
    source_key="aiml",
    source_table="predictions",
    pk="prediction_id",
    landing_ddl="prediction_id uuid, application_id uuid, citizen_id uuid, scheme_id uuid, "
    "model_name text, model_version text, eligibility_score numeric(5,4), "
    "confidence_score numeric(5,4), predicted_label text, predicted_at timestamptz, "
    "updated_at timestamptz",
    select="""
        SELECT p.prediction_id, p.application_id, p.citizen_id, p.scheme_id, m.model_name,
               m.model_version, p.eligibility_score, p.confidence_score, p.predicted_label,
               p.predicted_at, p.updated_at
        FROM public.predictions p JOIN public.ml_models m ON m.model_id = p.model_id
        WHERE p.use_case_code = 'ELIGIBILITY_SCORING' AND p.status <> 'deleted'
          AND p.predicted_at >= %(start)s AND p.predicted_at < %(end)s
    """,
    lookups=(
        Lookup(
            source_key="citizen",
            key_column="application_id",
            landing_ddl="application_id uuid, status text",
            select="""
                SELECT sa.application_id, sa.status
                FROM public.service_applications sa JOIN lookup_keys k ON k.id = sa.application_id
            """,
        ),
    ),
    checked="""
        SELECT l.*, k.status AS application_status,
               CASE WHEN l.application_id IS NULL THEN 'missing key: application_id'
                    WHEN l.model_version IS NULL THEN 'missing key: model_version'
                    WHEN l.eligibility_score NOT BETWEEN 0 AND 1
                      OR l.confidence_score NOT BETWEEN 0 AND 1 THEN 'score outside [0, 1]'
                    WHEN l.predicted_at > now() THEN 'timestamp in the future'
               END AS reject_reason,
               (l.predicted_at AT TIME ZONE 'Asia/Kolkata')::date AS partition_date
        FROM land l LEFT JOIN lookup_0 k ON k.application_id = l.application_id
    """,
    stage="""
        SELECT c.prediction_id, c.application_id, c.citizen_id, c.scheme_id, c.model_name,
               c.model_version, c.eligibility_score, c.confidence_score,
               lower(btrim(c.predicted_label)), c.predicted_at, c.application_status,
               c.updated_at, c.partition_date
        FROM checked c WHERE c.reject_reason IS NULL
    """,
    stage_columns=("prediction_id", "application_id", "citizen_id", "scheme_id", "model_name",
                   "model_version", "eligibility_score", "confidence_score", "predicted_label",
                   "predicted_at", "application_status", "updated_at", "partition_date"),
)

DIMENSION_SOURCES = (CITIZENS, SCHEMES, DEPARTMENTS)
EVENT_SOURCES = (SERVICE_APPLICATIONS, PROCESSING_ACTIONS, PREDICTIONS)
