"""The README's main command end to end: `smart-warehouse demo` as a user runs it.

Each run is a real subprocess on throwaway databases, with its own Dagster home and state
folder (seed manifest): first on empty databases, then again on what it left, then asked
for another world, then against a server that is not there.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import datetime, timedelta

import pytest
from psycopg import sql

from smart_warehouse_assets.partitions import IST
from smart_warehouse_assets.settings import DATABASES
from tests.conftest import cli_env
from tests.warehouse.helpers import DIMENSIONS, FACTS, contents, rows, scalar

SCALE, DAYS = "0.05", "14"  # the smallest world that still gets every kind of dirty row


def _demo(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "smart_warehouse_assets.cli", "demo", *args],
                          env=env, capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)


def _env(urls: dict[str, str], tmp_path) -> dict[str, str]:
    env = cli_env(urls, tmp_path / "home", SMART_STATE_DIR=str(tmp_path / "state"))
    del env["SMART_PARTITION_START"]  # the demo decides it: its first seeded day
    return env


def _counts(urls: dict[str, str]) -> dict[str, object]:
    """What the demo built: every fact and aggregate row, the size of each dimension."""
    wh = urls["warehouse"]
    snapshot: dict[str, object] = {t: contents(wh, t) for t in FACTS}
    snapshot |= {t: scalar(wh, sql.SQL("SELECT count(*) FROM public.{}").format(sql.Identifier(t)))
                 for t in DIMENSIONS}
    snapshot["portal applications"] = scalar(urls["citizen"], "SELECT count(*) FROM service_applications")
    return snapshot


@pytest.fixture(scope="module")
def first_demo(make_database_set, tmp_path_factory):
    """One demo on five empty databases (not even migrated), shared by the tests below."""
    tmp_path = tmp_path_factory.mktemp("demo")
    urls = make_database_set(label="demo")
    env = _env(urls, tmp_path)
    return urls, env, tmp_path, _demo(env, "--scale", SCALE, "--days", DAYS)


def test_demo_builds_the_warehouse_from_nothing(first_demo):
    urls, env, tmp_path, run = first_demo
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "generating: seed=" in run.stdout
    assert "Open the UI" in run.stdout and "Query it" in run.stdout
    built = _counts(urls)
    assert all(built[t] for t in (*FACTS, *DIMENSIONS)), {t: bool(built[t]) for t in (*FACTS, *DIMENSIONS)}
    assert scalar(urls["warehouse"], "SELECT count(*) FROM public.etl_batches WHERE status <> 'success'") == 0


def test_demo_partitions_start_on_the_first_seeded_day(first_demo):
    urls, env, tmp_path, run = first_demo
    manifest = json.loads((tmp_path / "state" / "seed_manifest.json").read_text())
    assert f"materializing the warehouse for {manifest['start']} ..." in run.stdout
    first_day = scalar(urls["warehouse"], "SELECT min(submitted_date_key) FROM public.fact_service_applications")
    assert str(first_day) == manifest["start"].replace("-", "")
    assert scalar(urls["warehouse"], "SELECT count(DISTINCT submitted_date_key) FROM public.fact_service_applications") \
        == int(DAYS)


def test_a_second_demo_keeps_the_world_and_gives_the_same_warehouse(first_demo):
    urls, env, tmp_path, run = first_demo
    before = _counts(urls)
    again = _demo(env, "--scale", SCALE, "--days", DAYS)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert "portals already hold the demo world" in again.stdout
    assert "generating:" not in again.stdout
    assert _counts(urls) == before


def test_a_demo_asked_for_another_world_stops_with_the_reason(first_demo):
    urls, env, tmp_path, run = first_demo
    before = _counts(urls)
    other = _demo(env, "--scale", SCALE, "--days", "10")
    assert other.returncode == 1
    assert "not this demo's world" in other.stderr and "days 14 (asked 10)" in other.stderr
    assert "Traceback" not in other.stderr + other.stdout
    assert _counts(urls) == before


def test_a_demo_on_portals_holding_unknown_data_stops(first_demo, tmp_path):
    """Data with no manifest beside it (another machine seeded it, say) is not taken for ours."""
    urls, env, _, run = first_demo
    other = _demo(dict(env, SMART_STATE_DIR=str(tmp_path / "empty-state")), "--scale", SCALE, "--days", DAYS)
    assert other.returncode == 1
    assert "no seed manifest describes them" in other.stderr
    assert "Traceback" not in other.stderr + other.stdout


def test_a_demo_against_an_unreachable_server_says_where_and_stops(tmp_path):
    password = "n0t-a-real-secret"
    urls = {key: f"postgresql://smart:{password}@127.0.0.1:1/{db.name}" for key, db in DATABASES.items()}
    env = _env(urls, tmp_path)
    run = _demo(env, "--scale", SCALE, "--days", DAYS)
    assert run.returncode == 1
    assert "127.0.0.1:1" in run.stderr
    assert "Traceback" not in run.stderr + run.stdout
    assert password not in run.stderr + run.stdout
    assert len([line for line in run.stderr.splitlines() if line.strip()]) == 1, run.stderr
    assert not os.path.exists(tmp_path / "state" / "seed_manifest.json")


def _portal_rows(urls: dict[str, str]) -> int:
    """Rows in every table of the four portals, the migration ledger and the audit trails aside
    (audit_log, dept_audit_log, monitor_audit_log: the portals' triggers write a trail row per
    row the simulator inserts or updates there, so at an hour of the simulated day with citizen
    or department activity they gain more than it wrote)."""
    total = 0
    for key, url in urls.items():
        if key == "warehouse":
            continue
        tables = [t for (t,) in rows(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                                          "AND tablename <> 'schema_migrations' AND tablename NOT LIKE '%audit\\_log'")]
        total += sum(scalar(url, sql.SQL("SELECT count(*) FROM public.{}").format(sql.Identifier(t))) for t in tables)
    return total


def test_simulate_advances_the_demo_world_from_the_cli(first_demo):
    """Last in this module: it changes the portals the tests above share. The day simulated is
    today (IST), lived only up to the clock, so how much happens depends on the hour; what the
    command says it wrote must be what the portals gained, at any hour."""
    urls, env, _, _ = first_demo
    before = _portal_rows(urls)
    run = subprocess.run([sys.executable, "-m", "smart_warehouse_assets.cli", "simulate", "--days", "1"],
                         env=env, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    today = datetime.now(IST).date()
    assert re.search(rf"^simulated ({today - timedelta(days=1)}|{today})\b", run.stdout, re.M), run.stdout
    inserted = re.search(r"^simulate: ([\d,]+) rows inserted, ([\d,]+) updated", run.stdout, re.M)
    assert inserted, run.stdout
    assert "changed submission days:" in run.stdout
    assert _portal_rows(urls) - before == int(inserted[1].replace(",", ""))
