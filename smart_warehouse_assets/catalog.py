"""What the warehouse DDL says about each table, read from ``sql/warehouse``.

The COMMENT ON statements are the single source of column documentation: the Dagster UI's
column schema and the data dictionary are both built from them, so they cannot drift.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

import dagster as dg

from smart_warehouse_assets.migrations import migration_files
from smart_warehouse_assets.paths import SQL_ROOT

_CREATE = re.compile(
    r"CREATE (?:UNLOGGED )?TABLE (?P<name>[\w.]+) \((?P<body>.*?)\n\);", re.DOTALL
)
_COLUMN = re.compile(r"^\s{4}(?P<col>[a-z_][a-z0-9_]*)\s+(?P<type>[a-z][a-z_]*(?: [a-z]+)*(?:\s*\(\s*\d+(?:,\s*\d+)?\))?)")
_NOT_COLUMNS = {"check", "primary", "unique", "foreign", "constraint", "exclude"}
# A later migration's ALTER TABLE ... ADD COLUMN name type ..., [ADD COLUMN ...];
_ALTER = re.compile(r"ALTER TABLE (?P<name>[\w.]+)\s+ADD COLUMN (?P<body>[^;]*);")
_ADDED = re.compile(r"(?:IF NOT EXISTS )?(?P<col>[a-z_][a-z0-9_]*)\s+(?P<type>[a-z]+(?: (?!NOT\b|NULL\b|DEFAULT\b|CHECK\b)[a-z]+)*(?:\s*\(\s*\d+(?:,\s*\d+)?\))?)(?P<rest>.*)", re.DOTALL)
_NEW_PRIMARY_KEY = re.compile(r"ALTER TABLE ([\w.]+) ADD PRIMARY KEY \(([^)]*)\);")
_TABLE_PRIMARY_KEY = re.compile(r"^\s{4}PRIMARY KEY \(([^)]*)\)", re.MULTILINE)
_TABLE_COMMENT = re.compile(r"COMMENT ON TABLE ([\w.]+) IS '((?:[^']|'')*)';")
_COLUMN_COMMENT = re.compile(r"COMMENT ON COLUMN ([\w.]+)\.(\w+) IS '((?:[^']|'')*)';")


@dataclass
class Column:
    name: str
    type: str
    description: str = ""
    not_null: bool = False
    primary_key: bool = False


@dataclass
class Table:
    name: str  # schema-qualified, e.g. public.dim_citizen
    description: str = ""
    source: str = ""  # the migration that creates it, e.g. warehouse/003_facts.sql
    columns: dict[str, Column] = field(default_factory=dict)

    @property
    def grain(self) -> str:
        m = re.search(r"Grain: ([^.]+(?:\.\d[^.]*)?)\.", self.description)
        return m.group(1) if m else ""

    def column_schema(self) -> dg.TableSchema:
        return dg.TableSchema(
            columns=[dg.TableColumn(c.name, c.type, description=c.description) for c in self.columns.values()]
        )


@cache
def warehouse_tables() -> dict[str, Table]:
    """Every table of sql/warehouse with its columns and comments, keyed by qualified name."""
    tables: dict[str, Table] = {}
    files = [f.path for f in migration_files(SQL_ROOT / "warehouse")]
    if not files:  # an install without sql/: say so instead of defining no assets
        raise RuntimeError(f"no warehouse DDL in {SQL_ROOT / 'warehouse'}: the package was installed without sql/")
    for path in files:
        text = path.read_text()
        for m in _CREATE.finditer(text):
            table = tables.setdefault(m["name"], Table(m["name"], source=f"warehouse/{path.name}"))
            for line in m["body"].splitlines():
                c = _COLUMN.match(line)
                if c and c["col"] not in _NOT_COLUMNS:
                    key = "PRIMARY KEY" in line
                    table.columns[c["col"]] = Column(
                        c["col"], re.sub(r"\s+", "", c["type"]) if "(" in c["type"] else c["type"],
                        not_null=key or "NOT NULL" in line, primary_key=key,
                    )
            for pk in _TABLE_PRIMARY_KEY.finditer(m["body"]):
                for col in pk[1].split(","):
                    table.columns[col.strip()].primary_key = table.columns[col.strip()].not_null = True
        for m in _ALTER.finditer(text):
            for clause in re.split(r",\s*ADD COLUMN ", m["body"]):
                c = _ADDED.match(clause.strip())
                tables[m["name"]].columns[c["col"]] = Column(
                    c["col"], re.sub(r"\s+", "", c["type"]) if "(" in c["type"] else c["type"],
                    not_null="NOT NULL" in c["rest"])
        for name, key in _NEW_PRIMARY_KEY.findall(text):  # replaces the table's primary key
            for column in tables[name].columns.values():
                column.primary_key = False
            for col in key.split(","):
                tables[name].columns[col.strip()].primary_key = tables[name].columns[col.strip()].not_null = True
        for name, comment in _TABLE_COMMENT.findall(text):
            tables[name].description = comment.replace("''", "'")
        for name, col, comment in _COLUMN_COMMENT.findall(text):
            tables[name].columns[col].description = comment.replace("''", "'")
    return tables


def table(name: str) -> Table:
    return warehouse_tables()[name if "." in name else f"public.{name}"]


def table_metadata(name: str) -> dict:
    """Definition metadata for the asset that owns table ``name``."""
    t = table(name)
    return {
        "dagster/table_name": f"smart_warehouse.{t.name}",
        "dagster/column_schema": t.column_schema(),
        "grain": t.grain,
    }
