"""Least privilege: the pipeline runs as smart_etl_reader and smart_etl_writer, and nobody
can do more than the design says."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import dagster as dg
import psycopg
import pytest
from psycopg import errors

from smart_warehouse_assets import roles
from smart_warehouse_assets.definitions import build_definitions
from smart_warehouse_assets.jobs import run_load
from smart_warehouse_assets.operations.health import record_run
from smart_warehouse_assets.paths import SQL_ROOT
from smart_warehouse_assets.resources import PostgresResource
from tests.conftest import TEST_START, check_warehouse, quality_thresholds
from tests.trust.conftest import as_user, cli_env, count, grant_roles, role_urls

DAYS = (TEST_START, TEST_START + timedelta(days=2))


def _denied(url: str, statement: str) -> bool:
    with psycopg.connect(url) as conn:
        try:
            conn.execute(statement)
        except errors.InsufficientPrivilege:
            return True
    return False


def test_the_whole_pipeline_runs_as_the_least_privilege_roles(seeded):
    urls = seeded
    grant_roles(urls)
    deployed = role_urls(urls)
    indexes_before = _index_objects(urls["warehouse"])
    with dg.DagsterInstance.ephemeral() as instance:
        result = run_load(build_definitions(deployed, quality_thresholds()), *DAYS, instance=instance,
                          raise_on_error=False)
        failures = [e.step_failure_data.error.message for e in result.all_events if e.is_step_failure]
        assert result.success, failures
        failed_checks = [e.event_specific_data.check_name for e in result.all_events
                         if e.event_type_value == "ASSET_CHECK_EVALUATION" and not e.event_specific_data.passed
                         and e.event_specific_data.severity == dg.AssetCheckSeverity.ERROR]
        assert failed_checks == []
        # The run's health goes to the monitor portal as the same reader role.
        recorded = record_run(PostgresResource(url=deployed["monitor"]), PostgresResource(url=deployed["warehouse"]),
                              instance, instance.get_run_by_id(result.run_id))
    assert recorded.status == "healthy"
    assert count(urls["monitor"], "SELECT count(*) FROM health_checks WHERE details->>'run_id' = %s",
                 (result.run_id,)) == 1
    assert count(urls["warehouse"], "SELECT count(*) FROM fact_service_applications") > 0
    # Every check, on the whole warehouse, as the roles.
    checks = check_warehouse(deployed)
    assert checks.success
    # The load really ran as the writer: it owns what it wrote and nothing was made by anyone else.
    assert count(urls["warehouse"], """SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname IN ('public', 'staging') AND c.relkind = 'r' AND c.relname <> 'schema_migrations'
          AND c.relowner <> 'smart_etl_writer'::regrole""") == 0
    # The first load replaced whole tables: the writer built their indexes after the rows, and
    # they belong to the writer like their tables.
    indexes_after = _index_objects(urls["warehouse"])
    assert indexes_after.keys() == indexes_before.keys()
    rebuilt = {name for name, oid in indexes_after.items() if oid != indexes_before[name]}
    assert {"fact_service_applications_pkey", "fact_service_applications_citizen_idx",
            "processing_actions_pkey"} <= rebuilt


def _index_objects(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return dict(conn.execute("SELECT indexrelname, indexrelid FROM pg_stat_user_indexes "
                                 "WHERE schemaname IN ('public', 'staging')").fetchall())


def test_the_reader_sees_no_personal_column_and_writes_only_the_monitor(database_urls):
    grant_roles(database_urls)
    reader = {k: as_user(u, roles.READER) for k, u in database_urls.items()}
    citizen = reader["citizen"]
    for column in ("full_name", "email", "phone", "id_number_hash", "address_line", "date_of_birth", "pincode"):
        assert _denied(citizen, f"SELECT {column} FROM citizens"), column
    assert _denied(citizen, "SELECT * FROM citizens")
    assert _denied(citizen, "SELECT remarks FROM service_applications")
    for table in ("documents", "feedback", "notifications", "audit_log", "application_status_history"):
        assert _denied(citizen, f"SELECT count(*) FROM {table}"), table
    for column in ("transaction_ref", "created_by", "updated_by"):  # payments: the amounts, not the references
        assert _denied(citizen, f"SELECT {column} FROM payments"), column
    assert _denied(citizen, "UPDATE schemes SET sla_days = 1")
    assert _denied(citizen, "DELETE FROM service_applications")
    assert _denied(citizen, "CREATE TABLE public.x (i int)")
    with psycopg.connect(citizen) as conn:  # what extraction, observation and change detection need works
        conn.execute("SELECT citizen_id, birth_year, district FROM citizens_for_warehouse LIMIT 1")
        conn.execute("SELECT count(*), max(updated_at) FROM citizens")
        conn.execute("CREATE TEMP TABLE lookup_keys (id uuid)")
    assert _denied(reader["dept"], "SELECT remarks FROM processing_actions")
    assert _denied(reader["dept"], "SELECT email, phone FROM departments")
    assert _denied(reader["dept"], "SELECT full_name FROM dept_users")
    assert _denied(reader["aiml"], "SELECT features FROM predictions")
    assert _denied(reader["aiml"], "UPDATE predictions SET status = 'deleted'")
    assert _denied(reader["aiml"], "DELETE FROM model_monitoring")
    assert _denied(reader["aiml"], "UPDATE ml_models SET status = 'archived'")
    with psycopg.connect(reader["aiml"]) as conn:  # the model figures written back
        conn.execute("UPDATE model_monitoring SET is_breached = is_breached WHERE false")
    assert _denied(reader["monitor"], "SELECT full_name FROM admin_users")
    assert _denied(reader["monitor"], "DELETE FROM health_checks")
    assert _denied(reader["monitor"], "UPDATE health_checks SET status = 'down'")
    # No portal role reaches the warehouse.
    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        psycopg.connect(as_user(database_urls["warehouse"], roles.READER)).close()


def test_an_analyst_reads_the_star_but_not_staging_and_writes_nothing(loaded):
    urls, _ = loaded
    grant_roles(urls)
    analyst = as_user(urls["warehouse"], roles.ANALYST)
    for table in ("dim_date", "dim_citizen", "dim_scheme", "dim_department", "fact_service_applications",
                  "fact_application_processing", "fact_eligibility_scoring", "agg_daily_applications",
                  "etl_batches", "etl_data_quality"):
        assert count(analyst, f"SELECT count(*) FROM {table}") > 0, table
    for statement in (
        "SELECT count(*) FROM staging.rejected_rows",
        "SELECT count(*) FROM staging.citizens",
        "SELECT count(*) FROM schema_migrations",
        "INSERT INTO dim_date (date_key) VALUES (99991231)",
        "UPDATE fact_service_applications SET status = 'approved'",
        "DELETE FROM agg_daily_applications",
        "TRUNCATE etl_batches",
        "DELETE FROM etl_data_quality",
        "CREATE TABLE public.notes (t text)",
        "CREATE TEMP TABLE notes (t text)",
        "CREATE SCHEMA scratch",
        "SELECT nextval(pg_get_serial_sequence('etl_batches', 'batch_id'))",
    ):
        assert _denied(analyst, statement), statement


def test_db_up_roles_is_idempotent_and_changes_nothing_the_second_time(database_urls, tmp_path):
    command = [sys.executable, "-m", "smart_warehouse_assets.cli", "db", "up", "--roles"]
    acl = """SELECT c.relname, c.relowner::regrole::text, c.relacl::text,
                    (SELECT array_agg(a.attname || '=' || a.attacl::text ORDER BY a.attnum)
                     FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attacl IS NOT NULL)::text
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname IN ('public', 'staging') ORDER BY 1"""
    snapshots = []
    for _ in range(2):
        done = subprocess.run(command, env=cli_env(database_urls, tmp_path), capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        assert "roles/warehouse.sql" in done.stdout
        snap = {}
        for key, url in database_urls.items():
            with psycopg.connect(url) as conn:
                snap[key] = (conn.execute(acl).fetchall(),
                             conn.execute("SELECT datacl::text FROM pg_database WHERE datname = current_database()").fetchone())
        snapshots.append(snap)
    assert snapshots[0] == snapshots[1]
    # Plain `db up` stays what it was: migrations only, no grants.
    plain = subprocess.run(command[:-1], env=cli_env(database_urls, tmp_path), capture_output=True, text=True, timeout=120)
    assert plain.returncode == 0 and "roles/" not in plain.stdout


def test_role_files_are_not_migrations_and_hold_no_password():
    from smart_warehouse_assets.migrations import migration_files

    assert all("roles" not in str(f.path.parent) for key in ("citizen", "warehouse")
               for f in migration_files(SQL_ROOT / key))
    files = sorted((SQL_ROOT / "roles").glob("*.sql"))
    assert {f.stem for f in files} == {"roles", "portal_reader", "citizen", "dept", "aiml", "monitor", "warehouse", "cdc"}
    for path in files:
        code = [line.split("--", 1)[0] for line in path.read_text().splitlines()]
        assert not any("password" in line.lower() for line in code), path.name
