"""`smart-warehouse backup` / `restore`: pg_dump custom format there, pg_restore back, same tables."""

from __future__ import annotations

import json

import psycopg
import pytest
from click.testing import CliRunner
from psycopg import sql

from smart_warehouse_assets.cli import main
from smart_warehouse_assets.operations.backup import checksums_of
from smart_warehouse_assets.settings import DATABASES, derived_url, with_dbname
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
