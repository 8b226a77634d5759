"""Migrations apply to empty databases, repeat as a no-op, and refuse edited files."""

from __future__ import annotations

import shutil

import psycopg
import pytest

from smart_warehouse_assets.migrations import MigrationError, migrate, status
from smart_warehouse_assets.paths import SQL_ROOT
from smart_warehouse_assets.settings import DATABASES
from tests.warehouse.helpers import contents


def _schema_fingerprint(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            """
            SELECT c.table_schema, c.table_name, c.column_name, c.data_type, c.is_nullable,
                   (SELECT count(*) FROM public.schema_migrations)
            FROM information_schema.columns c
            WHERE c.table_schema IN ('public', 'staging')
            ORDER BY 1, 2, 3
            """
        ).fetchall()


def test_every_database_has_every_migration_applied(database_urls):
    for key, url in database_urls.items():
        st = status(url, SQL_ROOT / key)
        assert st.pending == [] and st.changed == [] and st.missing == []
        assert len(st.applied) == len(list((SQL_ROOT / key).glob("*.sql")))


def test_second_run_is_a_no_op(database_urls):
    before = {k: _schema_fingerprint(u) for k, u in database_urls.items()}
    for key, url in database_urls.items():
        assert migrate(url, SQL_ROOT / key) == []
    assert {k: _schema_fingerprint(u) for k, u in database_urls.items()} == before


def test_fresh_database_migrates_from_empty(make_database_set):
    urls = make_database_set(label="empty")
    for key, url in urls.items():
        applied = migrate(url, SQL_ROOT / key)
        assert applied == sorted(p.name for p in (SQL_ROOT / key).glob("[0-9][0-9][0-9]_*.sql"))


def test_step_sla_breaches_of_a_loaded_warehouse_are_filled_as_a_reload_would_write_them(loaded):
    """061 adds agg_daily_applications.step_sla_breaches to a warehouse that already holds days:
    it counts them from the facts, so no day waits for its next reload to be right."""
    wh = loaded[0]["warehouse"]
    reloaded = contents(wh, "agg_daily_applications")
    assert any(row[-1] for row in reloaded)  # step_sla_breaches, the table's last column
    with psycopg.connect(wh) as conn:  # the warehouse as it was before 061
        conn.execute("ALTER TABLE agg_daily_applications DROP COLUMN step_sla_breaches")
        conn.execute("DELETE FROM schema_migrations WHERE filename = '061_step_sla_breaches.sql'")
    assert migrate(wh, SQL_ROOT / "warehouse") == ["061_step_sla_breaches.sql"]
    assert contents(wh, "agg_daily_applications") == reloaded


def test_edited_applied_file_is_refused(database_urls, tmp_path):
    folder = tmp_path / "warehouse"
    shutil.copytree(SQL_ROOT / "warehouse", folder)
    edited = sorted(folder.glob("*.sql"))[0]
    edited.write_text(edited.read_text() + "\n-- an innocent-looking edit\n")
    with pytest.raises(MigrationError, match=edited.name):
        migrate(database_urls["warehouse"], folder)
    assert status(database_urls["warehouse"], folder).changed == [edited.name]


def test_failing_migration_rolls_back_whole_file(database_urls, tmp_path):
    folder = tmp_path / "warehouse"
    shutil.copytree(SQL_ROOT / "warehouse", folder)
    (folder / "999_broken.sql").write_text(
        "CREATE TABLE public.half_done (id int);\nSELECT * FROM no_such_table;\n"
    )
    with pytest.raises(MigrationError, match="999_broken.sql"):
        migrate(database_urls["warehouse"], folder)
    with psycopg.connect(database_urls["warehouse"]) as conn:
        assert conn.execute("SELECT to_regclass('public.half_done')").fetchone()[0] is None
    assert "999_broken.sql" in status(database_urls["warehouse"], folder).pending


def test_five_databases_are_known():
    assert {d.name for d in DATABASES.values()} == {
        "smart_citizen", "smart_dept", "smart_aiml", "smart_monitor", "smart_warehouse"
    }
