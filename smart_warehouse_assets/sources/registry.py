"""Every portal table the warehouse reads, once: the list the rest is built from.

An entry says where the table lives and what it is, which of its columns the warehouse
reads, which rows feed it (``scope``: the rows of interest at all; ``live``: minus the
soft-deleted), the event column whose IST day is a row's partition, how it is extracted and
checked on the way in (``staging``), which warehouse assets it feeds and how the fact it
feeds reconciles with it. Built from these entries: the source assets and their lineage
(sources/portal_tables.py), the staging assets (staging/assets.py), the change plans
(operations/changes.py), the reconciliation and quarantine checks (quality/suite.py) and
the benchmark's floor. tests/foundation/test_registry.py proves every entry is wired
everywhere it must be. Adding a portal table is one entry here plus its staging DDL.

Row conditions are SQL on a table alias written ``{t}``; they are constants of this module,
never values from outside.

Personal data stops at the portal: the selects name only the columns the warehouse needs,
and citizens are read through the portal's view ``citizens_for_warehouse``, which has no
personal column and gives a birth year, never a date of birth. Each ``checked`` query gives
a row the first contract rule it breaks (unknown status, negative amount, missing key,
timestamp in the future, decision before submission) as ``reject_reason``; null means it
flows on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import dagster as dg
from psycopg import sql

from smart_warehouse_assets.settings import DATABASES
from smart_warehouse_assets.sql_fragments import aliased


@dataclass(frozen=True)
class Lookup:
    """Columns fetched from another portal table for the keys in the landing table."""

    source_key: str  # which portal
    source_table: str
    key_column: str  # column of the landing table holding the keys (uuid)
    landing_ddl: str  # columns of the look-up table (first one is the key)
    select: str  # SQL on that portal; joins the temporary table "lookup_keys (id uuid)"
    # (staging column, look-up column) pairs when the looked-up values are staged as they are
    # and nothing else of the row matters: a changed look-up row then re-stages only the rows
    # staged with other values (or none staged yet), not every row of it. The look-up columns
    # are columns of the source table, named in ``landing_ddl``.
    staged_as: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Staging:
    """How the rows are landed, judged and cleaned into ``staging.<staging_table>``."""

    staging_table: str
    pk: str
    landing_ddl: str  # "col type, ..." in the order of ``select``
    # SQL on the portal with {feeds} (the entry's rows, alias t) and {rows} (those this
    # extraction lands: a run's days, %(start)s to %(end)s of the event, or the changed keys).
    select: str
    checked: str  # SELECT over "land l" (and look-ups) adding reject_reason and partition_date
    stage: str  # SELECT over "checked c" giving the staging columns except etl_batch_id
    stage_columns: tuple[str, ...]
    lookups: tuple[Lookup, ...] = field(default_factory=tuple)
    # Assets that merge this table's changed rows by ``pk`` in a change-driven run, instead
    # of reloading their days (merge.py). The source table's key column is named ``pk`` too,
    # and each look-up's table keys its rows by its own entry's ``pk``.
    queue_for: tuple[str, ...] = ()
    # (asset, staging column): assets that merge by another column of this table's changed
    # rows, its value before and after the change (a payment queues its application).
    queue_by: tuple[tuple[str, str], ...] = ()
    # A partitioned table another asset reads across days: every run stages every partition
    # day of it, whatever the run's range (a small table; see PAYMENTS).
    extract_in_full: bool = False
    # A column whose rows are derived together: when one row changes, every row sharing its
    # value is merged again (an action's previous action is another row of its application).
    changes_with: str | None = None
    # Columns ordering the rows of a changes_with group, when a row is derived from the rows
    # before it only: a changed row then merges again just the rows after its old or its new
    # place (a new last action changes no other action).
    changes_after: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reconcile:
    """The fact whose rows per day must equal this table's rows (loaded plus quarantined)."""

    fact: str
    date_key: str
    natural_key: str
    amount: str | None  # a column whose sum must also agree (fact and payload share the name)
    # Only the source rows whose column holds one of the values feed this fact (the others
    # feed another fact of the same entry); quarantined rows are told apart by their payload.
    subset: tuple[str, tuple[str, ...]] | None = None


