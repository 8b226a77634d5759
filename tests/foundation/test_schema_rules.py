"""The schema keeps the rules of issue 2 and the contract: indexes, audit columns, comments, types."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import psycopg
import pytest

REPO = Path(__file__).resolve().parents[2]
CONTRACT = REPO / "docs" / "contract.md"
CONTRACT_SECTION = "## 4. Warehouse tables"
SCD2_COLUMNS = ["valid_from", "valid_to", "is_current"]
PORTAL_TABLE_COUNTS = {"citizen": 9, "dept": 11, "aiml": 9, "monitor": 10}
AUDIT_COLUMNS = {"created_at", "updated_at", "created_by", "updated_by", "status"}


def _rows(url: str, query: str, params=None) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchall()


def _tables(url: str, schema: str = "public") -> set[str]:
    return {
        r[0]
        for r in _rows(
            url,
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
            "AND table_type = 'BASE TABLE' AND table_name <> 'schema_migrations'",
            (schema,),
        )
    }


def test_portals_hold_the_seed_tables(database_urls):
    for key, count in PORTAL_TABLE_COUNTS.items():
        assert len(_tables(database_urls[key])) == count, key


def test_every_foreign_key_has_an_index(database_urls):
    query = """
        SELECT c.conrelid::regclass::text, c.conname
        FROM pg_constraint c
        WHERE c.contype = 'f'
          AND NOT EXISTS (
              SELECT 1 FROM pg_index i
              WHERE i.indrelid = c.conrelid
                AND (i.indkey::int2[])[0:cardinality(c.conkey) - 1] @> c.conkey
                AND (i.indkey::int2[])[0:cardinality(c.conkey) - 1] <@ c.conkey)
    """
    for key, url in database_urls.items():
        assert _rows(url, query) == [], f"{key}: foreign keys without a leading index"


def test_every_portal_table_has_uuid_key_and_audit_columns(database_urls):
    for key in PORTAL_TABLE_COUNTS:
        url = database_urls[key]
        for table in _tables(url):
            cols = {c for (c,) in _rows(
                url,
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = 'public' AND table_name = %s", (table,))}
            assert AUDIT_COLUMNS <= cols, f"{key}.{table} lacks {AUDIT_COLUMNS - cols}"
            pk_types = _rows(url, """
                SELECT format_type(a.atttypid, a.atttypmod)
                FROM pg_index i JOIN pg_attribute a
                  ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
                WHERE i.indrelid = %s::regclass AND i.indisprimary""", (f"public.{table}",))
            assert pk_types == [("uuid",)], f"{key}.{table} primary key is {pk_types}"


def test_every_warehouse_table_and_column_has_a_comment(database_urls):
    missing = _rows(database_urls["warehouse"], """
        SELECT n.nspname || '.' || c.relname || coalesce('.' || a.attname, '')
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
        WHERE n.nspname IN ('public', 'staging') AND c.relkind = 'r'
          AND CASE WHEN a.attname IS NULL THEN obj_description(c.oid, 'pg_class')
                   ELSE col_description(c.oid, a.attnum) END IS NULL
        UNION ALL
        SELECT n.nspname || '.' || c.relname
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname IN ('public', 'staging') AND c.relkind = 'r'
          AND obj_description(c.oid, 'pg_class') IS NULL
    """)
    assert missing == []


def _contract_tables() -> dict[str, list[str]]:
    """Warehouse tables and their minimum columns, read from the table of docs/contract.md.

    Only the rows of the section on warehouse tables count; parenthesised notes are
    dropped, and "SCD2 columns" stands for valid_from, valid_to and is_current.
    """
    text = CONTRACT.read_text()
    assert CONTRACT_SECTION in text, f"{CONTRACT} has no section {CONTRACT_SECTION!r}"
    section = text.split(CONTRACT_SECTION, 1)[1].split("\n## ", 1)[0]
    tables: dict[str, list[str]] = {}
    for line in section.splitlines():
        m = re.match(r"^\| `(\w+)` \| [^|]+ \| (.+) \|$", line)
        if m and m.group(1).startswith(("dim_", "fact_", "agg_", "etl_")):
            assert m.group(1) not in tables, f"{m.group(1)} is listed twice in {CONTRACT}"
            cell = re.sub(r"\([^)]*\)", "", m.group(2))
            columns = re.findall(r"`(\w+)`", cell)
            if "SCD2 columns" in cell:
                columns += SCD2_COLUMNS
            assert len(columns) == len(set(columns)), f"{m.group(1)}: a column is listed twice"
            tables[m.group(1)] = columns
    return tables


def _type_family(data_type: str) -> str:
    families = {
        "bigint": "integer", "integer": "integer", "smallint": "integer",
        "numeric": "numeric", "uuid": "uuid", "boolean": "boolean", "text": "text",
        "date": "date", "timestamp with time zone": "timestamptz", "jsonb": "json",
    }
    return families.get(data_type, data_type)


EXPECTED_FAMILY = {
    "date_key": "integer", "full_date": "date", "is_weekend": "boolean", "is_holiday": "boolean",
    "citizen_id": "uuid", "scheme_id": "uuid", "department_id": "uuid", "application_id": "uuid",
    "action_id": "uuid", "prediction_id": "uuid", "valid_from": "timestamptz",
    "valid_to": "timestamptz", "is_current": "boolean", "sla_met": "boolean",
    "predicted_eligible": "boolean", "is_correct": "boolean", "passed": "boolean",
    "amount_requested": "numeric", "amount_approved": "numeric", "benefit_amount": "numeric",
    "eligibility_score": "numeric", "confidence_score": "numeric",
    "started_at": "timestamptz", "finished_at": "timestamptz", "checked_at": "timestamptz",
    "designation_id": "uuid", "assignment_id": "uuid", "can_approve": "boolean", "step_is_final": "boolean",
    "step_sla_met": "boolean", "step_sla_hours": "integer",
}


def test_every_contract_column_exists_with_its_type_family(database_urls):
    contract = _contract_tables()
    assert len(contract) == 17, "the contract's warehouse table could not be read"
    for table, columns in contract.items():
        actual = dict(_rows(database_urls["warehouse"],
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'public' AND table_name = %s", (table,)))
        for column in columns:
            assert column in actual, f"{table}.{column} missing"
            family = _type_family(actual[column])
            if column in {"asset_key", "partition_key"}:
                assert family == "text", f"{table}.{column} is {actual[column]}"
            elif column.endswith("_key") or column.endswith("batch_id") or column == "check_id":
                assert family == "integer", f"{table}.{column} is {actual[column]}"
            elif column in EXPECTED_FAMILY:
                assert family == EXPECTED_FAMILY[column], f"{table}.{column} is {actual[column]}"
        if table in {"dim_citizen", "dim_scheme", "dim_department", "dim_model", "dim_designation"}:
            assert set(SCD2_COLUMNS) <= set(columns), f"{table}: the contract omits the SCD2 columns"
            for column in SCD2_COLUMNS:
                assert column in actual, f"{table}.{column} missing"


@pytest.mark.parametrize("table", ["dim_citizen", "dim_scheme", "dim_department", "dim_model", "dim_designation",
                                   "dim_date"])
def test_unknown_members_exist(database_urls, table):
    key = "date_key" if table == "dim_date" else table.replace("dim_", "") + "_key"
    assert _rows(database_urls["warehouse"], f"SELECT count(*) FROM public.{table} WHERE {key} = -1") == [(1,)]


def test_the_schema_check_knows_the_contract_columns():
    from smart_warehouse_assets.quality.contract import CONTRACT_COLUMNS

    contract = _contract_tables()
    assert set(CONTRACT_COLUMNS) == set(contract)
    for table, columns in contract.items():
        assert set(columns) == set(CONTRACT_COLUMNS[table]), (
            f"{table}: only in docs/contract.md {sorted(set(columns) - set(CONTRACT_COLUMNS[table]))}, "
            f"only in quality/contract.py {sorted(set(CONTRACT_COLUMNS[table]) - set(columns))}")


def test_the_schema_has_every_constraint_that_stands_in_for_a_check(database_urls):
    """What a constraint enforces, no data check tests (quality/contract.py, CONTRACT_CONSTRAINTS);
    schema_matches_contract asserts each is still there, and so does this test on the migrations."""
    from smart_warehouse_assets.quality.contract import CONTRACT_COLUMNS, CONTRACT_CONSTRAINTS
    from smart_warehouse_assets.quality.rules import present_constraints

    assert set(CONTRACT_CONSTRAINTS) <= set(CONTRACT_COLUMNS)
    with psycopg.connect(database_urls["warehouse"]) as conn:
        for table, constraints in CONTRACT_CONSTRAINTS.items():
            assert len(constraints) == len(set(constraints)), f"{table}: a constraint is listed twice"
            missing = set(constraints) - present_constraints(conn, table)
            assert missing == set(), f"{table} lacks {sorted(missing)}"


# Spelled in pieces so that this file does not match itself.
_OUTSIDE_CONTRACT = ("..".join(["", "/shared"]), "shared/" + "CONTRACT")
_SKIPPED_DIRS = {".git", ".venv", ".dagster_home", ".smart-warehouse", "__pycache__", ".pytest_cache",
                 ".hypothesis", "build", "dist", "var"}


def _repository_files() -> list[Path]:
    """The files of the repository: tracked and untracked-but-not-ignored (git), else a walk."""
    try:
        out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                             cwd=REPO, capture_output=True, check=True).stdout
        return [REPO / name for name in out.decode().split("\0") if name]
    except (OSError, subprocess.CalledProcessError):
        return [p for p in REPO.rglob("*") if p.is_file()
                and not any(part in _SKIPPED_DIRS or part.endswith(".egg-info")
                            for part in p.relative_to(REPO).parts[:-1])]


def test_the_contract_ships_with_the_repository():
    """Nothing refers to a contract outside the clone: docs/contract.md is the contract."""
    assert CONTRACT.is_file()
    files = _repository_files()
    assert CONTRACT in files and Path(__file__).resolve() in files
    offenders = []
    for path in files:
        if not path.is_file():  # deleted in the work tree, not yet in the index
            continue
        text = path.read_bytes().decode("utf-8", errors="ignore").lower()
        offenders += [f"{path.relative_to(REPO)}: {needle}" for needle in _OUTSIDE_CONTRACT
                      if needle.lower() in text]
    assert offenders == []
