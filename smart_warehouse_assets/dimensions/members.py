"""The SCD Type 2 dimensions: what each tracks and where its source comes from."""

from __future__ import annotations

from smart_warehouse_assets.dimensions.scd2 import Scd2Dimension

# Age at the start of the version, from the birth year (the date of birth stays in the portal).
_AGE = "extract(year FROM x.new_from AT TIME ZONE 'Asia/Kolkata')::int - x.birth_year"
AGE_BAND = f"""
CASE WHEN x.birth_year IS NULL THEN 'unknown'
     WHEN {_AGE} < 18 THEN 'under 18'
     WHEN {_AGE} <= 25 THEN '18-25'
     WHEN {_AGE} <= 35 THEN '26-35'
     WHEN {_AGE} <= 45 THEN '36-45'
     WHEN {_AGE} <= 60 THEN '46-60'
     ELSE '61+' END
"""

DIM_CITIZEN = Scd2Dimension(
    table="dim_citizen",
    changes_since_for=("training/eligibility_scoring",),  # its point-in-time features
    key="citizen_key",
    natural_key="citizen_id",
    tracked=("gender", "birth_year", "city", "district", "state", "status"),
    derived={"age_band": AGE_BAND},
    source="""
        SELECT citizen_id, gender, birth_year, city, district, state, status, created_at, updated_at
        FROM staging.citizens
    """,
)

DIM_SCHEME = Scd2Dimension(
    table="dim_scheme",
    changes_since_for=("training/eligibility_scoring",),  # its point-in-time features
    key="scheme_key",
    natural_key="scheme_id",
    tracked=("scheme_code", "scheme_name", "category", "department_code", "benefit_amount",
             "sla_days", "status"),
    source="""
        SELECT scheme_id, scheme_code, scheme_name, category, department_code, benefit_amount,
               sla_days, status, created_at, updated_at
        FROM staging.schemes
    """,
)

# The hierarchy is walked from the roots (no parent, or a parent the portal does not have)
# down; a department caught in a parent cycle is kept as its own root rather than lost.
DIM_DEPARTMENT = Scd2Dimension(
    table="dim_department",
    key="department_key",
    natural_key="department_id",
    tracked=("department_code", "department_name", "parent_department_code", "hierarchy_path",
             "level", "department_type", "district", "status"),
    source="""
        WITH RECURSIVE tree AS (
            SELECT d.department_id, d.department_code::text AS path, 1 AS level,
                   ARRAY[d.department_id] AS seen
            FROM staging.departments d
            WHERE d.parent_department_id IS NULL
               OR NOT EXISTS (SELECT 1 FROM staging.departments p
                              WHERE p.department_id = d.parent_department_id)
            UNION ALL
            SELECT c.department_id, t.path || ' > ' || c.department_code, t.level + 1,
                   t.seen || c.department_id
            FROM staging.departments c JOIN tree t ON c.parent_department_id = t.department_id
            WHERE c.department_id <> ALL (t.seen)
        )
        SELECT d.department_id, d.department_code, d.department_name,
               p.department_code AS parent_department_code,
               coalesce(t.path, d.department_code) AS hierarchy_path,
               coalesce(t.level, 1)::smallint AS level, d.department_type, d.district, d.status,
               d.created_at, d.updated_at
        FROM staging.departments d
        LEFT JOIN staging.departments p ON p.department_id = d.parent_department_id
        LEFT JOIN tree t ON t.department_id = d.department_id
    """,
)

# SCD2 because a version's lifecycle status changes after it is trained, and a prediction
# must be judged against the status its model had when it scored.
DIM_MODEL = Scd2Dimension(
    table="dim_model",
    key="model_key",
    natural_key="model_id",
    tracked=("model_name", "model_version", "use_case_code", "use_case_name", "problem_type", "algorithm",
             "trained_at", "status"),
    source="""
        SELECT model_id, model_name, model_version, use_case_code, use_case_name, problem_type, algorithm,
               trained_at, status, created_at, updated_at
        FROM staging.ml_models
    """,
)

# SCD2 because a post's grade or approving power can change, and an action is judged by the
# post as it was. Keyed by the designation alone: no staff member's personal field is read.
DIM_DESIGNATION = Scd2Dimension(
    table="dim_designation",
    key="designation_key",
    natural_key="designation_id",
    tracked=("designation_code", "designation_name", "grade_level", "can_approve", "status"),
    source="""
        SELECT designation_id, designation_code, designation_name, grade_level, can_approve, status,
               created_at, updated_at
        FROM staging.designations
    """,
)

SCD2_DIMENSIONS = {
    "dim_citizen": (DIM_CITIZEN, "citizens"),
    "dim_scheme": (DIM_SCHEME, "schemes"),
    "dim_department": (DIM_DEPARTMENT, "departments"),
    "dim_model": (DIM_MODEL, "ml_models"),
    "dim_designation": (DIM_DESIGNATION, "designations"),
}