@dataclass(frozen=True)
class PortalTable:
    """One portal table the warehouse reads, and everything built from it (see the module)."""

    portal: str  # key in settings.DATABASES
    table: str
    description: str
    columns: tuple[str, ...]  # the columns the warehouse reads, of ``relation``
    event: str | None = None  # its IST day is the row's partition (None: read in full)
    scope: str = "true"  # rows of interest at all; a change to one matters, deleted or not
    live: str = "true"  # of those, the rows that are not soft-deleted
    staging: Staging | None = None  # None: read only through another entry's join
    assets: tuple[str, ...] = ()  # warehouse assets it feeds, upstream first (user strings)
    joined: tuple[str, ...] = ()  # other portal tables its extraction joins, as "portal.table"
    reconcile: Reconcile | None = None
    view: str | None = None  # the portal's view the warehouse reads instead of the table
    # (portal.table, SQL on alias {t}): the instant a row's outcome becomes known by time alone
    # (a draft left alone past a horizon), in the clock of that table; when that table's
    # watermark passes it, the row's day is re-planned although no row changed (changes.py).
    matures: tuple[str, str] | None = None

    @property
    def relation(self) -> str:
        return self.view or self.table

    @property
    def name(self) -> str:
        return f"{DATABASES[self.portal].name}.{self.table}"

    @property
    def source_database(self) -> str:
        return DATABASES[self.portal].name

    @property
    def key(self) -> dg.AssetKey:
        return dg.AssetKey([self.source_database, self.table])

    @property
    def partitioned(self) -> bool:
        return self.event is not None

    @property
    def staging_key(self) -> dg.AssetKey:
        assert self.staging is not None, self.name
        return dg.AssetKey(["staging", self.staging.staging_table])

    def condition(self, which: str, alias: str = "t") -> sql.Composed:
        """One of the entry's row conditions, on ``alias``."""
        return sql.SQL(getattr(self, which)).format(t=sql.Identifier(alias))

    def feeds(self, alias: str = "t") -> sql.Composed:
        """The rows that reach the warehouse: in scope, live, and with an event time."""
        parts = [self.condition("scope", alias), self.condition("live", alias)]
        if self.event:
            parts.append(sql.SQL("{}.{} IS NOT NULL").format(sql.Identifier(alias), sql.Identifier(self.event)))
        return sql.SQL(" AND ").join(sql.SQL("({})").format(p) for p in parts)

    def extraction(self, changed: bool = False) -> sql.Composed:
        """The staging select with this entry's rows filled in: those of the days %(start)s to
        %(end)s (all, for a table read in full), or with ``changed`` those whose key is in the
        portal session's ``changed_keys``."""
        assert self.staging is not None, self.name
        t = sql.Identifier("t")
        if changed:
            rows = sql.SQL("{}.{} IN (SELECT id FROM changed_keys)").format(t, sql.Identifier(self.staging.pk))
        elif self.event:
            rows = sql.SQL("{0}.{1} >= %(start)s AND {0}.{1} < %(end)s").format(t, sql.Identifier(self.event))
        else:
            rows = sql.SQL("true")
        return sql.SQL(self.staging.select).format(feeds=self.feeds("t"), rows=rows,
                                                   live_a=self.condition("live", "a"))

    def floor(self) -> sql.Composed:
        """The rows that feed the warehouse with the columns it reads, as is: the benchmark's floor."""
        return sql.SQL("SELECT {} FROM public.{} t WHERE {}").format(
            aliased("t", self.columns),
            sql.Identifier(self.relation), self.feeds("t"))


NOT_DELETED = "{t}.status <> 'deleted'"

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

