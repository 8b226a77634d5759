"""Partition keys, CLI arguments and configuration are validated before they reach SQL,
and SQL is never built from values with f-strings (property-based tests of odd portal
rows are in test_hostile_rows.py)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import dagster as dg
import psycopg
import pytest

from smart_warehouse_assets import partitions
from smart_warehouse_assets.definitions import build_definitions
from smart_warehouse_assets.dimensions.assets import CalendarSettings
from smart_warehouse_assets.jobs import run_load
from smart_warehouse_assets.quality.spec import QualityThresholds
from tests.conftest import TEST_START, quality_thresholds
from tests.trust.conftest import cli_env, count

HOSTILE = "2026-01-01'; drop table x; --"
PACKAGE = Path(partitions.__file__).resolve().parent


def _canary(urls: dict[str, str]) -> None:
    with psycopg.connect(urls["warehouse"]) as conn:
        conn.execute("CREATE TABLE public.x (i int)")


def _untouched(urls: dict[str, str]) -> bool:
    return count(urls["warehouse"], "SELECT count(*) FROM pg_tables WHERE tablename = 'x'") == 1 and \
        count(urls["warehouse"], "SELECT count(*) FROM etl_batches") == 0


@pytest.mark.parametrize("args,message", [
    (["--start", HOSTILE], "--start \"2026-01-01'; drop table x; --\" is not a day in the form YYYY-MM-DD"),
    (["--start", "2026-09-01", "--end", HOSTILE], "is not a day in the form YYYY-MM-DD"),
    (["--start", "2026-02-30"], "'2026-02-30' is not a real calendar day"),
    (["--start", "2026-09-01\n"], "is not a day in the form YYYY-MM-DD"),
    (["--start", "\u0662\u0660\u0662\u0666-\u0660\u0669-\u0660\u0661"], "is not a day in the form YYYY-MM-DD"),
])
def test_the_cli_refuses_a_hostile_day_with_a_clear_message(database_urls, tmp_path, args, message):
    _canary(database_urls)
    done = subprocess.run([sys.executable, "-m", "smart_warehouse_assets.cli", "load", *args],
                          env=cli_env(database_urls, tmp_path), capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert _untouched(database_urls)


def test_a_hostile_partition_start_setting_is_refused_before_anything_runs(database_urls, tmp_path):
    done = subprocess.run([sys.executable, "-m", "smart_warehouse_assets.cli", "load"],
                          env=cli_env(database_urls, tmp_path, SMART_PARTITION_START=HOSTILE),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "SMART_PARTITION_START" in done.stderr and "is not a day in the form YYYY-MM-DD" in done.stderr


def test_dagster_runs_refuse_hostile_partition_keys_and_ranges(database_urls):
    _canary(database_urls)
    defs = build_definitions(database_urls, quality_thresholds())
    job = defs.resolve_job_def("warehouse_load")
    with dg.DagsterInstance.ephemeral() as instance:
        with pytest.raises(partitions.InvalidPartition, match="is not a day in the form YYYY-MM-DD"):
            run_load(defs, HOSTILE, TEST_START, instance=instance)
        with pytest.raises(dg.DagsterUnknownPartitionError):
            job.execute_in_process(instance=instance, partition_key=HOSTILE)
        with pytest.raises(ValueError, match="does not match format"):
            job.execute_in_process(instance=instance, tags={"dagster/asset_partition_range_start": HOSTILE,
                                                            "dagster/asset_partition_range_end": HOSTILE})
        # A range that ends before it starts fails at once, named, and is not retried.
        backwards = job.execute_in_process(instance=instance, raise_on_error=False, tags={
            "dagster/asset_partition_range_start": "2026-09-03", "dagster/asset_partition_range_end": "2026-09-01"})
    assert not backwards.success
    assert not [e for e in backwards.all_events if e.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY]
    messages = [e.step_failure_data.error.message for e in backwards.all_events if e.is_step_failure]
    assert messages and all("ends before it starts" in m for m in messages)
    assert count(database_urls["warehouse"], "SELECT count(*) FROM pg_tables WHERE tablename = 'x'") == 1
    # Only the unpartitioned assets (which ignore the range) wrote anything.
    assert count(database_urls["warehouse"], "SELECT count(*) FROM etl_batches WHERE partition_key IS NOT NULL") == 0


@pytest.mark.parametrize("values", [
    {"quarantine_warn": 1.5}, {"unknown_member_error": -0.1}, {"quarantine_error": float("nan")},
    {"unknown_member_warn": float("inf")}, {"quarantine_warn": 0.5, "quarantine_error": 0.2},
    {"unknown_member_warn": 0.3, "unknown_member_error": 0.2}, {"rate_min_rows": 0},
    {"freshness_max_lag_days": -1}, {"quarantine_error": "0.1; drop table x"},
])
def test_quality_thresholds_are_fractions_with_warn_before_error(values):
    with pytest.raises(Exception, match="validation error for QualityThresholds"):
        QualityThresholds(**values)


def test_quality_thresholds_accept_the_edges():
    QualityThresholds(quarantine_warn=0, quarantine_error=0, unknown_member_warn=1, unknown_member_error=1)
    QualityThresholds(quarantine_warn=0.2, quarantine_error=0.2)


@pytest.mark.parametrize("holidays", [
    {HOSTILE: "Holi"}, {"2026-02-30": "Holi"}, {"2026-3-4": "Holi"}, {"2026-03-04": ""},
    {"2026-03-04": "Holi\nday"}, {"2026-03-04": "x" * 101},
])
def test_calendar_settings_refuse_unreal_days_and_odd_names(holidays):
    with pytest.raises(Exception, match="validation error for CalendarSettings"):
        CalendarSettings(extra_holidays=holidays)


def test_calendar_settings_accept_a_plain_holiday():
    assert CalendarSettings(extra_holidays={"2026-03-04": "Holi, festival of colours"}).extra_holidays


@pytest.mark.parametrize("state_holidays", [
    {"": {"2026-09-14": "Ganesh Chaturthi"}}, {"Kerala\n": {"2026-08-26": "Onam"}},
    {"Kerala": {"2026-8-26": "Onam"}}, {"Kerala": {"2026-08-26": ""}}, {"Kerala": {"2040-08-26": "Onam"}},
])
def test_calendar_settings_refuse_odd_state_holidays(state_holidays):
    with pytest.raises(Exception, match="validation error for CalendarSettings"):
        CalendarSettings(state_holidays=state_holidays)


@pytest.mark.parametrize(("text", "says"), [
    ("[[holiday]\ndate = 2026-09-14", "not valid TOML"),
    ("[[holiday]]\ndate = 2026-09-14\nname = 'Ganesh Chaturthi'\nstate = ['Goa']", "unknown keys ['state']"),
    ("[[holiday]]\ndate = 2026-09-14", "needs both date and name"),
    ("[[holiday]]\ndate = '2026-09-14'\nname = 'Ganesh Chaturthi'", "must be a date written YYYY-MM-DD"),
    ("[[holiday]]\ndate = 2019-09-14\nname = 'Ganesh Chaturthi'", "outside the calendar"),
    ("[[holiday]]\ndate = 2026-09-14\nname = 'Ganesh Chaturthi'\nstates = []", "non-empty list"),
    ("[[holiday]]\ndate = 2026-09-14\nname = 'A'\nstates = ['Goa']\n"
     "[[holiday]]\ndate = 2026-09-14\nname = 'B'\nstates = ['Goa']", "2026-09-14 is a holiday twice for Goa"),
    ("holidays = 3", "unknown top-level keys"),
])
def test_a_holidays_file_is_refused_naming_the_file_the_entry_and_the_fault(tmp_path, text, says):
    path = tmp_path / "holidays.toml"
    path.write_text(text)
    with pytest.raises(Exception, match="validation error for CalendarSettings") as raised:
        CalendarSettings(holidays_file=str(path))
    assert says in str(raised.value) and (str(path) in str(raised.value) or "twice" in says)


def test_a_holidays_file_of_its_own_replaces_the_shipped_one_and_config_renames_a_day(tmp_path):
    path = tmp_path / "holidays.toml"
    path.write_text("[[holiday]]\ndate = 2026-09-14\nname = 'Ganesh Chaturthi'\nstates = ['Goa', 'Maharashtra']\n")
    settings = CalendarSettings(holidays_file=str(path), state_holidays={"Goa": {"2026-09-14": "Chavath"}},
                                extra_holidays={"2026-11-08": "Diwali"})
    assert {(str(h.day), h.state, h.name) for h in settings.all_holidays()} == {
        ("2026-09-14", "Goa", "Chavath"), ("2026-09-14", "Maharashtra", "Ganesh Chaturthi"),
        ("2026-11-08", None, "Diwali")}


_VALUE_SQL = re.compile(
    r"""(\.execute(?:many)?|\.copy|sql\.SQL|\bSQL)\(\s*f["']"""  # a statement that is an f-string
    r"""|(\.execute(?:many)?|\.copy)\([^)]*["']\s*%\s*[(\w]"""  # or %-formatted in place
)


def test_no_sql_is_built_from_values_with_string_formatting():
    """Statements are constants or psycopg.sql compositions; values are always parameters.
    (A few constants are assembled from other constants with f-strings at import time, e.g.
    the facts' SELECTs in facts/*.py; no value from a run, a setting or a row takes that path.)"""
    offenders = [f"{path.relative_to(PACKAGE)}:{n}" for path in sorted(PACKAGE.rglob("*.py"))
                 for n, line in enumerate(path.read_text().splitlines(), start=1) if _VALUE_SQL.search(line)]
    assert offenders == []
