"""The seed's loader: one database's tables in one transaction, fed block by block.

``seed`` makes the world in blocks; each block of a table is encoded in PostgreSQL's
binary COPY format by the thread that made it and copied in by the database's own loader
thread while the next blocks are being made. The blocks waiting to be copied are bounded
in bytes, so the generator waits for a slow database rather than piling the world up in
memory.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import polars as pl
import psycopg
from psycopg import sql
from psycopg.copy import QueuedLibpqWriter

from smart_warehouse_assets.synthetic import pgbinary
from smart_warehouse_assets.synthetic.core import SyntheticDataError, connect, copy_frame

_SECONDARY_INDEXES = """
SELECT pg_get_indexdef(i.indexrelid), quote_ident(ic.relname), c.relname
FROM pg_index i
JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relname = ANY(%s)
  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
ORDER BY ic.relname
"""

# Keys of the loaded tables and every foreign key that touches them: the foreign keys
# first (they depend on the keys), in a stable order.
_KEYS = """
SELECT quote_ident(c.relname), quote_ident(k.conname), pg_get_constraintdef(k.oid), k.contype, c.relname
FROM pg_constraint k
JOIN pg_class c ON c.oid = k.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_class r ON r.oid = k.confrelid
WHERE n.nspname = 'public' AND k.contype IN ('p', 'u', 'f')
  AND (c.relname = ANY(%s) OR r.relname = ANY(%s))
ORDER BY k.contype = 'f' DESC, c.relname, k.conname
"""

_ABORT = object()

# Bytes of encoded blocks that may wait for a database's loader before the generator waits.
IN_FLIGHT_BYTES = 48 << 20


@dataclass
class _Table:
    """How a table's blocks are encoded (the same column order for all), and what went in."""
    types: dict[str, tuple[str, int]]
    columns: list[str] | None = None
    binary: bool = True
    rows: int = 0
    seconds: float = 0.0