CITIZENS = PortalTable(
    "citizen", "citizens",
    "Registered citizens (holds personal data; the warehouse reads only non-personal columns, "
    "through the view citizens_for_warehouse).",
    columns=("citizen_id", "gender", "birth_year", "city", "district", "state", "status", "created_at",
             "updated_at"),
    view="citizens_for_warehouse",
    assets=("staging/citizens", "dim_citizen"),
    staging=Staging(
        staging_table="citizens",
        pk="citizen_id",
        landing_ddl="citizen_id uuid, gender text, birth_year integer, city text, district text, "
        "state text, status text, created_at timestamptz, updated_at timestamptz",
        select="""
            SELECT t.citizen_id, t.gender, t.birth_year, t.city, t.district, t.state, t.status,
                   t.created_at, t.updated_at
            FROM public.citizens_for_warehouse t WHERE {feeds} AND {rows}
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
    ),
)

SCHEMES = PortalTable(
    "citizen", "schemes", "Government schemes citizens can apply for, each owned by a department code.",
    columns=("scheme_id", "scheme_code", "scheme_name", "category", "department_code", "benefit_amount",
             "sla_days", "status", "created_at", "updated_at"),
    assets=("staging/schemes", "dim_scheme"),
    staging=Staging(
        staging_table="schemes",
        pk="scheme_id",
        landing_ddl="scheme_id uuid, scheme_code text, scheme_name text, category text, "
        "department_code text, benefit_amount numeric(12,2), sla_days integer, status text, "
        "created_at timestamptz, updated_at timestamptz",
        select="""
            SELECT t.scheme_id, t.scheme_code, t.scheme_name, t.category, t.department_code,
                   t.benefit_amount, t.sla_days, t.status, t.created_at, t.updated_at
            FROM public.schemes t WHERE {feeds} AND {rows}
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
    ),
)

SERVICE_APPLICATIONS = PortalTable(
    "citizen", "service_applications", "Applications for schemes and their lifecycle (draft to decision).",
    columns=("application_id", "application_number", "citizen_id", "scheme_id", "status", "channel",
             "submitted_at", "decided_at", "amount_requested", "amount_approved", "updated_at"),
    event="submitted_at",  # a draft has none: it is not an application yet
    assets=("staging/service_applications", "fact_service_applications", "agg_daily_applications",
            "agg_daily_decisions"),
    reconcile=Reconcile("fact_service_applications", "submitted_date_key", "application_id", "amount_requested"),
    staging=Staging(
        staging_table="service_applications",
        pk="application_id",
        landing_ddl="application_id uuid, application_number text, citizen_id uuid, scheme_id uuid, "
        "status text, channel text, submitted_at timestamptz, decided_at timestamptz, "
        "amount_requested numeric(12,2), amount_approved numeric(12,2), updated_at timestamptz",
        select="""
            SELECT t.application_id, t.application_number, t.citizen_id, t.scheme_id, t.status, t.channel,
                   t.submitted_at, t.decided_at, t.amount_requested, t.amount_approved, t.updated_at
            FROM public.service_applications t
            WHERE {feeds} AND {rows}
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
        queue_for=("fact_service_applications",),
    ),
)

DEPARTMENTS = PortalTable(
    "dept", "departments", "Departments and offices as a hierarchy (state, department, district office).",
    columns=("department_id", "department_code", "department_name", "parent_department_id", "department_type",
             "district", "status", "created_at", "updated_at"),
    assets=("staging/departments", "dim_department"),
    staging=Staging(
        staging_table="departments",
        pk="department_id",
        landing_ddl="department_id uuid, department_code text, department_name text, "
        "parent_department_id uuid, department_type text, district text, status text, "
        "created_at timestamptz, updated_at timestamptz",
        select="""
            SELECT t.department_id, t.department_code, t.department_name, t.parent_department_id,
                   t.department_type, t.district, t.status, t.created_at, t.updated_at
            FROM public.departments t WHERE {feeds} AND {rows}
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
    ),
)

