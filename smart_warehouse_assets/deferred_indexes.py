"""Indexes built after a load that rewrites a whole table, not kept up to date row by row.

Why: when millions of rows are written at once, the indexes cost more than the rows, and a
table whose old rows were just deleted costs the most: each new key is checked against the
dead entry of its old row in the unique index. Measured on fact_application_processing at
scale 10 (2.15 M rows): rows deleted then inserted with the key kept and ``ON CONFLICT``
41.5 s; into a table without indexes 6 s, the key added afterwards 2 s and the three other
indexes 5.6 s.

So a load that replaces every row of a table (a first load, the weekly full reload) drops
the table's indexes in its transaction, key and unique constraints included, writes the
rows, and builds them all again before it commits: a failure rolls back to the old table
with its old indexes, a reader never sees the table without them, and a duplicated key
fails the load at the key's rebuild with the key named. The old rows are deleted, not
truncated, so a reader's older snapshot still sees them.

"Every row" allows a sliver (``KEPT_SHARE``): a change-driven run stages the rows changed
in its window whatever their day, so after the nightly run a few rows of today sit beyond
the last partition the weekly full reload replaces (every partition ends yesterday). Those
rows are kept, and any of them whose key the load writes again is deleted first by its
caller (a moved row), so the rebuilt key cannot fail on them.

Dropping an index takes the table's ACCESS EXCLUSIVE lock until commit: readers wait for the
load instead of reading the old rows. So this is tried only when the load replaces the table
(but for that sliver), and only if the lock comes within ``LOCK_WAIT``: a long analyst query
holding the table keeps the load on the ordinary path (indexes maintained), rather than
queueing every later reader behind it. So does a role that may not build the table's
indexes. A constraint another table's foreign key relies on is kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import errors, sql

LOCK_WAIT = "2s"
# Sorting for an index build: more than the server's default (64 MB) spills less to disk.
BUILD_MEMORY = "256MB"

# (constraint or index name, the statement that builds it again), constraints first.
_INDEXES = """
SELECT c.conname, format('ALTER TABLE %%s ADD CONSTRAINT %%I %%s', %(table)s::regclass, c.conname,
                         pg_get_constraintdef(c.oid)), true
FROM pg_constraint c
WHERE c.conrelid = %(table)s::regclass AND c.contype IN ('p', 'u')
  AND NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = c.conindid)
UNION ALL
SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid), false
FROM pg_index i
WHERE i.indrelid = %(table)s::regclass
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
ORDER BY 3 DESC, 1
"""


@contextmanager
def deferred(conn: psycopg.Connection, table: str, replacing: bool) -> Iterator[bool]:
    """Inside ``conn``'s transaction: when ``replacing`` (the load replaces the table, but for
    the rows ``rows_outside`` allows) and the lock comes in time, drop the
    indexes of ``table`` ("schema.name") for the block and build them again after it. Yields
    whether it did (then the table has no unique index: no ``ON CONFLICT`` inside)."""
    if not replacing or not _locked(conn, table):
        yield False
        return
    indexes = conn.execute(_INDEXES, {"table": table}).fetchall()
    for name, _, constraint in indexes:
        if constraint:
            conn.execute(sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(_qualified(table), sql.Identifier(name)))
        else:
            conn.execute(sql.SQL("DROP INDEX {}").format(sql.SQL(name)))  # regclass text: quoted as needed
    yield True
    conn.execute(sql.SQL("SET LOCAL maintenance_work_mem = {}").format(sql.Literal(BUILD_MEMORY)))
    for _, build, _ in indexes:
        conn.execute(build)


# The rows outside first..last (or with no day at all), counted by the column's index until
# they pass %(limit)s (the LIMIT binds the whole UNION ALL).
_OUTSIDE = """
SELECT count(*) FROM (
    SELECT 1 FROM {0} WHERE {1} < %(first)s UNION ALL SELECT 1 FROM {0} WHERE {1} > %(last)s
    UNION ALL SELECT 1 FROM {0} WHERE {1} IS NULL LIMIT %(limit)s + 1) outside
"""
# The rows a load may keep outside its days and still build the indexes after its rows.
KEPT_SHARE = 0.05


def rows_outside(conn: psycopg.Connection, table: str, column: str, first, last) -> int | None:
    """How many rows of ``table`` ("schema.name") a load replacing the rows whose ``column``
    lies in first..last keeps: 0 when it replaces every row, None when they are more than
    ``KEPT_SHARE`` of the table (by the planner's row count, which each load's ANALYZE keeps)."""
    (estimate,) = conn.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", (table,)).fetchone()
    limit = int(max(estimate, 0) * KEPT_SHARE)
    query = sql.SQL(_OUTSIDE).format(_qualified(table), sql.Identifier(column))
    (outside,) = conn.execute(query, {"first": first, "last": last, "limit": limit}).fetchone()
    return outside if outside <= limit else None


def _qualified(table: str) -> sql.Composable:
    schema, name = table.split(".")
    return sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(name))


# Building an index takes the table's owner and CREATE on its schema (sql/roles/warehouse.sql
# grants both to the writer role; a database whose grants predate that keeps the ordinary path).
_MAY_BUILD = """
SELECT pg_has_role(c.relowner, 'USAGE') AND has_schema_privilege(c.relnamespace, 'CREATE')
FROM pg_class c WHERE c.oid = %(table)s::regclass
"""


def _locked(conn: psycopg.Connection, table: str) -> bool:
    if not conn.execute(_MAY_BUILD, {"table": table}).fetchone()[0]:
        return False
    (waited,) = conn.execute("SHOW lock_timeout").fetchone()
    try:
        with conn.transaction():  # a savepoint: a lock that times out must not abort the load
            conn.execute("SELECT set_config('lock_timeout', %s, true)", (LOCK_WAIT,))
            conn.execute(sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(_qualified(table)))
    except errors.LockNotAvailable:
        return False  # the savepoint's rollback undid the setting too
    # The lock lasts until the outer transaction ends; the short wait must not.
    conn.execute("SELECT set_config('lock_timeout', %s, true)", (waited,))
    return True
