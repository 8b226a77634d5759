"""docs/data-dictionary.md is what the DDL says, and what the DDL says is what PostgreSQL has.

The page is regenerated in memory and compared byte for byte with the committed file; the
catalog it is built from (a reader of the .sql files) is compared with the catalog of a
freshly migrated warehouse, so a column added by ALTER TABLE or a comment the reader
missed cannot leave the page silently wrong.
"""

from __future__ import annotations

import difflib

import psycopg

from smart_warehouse_assets import docs
from smart_warehouse_assets.catalog import warehouse_tables

# Type spellings of the DDL that PostgreSQL reports under another name.
_ALIASES = {"timestamptz": "timestamp with time zone", "int": "integer", "bool": "boolean"}


def test_data_dictionary_is_up_to_date_with_sql():
    expected = docs.render()
    current = docs.DICTIONARY_PATH.read_text() if docs.DICTIONARY_PATH.exists() else ""
    if current != expected:
        diff = "".join(list(difflib.unified_diff(
            current.splitlines(keepends=True), expected.splitlines(keepends=True),
            "docs/data-dictionary.md (committed)", "docs/data-dictionary.md (from sql/)", n=1))[:40])
        raise AssertionError(f"docs/data-dictionary.md is out of date: run `{docs.REGENERATE}`\n{diff}")


def test_check_mode_agrees(capsys):
    assert docs.main(["--check"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_every_table_has_a_grain_and_every_column_a_meaning():
    page = docs.DICTIONARY_PATH.read_text()
    for table in warehouse_tables().values():
        assert table.grain, f"{table.name}: the table comment has no 'Grain: ...' sentence"
        assert f"### `{table.name}`" in page
        for column in table.columns.values():
            assert column.description, f"{table.name}.{column.name} has no COMMENT"


def test_catalog_matches_the_migrated_database(migrated_template):
    """Tables, columns, types, nullability, keys and comments as PostgreSQL sees them."""
    with psycopg.connect(migrated_template["warehouse"]) as conn:
        live = conn.execute("""
            SELECT n.nspname || '.' || c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
                   a.attnotnull, coalesce(col_description(c.oid, a.attnum), ''),
                   coalesce(obj_description(c.oid, 'pg_class'), ''),
                   EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'p'
                           AND a.attnum = ANY (k.conkey))
            FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
            WHERE c.relkind IN ('r', 'p') AND n.nspname IN ('public', 'staging')
              AND c.relname <> 'schema_migrations'
            ORDER BY 1, a.attnum
        """).fetchall()
    catalog = warehouse_tables()
    live_tables: dict[str, list] = {}
    for table, *rest in live:
        live_tables.setdefault(table, []).append(rest)
    assert sorted(live_tables) == sorted(catalog), "tables in the database differ from the tables in sql/warehouse"
    for name, columns in live_tables.items():
        table = catalog[name]
        assert [c[0] for c in columns] == list(table.columns), f"{name}: columns (or their order) differ"
        assert table.description == columns[0][4], f"{name}: table comment differs"
        for column, pg_type, not_null, comment, _, primary_key in columns:
            parsed = table.columns[column]
            assert _ALIASES.get(parsed.type, parsed.type) == pg_type.replace(", ", ","), f"{name}.{column}: type"
            assert parsed.not_null == not_null, f"{name}.{column}: nullability"
            assert parsed.primary_key == primary_key, f"{name}.{column}: primary key"
            assert parsed.description == comment, f"{name}.{column}: comment"


def test_column_lineage_names_real_columns():
    """Every column the dictionary says a fact column is computed from exists in its table."""
    catalog = warehouse_tables()
    by_asset = {info.key: table for table, info in docs.owning_assets().items()}
    for table, lineage in docs.column_lineage().items():
        for column, sources in lineage.items():
            assert column in catalog[table].columns, f"{table}.{column} is not a column"
            for asset, source_column in sources:
                assert asset in by_asset, f"{table}.{column}: {asset} is not a warehouse asset"
                assert source_column in catalog[by_asset[asset]].columns, f"{table}.{column}: {asset}.{source_column}"