_APPLICATION_OF_ACTION = Lookup(
    source_key="citizen",
    source_table="service_applications",
    key_column="application_id",
    landing_ddl="application_id uuid, scheme_id uuid, submitted_at timestamptz",
    select="""
        SELECT sa.application_id, sa.scheme_id, sa.submitted_at
        FROM public.service_applications sa JOIN lookup_keys k ON k.id = sa.application_id
    """,
    # A decision changes neither: only a corrected submission or scheme re-stages its actions.
    staged_as=(("application_scheme_id", "scheme_id"), ("application_submitted_at", "submitted_at")),
)

DESIGNATIONS = PortalTable(
    "dept", "designations", "Official posts (clerk, section officer, tahsildar...), their grade and whether "
    "they approve.",
    columns=("designation_id", "designation_code", "designation_name", "grade_level", "can_approve", "status",
             "created_at", "updated_at"),
    assets=("staging/designations", "dim_designation"),
    staging=Staging(
        staging_table="designations",
        pk="designation_id",
        landing_ddl="designation_id uuid, designation_code text, designation_name text, grade_level smallint, "
        "can_approve boolean, status text, created_at timestamptz, updated_at timestamptz",
        select="""
            SELECT t.designation_id, t.designation_code, t.designation_name, t.grade_level, t.can_approve,
                   t.status, t.created_at, t.updated_at
            FROM public.designations t WHERE {feeds} AND {rows}
        """,
        checked="""
            SELECT l.*,
                   CASE WHEN l.designation_id IS NULL OR nullif(btrim(l.designation_code), '') IS NULL
                            THEN 'missing key: designation_code'
                        WHEN l.created_at > now() OR l.updated_at > now() THEN 'timestamp in the future'
                   END AS reject_reason,
                   NULL::date AS partition_date
            FROM land l
        """,
        stage="""
            SELECT c.designation_id, upper(btrim(c.designation_code)), btrim(c.designation_name), c.grade_level,
                   c.can_approve, c.status, c.created_at, c.updated_at
            FROM checked c WHERE c.reject_reason IS NULL
        """,
        stage_columns=("designation_id", "designation_code", "designation_name", "grade_level", "can_approve",
                       "status", "created_at", "updated_at"),
    ),
)

# Read only inside the processing actions' extraction: which post the acting officer holds
# (never a name, e-mail, phone or employee code), which assignment and workflow the action
# belongs to, and that workflow's step of the action's number.
DEPT_USERS = PortalTable(
    "dept", "dept_users", "Department staff (holds staff personal data; the warehouse reads only an "
    "officer's designation).",
    columns=("dept_user_id", "designation_id"),
)

APPLICATION_ASSIGNMENTS = PortalTable(
    "dept", "application_assignments", "Which office, officer and workflow an application is assigned to, "
    "and its priority.",
    columns=("assignment_id", "workflow_id", "priority"),
)

APPROVAL_CHAINS = PortalTable(
    "dept", "approval_chains", "Ordered steps of each workflow: the action required and its SLA in hours.",
    # Its key too: the change-capture publication lists these columns, and a column list must
    # cover the replica identity (the primary key) or the portal could not update the table.
    columns=("approval_chain_id", "workflow_id", "step_number", "action_required", "sla_hours", "is_final"),
)