class DatabaseLoad:
    """Load the tables of one database in one transaction, the way pg_restore does, fed
    block by block from another thread while the rest of the world is still being made.

    On ``start`` the tables are emptied and their keys and indexes set aside. Each block
    that arrives is copied in (frozen, in binary); when a table is ``close``d, its
    primary/unique keys and indexes are rebuilt right away from their pg_catalog
    definitions - one sort per index instead of one lookup per row. ``ready`` rebuilds
    what is left and re-adds the foreign keys (which validates every row, so nothing
    unchecked gets in); ``commit`` then commits, ``abort`` rolls back. The rebuilt objects
    are exactly those of the migrations: same names, same definitions.
    """

    def __init__(self, url: str, tables: Sequence[str], *, log: Callable[[str], None] = print,
                 label: str = "", in_flight_bytes: int = IN_FLIGHT_BYTES) -> None:
        self.url, self.tables, self.log, self.label = url, list(tables), log, label
        self.timings: dict[str, float] = {}
        self.rows = 0
        self._limit = in_flight_bytes
        self._in_flight = 0
        self._room = threading.Condition()
        self._queue: queue.Queue = queue.Queue()
        self._error: BaseException | None = None
        self._started = threading.Event()  # the column types are known
        self._prepared = threading.Event()
        self._decided = threading.Event()
        self._decision: list[bool] = []
        self._state: dict[str, _Table] = {}
        self._thread = threading.Thread(target=self._run, name=f"load-{label}", daemon=True)

    def start(self) -> DatabaseLoad:
        self._thread.start()
        return self

    # ------------------------------------------------------------------ the producer's side
    def put(self, table: str, df: pl.DataFrame) -> None:
        """Encode a block of a table (in the calling thread) and queue it for its COPY."""
        if table not in self.tables:
            raise SyntheticDataError(f"{self.label}.{table} is not one of the tables being loaded")
        self._wait(self._started)
        st = self._state[table]
        if st.columns is None:
            st.binary = pgbinary.supported(st.types, df.columns)
            st.columns = pgbinary.fixed_first(df.columns, st.types) if st.binary else list(df.columns)
        if set(df.columns) != set(st.columns):
            raise SyntheticDataError(f"{self.label}.{table}: a block with other columns than the first")
        if df.height == 0:
            return
        df = df.select(st.columns)
        payload = pgbinary.encode_rows(df, st.types) if st.binary else df
        size = payload.size if st.binary else df.estimated_size()
        with self._room:
            while self._in_flight and self._in_flight + size > self._limit and self._alive():
                self._room.wait(0.2)
            self._in_flight += size
        self._check()
        self._queue.put(("rows", table, payload, df.height, size))

    def close(self, table: str) -> None:
        """The table has all its rows: build its keys and indexes now."""
        self._check()
        self._queue.put(("close", table))

    def ready(self) -> None:
        """Wait until every row is in and every key is rebuilt and checked, short of the
        commit; raise what went wrong in the load."""
        self._queue.put(None)
        self._wait(self._prepared)

    def commit(self) -> dict[str, float]:
        self._decision.append(True)
        self._decided.set()
        self._thread.join()
        self._check()
        return self.timings

    def abort(self) -> None:
        """Roll the load back (the tables keep what they held)."""
        self._queue.put(_ABORT)
        self._decided.set()
        self._thread.join()

    def _alive(self) -> bool:
        return self._error is None and self._thread.is_alive()

    def _wait(self, event: threading.Event) -> None:
        while not event.wait(0.2):
            if not self._thread.is_alive():
                break
        self._check()

    def _check(self) -> None:
        if self._error is not None:
            raise self._error

    # ------------------------------------------------------------------ the loader's side
    def _run(self) -> None:
        try:
            self._load()
        except BaseException as exc:  # handed to the producer thread
            self._error = exc
        finally:
            with self._room:
                self._room.notify_all()

    def _load(self) -> None:
        tables = self.tables
        with connect(self.url) as conn:
            with conn.cursor() as cur:
                # One transaction that nobody waits on: no need to wait for the WAL flush at
                # commit, no parallel index workers (they only add overhead when all cores
                # are busy loading), enough memory to sort every index in memory.
                cur.execute("SET LOCAL synchronous_commit = off")
                cur.execute("SET LOCAL maintenance_work_mem = '256MB'")
                cur.execute("SET LOCAL max_parallel_maintenance_workers = 0")
                for table in tables:
                    types = {name: (typ, mod) for name, typ, mod in cur.execute(
                        pgbinary.COLUMN_TYPES_SQL, (sql.Identifier(table).as_string(conn),))}
                    self._state[table] = _Table(types)
                cur.execute(_SECONDARY_INDEXES, (tables,))
                indexes = cur.fetchall()
                cur.execute(_KEYS, (tables, tables))
                keys = cur.fetchall()
                # Only empty tables are loaded; TRUNCATE in this transaction also allows COPY FREEZE.
                cur.execute(sql.SQL("TRUNCATE {}").format(sql.SQL(", ").join(sql.Identifier(t) for t in tables)))
                # The portals' audit triggers would log every seeded row again: the seed is a
                # bulk load of a past that already carries its own audit trail. Disabled and
                # enabled inside this transaction, so no other session ever sees them off.
                for t in tables:
                    cur.execute(sql.SQL("ALTER TABLE {} DISABLE TRIGGER USER").format(sql.Identifier(t)))
                for table, name, _, _, _ in keys:
                    cur.execute(sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(sql.SQL(table), sql.SQL(name)))
                for _, name, _ in indexes:
                    cur.execute(sql.SQL("DROP INDEX {}").format(sql.SQL(name)))
            self._started.set()
            pending = set(tables)
            rebuild = 0.0
            while (item := self._queue.get()) is not None:
                if item is _ABORT:
                    conn.rollback()
                    return
                if item[0] == "rows":
                    _, table, payload, rows, size = item
                    self._copy(conn, table, payload, rows)
                    with self._room:
                        self._in_flight -= size
                        self._room.notify_all()
                elif item[1] in pending:  # close
                    self._report(item[1])
                    rebuild += self._rebuild(conn, [item[1]], keys, indexes)
                    pending.discard(item[1])
            for table in sorted(pending):
                self._report(table)
            t0 = time.perf_counter()
            self._rebuild(conn, sorted(pending), keys, indexes)
            with conn.cursor() as cur:
                for table, name, definition, kind, _ in reversed(keys):
                    if kind == "f":
                        cur.execute(sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} ").format(sql.SQL(table), sql.SQL(name))
                                    + sql.SQL(definition))
            self.timings["_keys_and_indexes"] = rebuild + time.perf_counter() - t0
            with conn.cursor() as cur:
                for t in tables:
                    cur.execute(sql.SQL("ALTER TABLE {} ENABLE TRIGGER USER").format(sql.Identifier(t)))
            self.log(f"  {self.label}: keys and indexes rebuilt in {self.timings['_keys_and_indexes']:.1f} s")
            # Commit only when every database is ready, so that a failure anywhere leaves
            # no database with a new world and the others with the old one.
            self._prepared.set()
            self._decided.wait()
            if not self._decision:
                conn.rollback()
                return
            conn.commit()

    def _report(self, table: str) -> None:
        st = self._state[table]
        self.log(f"  {self.label}.{table}: {st.rows:,} rows in {st.seconds:.1f} s"
                 f" ({st.rows / st.seconds if st.seconds > 0 else 0:,.0f} rows/s)")

    def _copy(self, conn: psycopg.Connection, table: str, payload, rows: int) -> None:
        """One block into its table: frozen binary COPY of the encoded rows (CSV otherwise)."""
        st = self._state[table]
        t0 = time.perf_counter()
        if st.binary:
            stmt = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT binary, FREEZE)").format(
                sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in st.columns))
            with conn.cursor() as cur, cur.copy(stmt, writer=QueuedLibpqWriter(cur)) as copy:
                copy.write(pgbinary.SIGNATURE)
                copy.write(memoryview(payload))
                copy.write(pgbinary.TRAILER)
        else:
            copy_frame(conn, table, payload)
        dt = time.perf_counter() - t0
        st.rows += rows
        st.seconds += dt
        self.rows += rows
        self.timings[table] = self.timings.get(table, 0.0) + dt

    @classmethod
    def _rebuild(cls, conn: psycopg.Connection, tables: Sequence[str], keys: list, indexes: list) -> float:
        """Primary/unique keys and indexes of these tables (foreign keys come last), then
        their statistics (ANALYZE in the transaction samples its own rows and commits the
        statistics with them)."""
        t0 = time.perf_counter()
        with conn.cursor() as cur:
            for table, name, definition, kind, relname in reversed(keys):
                if kind != "f" and relname in tables:
                    cur.execute(sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} ").format(sql.SQL(table), sql.SQL(name))
                                + sql.SQL(definition))
            for definition, _, relname in indexes:
                if relname in tables:
                    cur.execute(definition)
        if tables:
            conn.execute(sql.SQL("ANALYZE {}").format(sql.SQL(", ").join(sql.Identifier(t) for t in tables)))
        return time.perf_counter() - t0
