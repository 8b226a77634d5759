"""A password in a connection URL appears nowhere: not in CLI output, exceptions, Dagster's
event log, the run's config or snapshot, nor in etl_batches."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import dagster as dg
import psycopg
import pytest

from smart_warehouse_assets import embedded, migrations
from smart_warehouse_assets.definitions import build_definitions
from smart_warehouse_assets.jobs import run_load
from smart_warehouse_assets.resources import DatabaseUnavailable, PostgresResource
from smart_warehouse_assets.settings import DATABASES, derived_url, scrub
from tests.conftest import TEST_START
from tests.trust.conftest import as_user, cli_env

SECRET = "SuperSecret123"
# Unreachable, and malformed in the ways that make libpq quote a piece of the URL back.
BAD_URLS = {
    "unreachable": f"postgresql://u:{SECRET}@127.0.0.1:1/x",
    "bad_escape": f"postgresql://u:Pa%zz{SECRET}@127.0.0.1:1/x",
    "unescaped_at": "postgresql://u:Super@Secret123@127.0.0.1:1/x",
    "open_bracket": f"postgresql://u:{SECRET}@[::1:1/x",
    "keywords": f"host=127.0.0.1 port=1 password='{SECRET}' dbname=x",
}


def _leaks(text: str) -> bool:
    return SECRET in text or "Secret123" in text


@pytest.mark.parametrize("name", sorted(BAD_URLS))
def test_connection_errors_never_carry_the_password(name):
    url = BAD_URLS[name]
    with pytest.raises(DatabaseUnavailable) as failure:
        PostgresResource(url=url).connect()
    assert not _leaks(failure.value.description) and not _leaks(str(failure.value))
    assert failure.value.__cause__ is None and failure.value.__suppress_context__
    with pytest.raises(migrations.MigrationError) as error:
        migrations.connect(url)
    assert not _leaks(str(error.value))
    assert embedded.answers(url) is False
    assert not _leaks(scrub(f"{url} said {url.split('@')[0]}", url))


@pytest.mark.parametrize("command,bad", [
    (["load"], "unreachable"), (["db", "up"], "unreachable"), (["db", "status"], "bad_escape"),
    (["summary"], "unescaped_at"), (["load"], "open_bracket"),
])
def test_the_cli_names_host_and_port_but_never_the_password(database_urls, tmp_path, command, bad):
    env = cli_env(database_urls, tmp_path, SMART_CITIZEN_URL=BAD_URLS[bad])
    done = subprocess.run([sys.executable, "-m", "smart_warehouse_assets.cli", *command], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert not _leaks(done.stdout + done.stderr), done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "PostgreSQL" in done.stderr or "smart_citizen" in done.stderr


def test_definitions_refuse_a_literal_url_with_a_password(database_urls):
    urls = dict(database_urls, citizen=as_user(database_urls["citizen"], "u", SECRET))
    with pytest.raises(ValueError, match="PGPASSWORD") as error:
        build_definitions(urls)
    assert not _leaks(str(error.value))


def _with_password(urls: dict[str, str], missing_citizen: str) -> dict[str, str]:
    """Every URL with a password (trust auth ignores it); the citizen portal's database does not exist."""
    with psycopg.connect(derived_url("postgres")) as conn:
        user = conn.info.user
    out = {k: as_user(u, user, SECRET) for k, u in urls.items()}
    out["citizen"] = as_user(urls["citizen"].rsplit("/", 1)[0] + "/" + missing_citizen, user, SECRET)
    return out


def test_a_failed_dagster_run_keeps_the_password_out_of_events_config_and_batches(database_urls, monkeypatch, capfd):
    urls = _with_password(database_urls, "smwt_no_such_citizen_db")
    for key, db in DATABASES.items():
        monkeypatch.setenv(db.env_var, urls[key])
    defs = build_definitions()  # as the code location does: each URL through dagster.EnvVar
    with dg.DagsterInstance.ephemeral() as instance:
        result = run_load(defs, TEST_START, TEST_START, instance=instance, raise_on_error=False)
        run = instance.get_run_by_id(result.run_id)
        stored = [dg.serialize_value(e) for e in instance.all_logs(result.run_id)]
        stored += [dg.serialize_value(run), str(run.run_config),
                   dg.serialize_value(instance.get_job_snapshot(run.job_snapshot_id)),
                   dg.serialize_value(instance.get_execution_plan_snapshot(run.execution_plan_snapshot_id))]
    assert not result.success
    failures = [e.step_failure_data.error for e in result.all_events if e.is_step_failure]
    assert any("does not exist" in f.message for f in failures)
    assert not any(_leaks(text) for text in stored)
    out = capfd.readouterr()
    assert not _leaks(out.out + out.err)
    with psycopg.connect(database_urls["warehouse"]) as conn:
        errors = [m for (m,) in conn.execute("SELECT error_message FROM etl_batches WHERE status = 'failed'")]
    assert errors and not any(_leaks(m) for m in errors)


def test_a_failed_cli_load_keeps_the_password_out_of_output_and_dagster_home(database_urls, tmp_path):
    urls = _with_password(database_urls, "smwt_no_such_citizen_db")
    home = tmp_path / "dagster_home"
    day = TEST_START + timedelta(days=1)
    done = subprocess.run([sys.executable, "-m", "smart_warehouse_assets.cli", "load", "--start", day.isoformat(),
                           "--end", day.isoformat()], env=cli_env(urls, home), capture_output=True, text=True,
                          timeout=300)
    assert done.returncode != 0
    assert "FAILED staging__service_applications" in done.stderr and "does not exist" in done.stderr
    assert not _leaks(done.stdout + done.stderr)
    files = [p for p in Path(home).rglob("*") if p.is_file()]
    assert any(p.suffix == ".db" for p in files)
    assert [p.name for p in files if SECRET.encode() in p.read_bytes()] == []