PROCESSING_ACTIONS = PortalTable(
    "dept", "processing_actions", "Steps officers take on applications, in order.",
    columns=("action_id", "application_id", "assignment_id", "department_id", "officer_id", "action_type",
             "action_at", "step_number", "updated_at"),
    event="action_at",
    live=NOT_DELETED,
    assets=("staging/processing_actions", "fact_application_processing"),
    joined=("citizen.service_applications", "dept.application_assignments", "dept.approval_chains",
            "dept.dept_users"),
    reconcile=Reconcile("fact_application_processing", "action_date_key", "action_id", None),
    staging=Staging(
        staging_table="processing_actions",
        pk="action_id",
        landing_ddl="action_id uuid, application_id uuid, department_id uuid, action_type text, "
        "action_at timestamptz, step_number integer, previous_action_at timestamptz, "
        "updated_at timestamptz, assignment_id uuid, assignment_priority text, designation_id uuid, "
        "step_action_required text, step_sla_hours integer, step_is_final boolean",
        # The previous (live) action may lie on any earlier day, so it is found in the portal,
        # among all the actions of the applications extracted: a window over each application's
        # actions in order, the latest live one of the steps strictly before (a correlated
        # look-up per action took 9.9 s of 2.15 M rows at scale 10; the window 5 s). Its
        # columns are named: the portal grants the warehouse's role these, not the remarks.
        # The chain step is the assignment's workflow's step of the action's number (unique
        # per workflow, so the joins never multiply an action).
        select="""
            SELECT t.action_id, t.application_id, t.department_id, t.action_type, t.action_at,
                   t.step_number, t.previous_action_at, t.updated_at, t.assignment_id, s.priority,
                   u.designation_id, ch.action_required, ch.sla_hours, ch.is_final
            FROM (SELECT a.action_id, a.application_id, a.assignment_id, a.department_id, a.officer_id,
                         a.action_type, a.action_at, a.step_number, a.status, a.updated_at,
                         max(a.action_at) FILTER (WHERE {live_a}) OVER (
                             PARTITION BY a.application_id ORDER BY a.action_at, a.step_number
                             GROUPS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS previous_action_at
                  FROM public.processing_actions a
                  WHERE a.application_id IN (SELECT t.application_id FROM public.processing_actions t
                                             WHERE {feeds} AND {rows})) t
            LEFT JOIN public.application_assignments s ON s.assignment_id = t.assignment_id
            LEFT JOIN public.approval_chains ch ON ch.workflow_id = s.workflow_id AND ch.step_number = t.step_number
            LEFT JOIN public.dept_users u ON u.dept_user_id = t.officer_id
            WHERE {feeds} AND {rows}
        """,
        lookups=(_APPLICATION_OF_ACTION,),
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
                   c.application_submitted_at, c.updated_at, c.partition_date, c.assignment_id,
                   lower(btrim(c.assignment_priority)), c.designation_id, btrim(c.step_action_required),
                   c.step_sla_hours, c.step_is_final
            FROM checked c WHERE c.reject_reason IS NULL
        """,
        stage_columns=("action_id", "application_id", "department_id", "action_type", "action_at",
                       "step_number", "previous_action_at", "application_scheme_id",
                       "application_submitted_at", "updated_at", "partition_date", "assignment_id",
                       "assignment_priority", "designation_id", "step_action_required", "step_sla_hours",
                       "step_is_final"),
        queue_for=("fact_application_processing",),
        changes_with="application_id",
        changes_after=("action_at", "step_number"),  # the order of the previous-action window
    ),
)

ML_USE_CASES = PortalTable(
    "aiml", "ml_use_cases", "The platform's ML use cases (joined to each model version).",
    columns=("use_case_id", "use_case_code", "use_case_name", "problem_type"),  # its key: see APPROVAL_CHAINS
)

ML_MODELS = PortalTable(
    "aiml", "ml_models", "Registered ML model versions and their lifecycle stage.",
    columns=("model_id", "use_case_code", "model_name", "model_version", "algorithm", "trained_at", "status",
             "created_at", "updated_at"),
    assets=("staging/ml_models", "dim_model"),
    joined=("aiml.ml_use_cases",),
    staging=Staging(
        staging_table="ml_models",
        pk="model_id",
        landing_ddl="model_id uuid, model_name text, model_version text, use_case_code text, "
        "use_case_name text, problem_type text, algorithm text, trained_at timestamptz, status text, "
        "created_at timestamptz, updated_at timestamptz",
        select="""
            SELECT t.model_id, t.model_name, t.model_version, t.use_case_code, u.use_case_name, u.problem_type,
                   t.algorithm, t.trained_at, t.status, t.created_at, t.updated_at
            FROM public.ml_models t LEFT JOIN public.ml_use_cases u ON u.use_case_code = t.use_case_code
            WHERE {feeds} AND {rows}
        """,
        checked="""
            SELECT l.*,
                   CASE WHEN nullif(btrim(l.model_name), '') IS NULL OR nullif(btrim(l.model_version), '') IS NULL
                            THEN 'missing key: model_name, model_version'
                        WHEN l.created_at > now() OR l.updated_at > now() OR l.trained_at > now()
                            THEN 'timestamp in the future'
                   END AS reject_reason,
                   NULL::date AS partition_date
            FROM land l
        """,
        stage="""
            SELECT c.model_id, btrim(c.model_name), btrim(c.model_version), c.use_case_code, c.use_case_name,
                   c.problem_type, lower(btrim(c.algorithm)), c.trained_at, c.status, c.created_at, c.updated_at
            FROM checked c WHERE c.reject_reason IS NULL
        """,
        stage_columns=("model_id", "model_name", "model_version", "use_case_code", "use_case_name",
                       "problem_type", "algorithm", "trained_at", "status", "created_at", "updated_at"),
    ),
)

# The application as the citizen portal has it now, and how far that portal's clock has got:
# an outcome (a decision, a submission, a draft left alone past its horizon) is known up to there.
_APPLICATION_OF_PREDICTION = Lookup(
    source_key="citizen",
    source_table="service_applications",
    key_column="application_id",
    landing_ddl="application_id uuid, status text, submitted_at timestamptz, as_of timestamptz",
    select="""
        SELECT sa.application_id, sa.status, sa.submitted_at,
               (SELECT max(x.updated_at) FROM public.service_applications x)
        FROM public.service_applications sa JOIN lookup_keys k ON k.id = sa.application_id
    """,
)

# The use cases whose predictions the warehouse can judge against what happened next.
JUDGED_USE_CASES = ("ELIGIBILITY_SCORING", "SLA_BREACH_PREDICTION", "DROPOUT_PREDICTION")
# A draft scored for dropout counts as abandoned when it is still a draft this long after.
DROPOUT_HORIZON_DAYS = 7
# Labels the SLA-breach and dropout models write, as (positive, negative).
BINARY_LABELS = {"SLA_BREACH_PREDICTION": ("breach", "on_time"),
                 "DROPOUT_PREDICTION": ("likely_abandon", "likely_submit")}

PREDICTIONS = PortalTable(
    "aiml", "predictions", "Model predictions; those of the three judged use cases (eligibility, SLA breach, "
    "dropout) feed the warehouse.",
    columns=("prediction_id", "use_case_code", "application_id", "citizen_id", "scheme_id", "model_id",
             "eligibility_score", "confidence_score", "predicted_label", "predicted_at", "updated_at"),
    event="predicted_at",
    scope="{t}.use_case_code IN ('ELIGIBILITY_SCORING', 'SLA_BREACH_PREDICTION', 'DROPOUT_PREDICTION')",
    live=NOT_DELETED,
    assets=("staging/predictions", "fact_eligibility_scoring", "fact_prediction_outcome", "agg_model_performance",
            "training/eligibility_scoring"),
    joined=("aiml.ml_models", "citizen.service_applications"),
    reconcile=Reconcile("fact_eligibility_scoring", "prediction_date_key", "prediction_id", "eligibility_score",
                        subset=("use_case_code", ("ELIGIBILITY_SCORING",))),
    # A dropout prediction's day changes when its horizon passes, with no row changing.
    matures=("citizen.service_applications",
             f"CASE WHEN {{t}}.use_case_code = 'DROPOUT_PREDICTION' "
             f"THEN {{t}}.predicted_at + interval '{DROPOUT_HORIZON_DAYS} days' END"),
    staging=Staging(
        staging_table="predictions",
        pk="prediction_id",
        landing_ddl="prediction_id uuid, application_id uuid, citizen_id uuid, scheme_id uuid, "
        "model_name text, model_version text, eligibility_score numeric(5,4), "
        "confidence_score numeric(5,4), predicted_label text, predicted_at timestamptz, "
        "updated_at timestamptz, model_id uuid, use_case_code text",
        select="""
            SELECT t.prediction_id, t.application_id, t.citizen_id, t.scheme_id, m.model_name,
                   m.model_version, t.eligibility_score, t.confidence_score, t.predicted_label,
                   t.predicted_at, t.updated_at, t.model_id, t.use_case_code
            FROM public.predictions t JOIN public.ml_models m ON m.model_id = t.model_id
            WHERE {feeds} AND {rows}
        """,
        lookups=(_APPLICATION_OF_PREDICTION,),
        checked="""
            SELECT l.*, k.status AS application_status, k.submitted_at AS application_submitted_at,
                   k.as_of AS outcome_as_of,
                   CASE WHEN l.application_id IS NULL THEN 'missing key: application_id'
                        WHEN l.model_version IS NULL THEN 'missing key: model_version'
                        WHEN l.eligibility_score NOT BETWEEN 0 AND 1
                          OR l.confidence_score NOT BETWEEN 0 AND 1 THEN 'score outside [0, 1]'
                        WHEN l.predicted_at > now() THEN 'timestamp in the future'
                        WHEN l.use_case_code = 'SLA_BREACH_PREDICTION'
                         AND coalesce(lower(btrim(l.predicted_label)), '') NOT IN ('breach', 'on_time')
                          OR l.use_case_code = 'DROPOUT_PREDICTION'
                         AND coalesce(lower(btrim(l.predicted_label)), '') NOT IN ('likely_abandon', 'likely_submit')
                            THEN 'unknown label: ' || coalesce(l.predicted_label, 'null')
                        WHEN l.use_case_code <> 'ELIGIBILITY_SCORING' AND l.confidence_score IS NULL
                            THEN 'missing confidence_score'
                   END AS reject_reason,
                   (l.predicted_at AT TIME ZONE 'Asia/Kolkata')::date AS partition_date
            FROM land l LEFT JOIN lookup_0 k ON k.application_id = l.application_id
        """,
        stage="""
            SELECT c.prediction_id, c.application_id, c.citizen_id, c.scheme_id, c.model_name,
                   c.model_version, c.eligibility_score, c.confidence_score,
                   lower(btrim(c.predicted_label)), c.predicted_at, c.application_status,
                   c.updated_at, c.partition_date, c.model_id, c.use_case_code,
                   c.application_submitted_at, c.outcome_as_of
            FROM checked c WHERE c.reject_reason IS NULL
        """,
        stage_columns=("prediction_id", "application_id", "citizen_id", "scheme_id", "model_name",
                       "model_version", "eligibility_score", "confidence_score", "predicted_label",
                       "predicted_at", "application_status", "updated_at", "partition_date", "model_id",
                       "use_case_code", "application_submitted_at", "outcome_as_of"),
        # Both prediction facts merge the changed predictions: a prediction's own change, its
        # application's (an outcome decided, a draft submitted; an SLA outcome follows the
        # application's sla_met, which changes only with the application) and a dropout horizon
        # passed (``matures``) all land the prediction again (staging/extract.py).
        queue_for=("fact_eligibility_scoring", "fact_prediction_outcome"),
    ),
)

PAYMENTS = PortalTable(
    "citizen", "payments", "Benefit payments to citizens for approved applications (transaction "
    "references and user names stay in the portal).",
    columns=("payment_id", "application_id", "citizen_id", "amount", "payment_mode", "payment_status",
             "paid_at", "updated_at"),
    event="paid_at",
    live=NOT_DELETED,
    assets=("staging/payments", "fact_payments"),
    joined=("citizen.service_applications",),
    reconcile=Reconcile("fact_payments", "paid_date_key", "payment_id", "amount"),
    staging=Staging(
        staging_table="payments",
        pk="payment_id",
        landing_ddl="payment_id uuid, application_id uuid, citizen_id uuid, scheme_id uuid, "
        "amount numeric(12,2), payment_mode text, payment_status text, paid_at timestamptz, "
        "updated_at timestamptz",
        # The application's scheme lives in the same portal: joined here, not looked up.
        select="""
            SELECT t.payment_id, t.application_id, t.citizen_id, sa.scheme_id, t.amount,
                   t.payment_mode, t.payment_status, t.paid_at, t.updated_at
            FROM public.payments t LEFT JOIN public.service_applications sa ON sa.application_id = t.application_id
            WHERE {feeds} AND {rows}
        """,
        checked="""
            SELECT l.*,
                   CASE WHEN l.application_id IS NULL THEN 'missing key: application_id'
                        WHEN l.citizen_id IS NULL THEN 'missing key: citizen_id'
                        WHEN l.payment_status IS NULL OR lower(btrim(l.payment_status)) NOT IN
                             ('initiated', 'success', 'failed', 'reversed')
                            THEN 'unknown payment status: ' || coalesce(l.payment_status, 'null')
                        WHEN l.payment_mode IS NULL OR lower(btrim(l.payment_mode)) NOT IN ('dbt', 'neft', 'upi', 'cheque')
                            THEN 'unknown payment mode: ' || coalesce(l.payment_mode, 'null')
                        WHEN l.amount IS NULL OR l.amount <= 0 THEN 'amount not positive'
                        WHEN l.paid_at > now() THEN 'timestamp in the future'
                   END AS reject_reason,
                   (l.paid_at AT TIME ZONE 'Asia/Kolkata')::date AS partition_date
            FROM land l
        """,
        stage="""
            SELECT c.payment_id, c.application_id, c.citizen_id, c.scheme_id, c.amount,
                   lower(btrim(c.payment_mode)), lower(btrim(c.payment_status)), c.paid_at, c.updated_at,
                   c.partition_date
            FROM checked c WHERE c.reject_reason IS NULL
        """,
        stage_columns=("payment_id", "application_id", "citizen_id", "scheme_id", "amount", "payment_mode",
                       "payment_status", "paid_at", "updated_at", "partition_date"),
        # The applications fact sums the payments (amount_disbursed): a changed payment merges
        # its application again, old and new.
        queue_by=(("fact_service_applications", "application_id"),),
        # An application's amount_disbursed sums its payments of any day: a run over a few
        # submission days must see the payments of every day, not only of its own days.
        extract_in_full=True,
    ),
)

# Dimension sources first, then event sources: the order staging assets are defined in.
# Payments before applications: the applications fact sums the payments (amount_disbursed).
REGISTRY: tuple[PortalTable, ...] = (
    CITIZENS, SCHEMES, DEPARTMENTS, DESIGNATIONS, ML_USE_CASES, ML_MODELS, PAYMENTS, SERVICE_APPLICATIONS,
    DEPT_USERS, APPLICATION_ASSIGNMENTS, APPROVAL_CHAINS, PROCESSING_ACTIONS, PREDICTIONS,
)
STAGED: tuple[PortalTable, ...] = tuple(e for e in REGISTRY if e.staging)
BY_NAME: dict[str, PortalTable] = {e.name: e for e in REGISTRY}


def feeding(asset: str) -> PortalTable:
    """The entry whose rows an asset (user string) is built from."""
    (entry,) = [e for e in REGISTRY if asset in e.assets]
    return entry


def lookup_entry(ref: str) -> PortalTable:
    """An entry by "portal.table" (the form ``joined`` uses)."""
    portal, table = ref.split(".")
    (entry,) = [e for e in REGISTRY if (e.portal, e.table) == (portal, table)]
    return entry
