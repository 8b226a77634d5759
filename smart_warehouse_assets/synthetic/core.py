"""Shared machinery of the generator and the simulator: random streams, ids, IST time
arithmetic, frame building and the bulk loader.

Times are carried as int64 microseconds since the Unix epoch (UTC) in numpy arrays and
become ``timestamptz`` only when a frame is built. Nothing reads the clock: every
timestamp is derived from the period start, so the same seed gives the same rows.
"""

from __future__ import annotations

import json
import queue
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl
import psycopg
import pyarrow as pa
from psycopg import sql
from psycopg.copy import QueuedLibpqWriter

from smart_warehouse_assets.settings import dbname_of, host_port, scrub
from smart_warehouse_assets.synthetic import pgbinary
from smart_warehouse_assets.synthetic.reference import is_national_holiday

IST = ZoneInfo("Asia/Kolkata")
US = 1_000_000
MINUTE = 60 * US
HOUR = 3600 * US
DAY = 86_400 * US
IST_OFFSET = 19_800 * US  # +05:30, no daylight saving
EPOCH = date(1970, 1, 1)

PORTALS = ("citizen", "dept", "aiml", "monitor")

# Portal tables in foreign-key order (parents first). ml_use_cases is seeded by the
# migration and is never generated, truncated or reloaded.
TABLES: dict[str, tuple[str, ...]] = {
    "citizen": ("citizens", "schemes", "service_applications", "documents",
                "application_status_history", "notifications", "payments", "feedback",
                "audit_log"),
    "dept": ("departments", "designations", "dept_users", "workflows", "approval_chains",
             "application_assignments", "processing_actions", "document_verifications",
             "dashboard_metrics", "dept_notifications", "dept_audit_log"),
    "aiml": ("ml_models", "mlflow_experiments", "mlflow_runs", "batch_prediction_jobs",
             "predictions", "pipeline_runs", "model_monitoring", "analytics_cache"),
    "monitor": ("system_components", "health_checks", "system_metrics", "performance_metrics",
                "system_logs", "log_aggregations", "alert_rules", "alert_incidents",
                "admin_users", "monitor_audit_log"),
}

PRIMARY_KEYS: dict[str, str] = {
    "citizens": "citizen_id", "schemes": "scheme_id", "service_applications": "application_id",
    "documents": "document_id", "application_status_history": "status_history_id",
    "notifications": "notification_id", "payments": "payment_id", "feedback": "feedback_id",
    "audit_log": "audit_id",
    "departments": "department_id", "designations": "designation_id", "dept_users": "dept_user_id",
    "workflows": "workflow_id", "approval_chains": "approval_chain_id",
    "application_assignments": "assignment_id", "processing_actions": "action_id",
    "document_verifications": "verification_id", "dashboard_metrics": "dashboard_metric_id",
    "dept_notifications": "dept_notification_id", "dept_audit_log": "dept_audit_id",
    "ml_use_cases": "use_case_id", "ml_models": "model_id", "mlflow_experiments": "experiment_id",
    "mlflow_runs": "run_id", "batch_prediction_jobs": "batch_prediction_job_id",
    "predictions": "prediction_id", "pipeline_runs": "pipeline_run_id",
    "model_monitoring": "model_monitoring_id", "analytics_cache": "analytics_cache_id",
    "system_components": "component_id", "health_checks": "health_check_id",
    "system_metrics": "system_metric_id", "performance_metrics": "performance_metric_id",
    "system_logs": "system_log_id", "log_aggregations": "log_aggregation_id",
    "alert_rules": "alert_rule_id", "alert_incidents": "incident_id",
    "admin_users": "admin_user_id", "monitor_audit_log": "monitor_audit_id",
}


class SyntheticDataError(RuntimeError):
    """The generator or simulator cannot proceed; the message says why and what to do."""


class PortalsHoldData(SyntheticDataError):
    """``seed`` found rows in the portals and will not mix two worlds."""


# --------------------------------------------------------------------------- randomness

class Streams:
    """Independent, named random streams under one seed.

    Each part of the world draws from its own stream, so adding a column in one table
    does not shift the values of another.
    """

    def __init__(self, seed: int, *salt: int) -> None:
        self.seed = int(seed)
        self.salt = tuple(int(s) for s in salt)

    def __call__(self, name: str) -> np.random.Generator:
        key = [self.seed, *self.salt, zlib.crc32(name.encode())]
        return np.random.default_rng(np.random.SeedSequence(key))


_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def new_uuid_bytes(rng: np.random.Generator, n: int) -> np.ndarray:
    """n random version-4 uuids as a numpy ``V16`` array (their 16 bytes, which is what
    binary COPY sends; ``uuid_text`` gives the text form)."""
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    return np.ascontiguousarray(raw).view("V16").ravel()


def new_uuids(rng: np.random.Generator, n: int) -> np.ndarray:
    """n random version-4 uuids as a numpy ``S36`` array (canonical text form)."""
    return uuid_text(new_uuid_bytes(rng, n))


def _uuid_matrix(values: np.ndarray) -> np.ndarray:
    """A ``V16`` array as an (n, 16) byte matrix."""
    return np.frombuffer(np.ascontiguousarray(values).data, dtype=np.uint8).reshape(len(values), 16)


def uuid_text(raw: np.ndarray) -> np.ndarray:
    """The canonical text form (``S36``) of uuids given as ``V16`` or an (n, 16) byte matrix."""
    if raw.dtype.kind == "V":
        raw = _uuid_matrix(raw)
    n = len(raw)
    digits = np.empty((n, 32), dtype=np.uint8)
    digits[:, 0::2] = _HEX[raw >> 4]
    digits[:, 1::2] = _HEX[raw & 0x0F]
    text = np.full((n, 36), ord("-"), dtype=np.uint8)
    text[:, 0:8] = digits[:, 0:8]
    text[:, 9:13] = digits[:, 8:12]
    text[:, 14:18] = digits[:, 12:16]
    text[:, 19:23] = digits[:, 16:20]
    text[:, 24:36] = digits[:, 20:32]
    return np.ascontiguousarray(text).view("S36").ravel()


def random_hex(rng: np.random.Generator, n: int, length: int) -> np.ndarray:
    """n random lowercase hex strings of the given length (``S<length>``)."""
    raw = rng.integers(0, 16, size=(n, length), dtype=np.uint8)
    return np.ascontiguousarray(_HEX[raw]).view(f"S{length}").ravel()


def pick(rng: np.random.Generator, values: Sequence, n: int, p: Sequence[float] | None = None) -> np.ndarray:
    """n draws from a short list of values, as a numpy array of those values."""
    arr = np.asarray(values, dtype=object)
    if p is not None:
        p = np.asarray(p, dtype=float)
        p = p / p.sum()
    return arr[rng.choice(len(arr), size=n, p=p)]


# --------------------------------------------------------------------------- IST time

def ist_midnight(d: date) -> int:
    """The UTC microsecond of 00:00 IST on day d."""
    return (d - EPOCH).days * DAY - IST_OFFSET


def ist_day_start(day_numbers):
    """The UTC microsecond of 00:00 IST on each IST day number (an int or an array)."""
    return day_numbers * DAY - IST_OFFSET


def ist_day_number(us: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of the IST calendar date of each instant."""
    return (np.asarray(us) + IST_OFFSET) // DAY


def day_number(d: date) -> int:
    return (d - EPOCH).days


def date_of_day_number(n: int) -> date:
    return EPOCH + timedelta(days=int(n))


def ist_today() -> date:
    return datetime.now(IST).date()


class Calendar:
    """Working-day facts for a span of IST day numbers (weekday, holiday)."""

    def __init__(self, first_day: int, last_day: int) -> None:
        self.first = first_day
        days = np.arange(first_day, last_day + 1)
        self.weekday = (days + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
        self.holiday = np.array([is_national_holiday(date_of_day_number(d)) for d in days])

    def idx(self, day_numbers: np.ndarray) -> np.ndarray:
        return np.asarray(day_numbers) - self.first

    def is_off(self, day_numbers: np.ndarray) -> np.ndarray:
        i = self.idx(day_numbers)
        return (self.weekday[i] == 6) | self.holiday[i]

    def submission_weight(self, day_numbers: np.ndarray) -> np.ndarray:
        """Relative submission volume of each day: weekdays busy, weekends and holidays quiet."""
        by_weekday = np.array([1.0, 1.04, 1.0, 0.97, 0.9, 0.45, 0.22])
        i = self.idx(day_numbers)
        return np.where(self.holiday[i], 0.18, by_weekday[self.weekday[i]])

    def next_working(self, day_numbers: np.ndarray) -> np.ndarray:
        """Move Sundays and national holidays forward to the next working day."""
        out = np.asarray(day_numbers).copy()
        for _ in range(4):
            off = self.is_off(out)
            if not off.any():
                break
            out = out + off
        return out


def time_of_day(rng: np.random.Generator, n: int, kind: str = "office") -> np.ndarray:
    """Microseconds after IST midnight: office hours, or the wider hours of online use."""
    if kind == "office":
        hours = np.clip(rng.normal(13.2, 2.0, n), 9.75, 17.75)
    else:
        office = np.clip(rng.normal(12.5, 2.6, n), 7.0, 20.0)
        evening = np.clip(rng.normal(20.5, 1.6, n), 17.0, 23.9)
        hours = np.where(rng.random(n) < 0.7, office, evening)
    return (hours * HOUR).astype(np.int64) // US * US


def office_time(rng: np.random.Generator, day_numbers: np.ndarray) -> np.ndarray:
    """An instant in office hours on each of the given IST days (as given: not moved off holidays)."""
    return ist_day_start(day_numbers) + time_of_day(rng, len(day_numbers), "office")


# --------------------------------------------------------------------------- frames

def uuid_col(values: np.ndarray) -> pl.Series:
    """A uuid column from ``V16`` bytes or ``S36`` text; empty text entries (to be masked by
    ``nullify``) become the nil uuid."""
    values = np.asarray(values)
    if values.dtype.kind == "V" and values.dtype.itemsize == 16:
        return pgbinary.binary_series("", _uuid_matrix(values))
    if values.dtype.kind == "S" and values.dtype.itemsize == 36:
        return bytes_series("", np.where(values == b"", _NIL_UUID, values))
    return pl.Series(values).cast(pl.String)


_NIL_UUID = b"00000000-0000-0000-0000-000000000000"


def bytes_series(name: str, values: np.ndarray) -> pl.Series:
    """A series from a numpy ``S`` array: canonical uuids become 16-byte ``Binary`` values
    (what binary COPY sends), anything else ``String``."""
    n, width = len(values), values.dtype.itemsize
    if n and width:
        flat = np.frombuffer(np.ascontiguousarray(values).data, dtype=np.uint8).reshape(n, width)
        if width == 36:
            raw = pgbinary.uuid_bytes(flat)
            if raw is not None:
                return pgbinary.binary_series(name, raw)
        if flat.min() > 0:  # no value shorter than the width: the buffer is the strings
            offsets = np.arange(0, (n + 1) * width, width, dtype=np.int64)
            arr = pa.Array.from_buffers(pa.large_string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(flat)])
            return pl.Series(name, pl.from_arrow(arr))
    return pl.Series(name, values).cast(pl.String)


def uuid_strings(s: pl.Series) -> list[str | None]:
    """The canonical text of a uuid column (16-byte ``Binary`` or text) as Python strings."""
    if s.dtype == pl.Binary:
        return [None if b is None else str(uuid.UUID(bytes=b)) for b in s.to_list()]
    return s.cast(pl.String).to_list()


def ts_col(us: np.ndarray, null: np.ndarray | None = None) -> pl.Series:
    """A timestamptz column from microseconds (rounded to the second); null where null."""
    s = pl.Series((np.asarray(us, dtype=np.int64) // US) * US).cast(pl.Datetime("us", "UTC"))
    if null is not None:
        s = nullify(s, null)
    return s


def nullify(s: pl.Series, null: np.ndarray) -> pl.Series:
    """The series with nulls where the boolean mask is true."""
    nulls = pl.repeat(None, len(s), dtype=s.dtype, eager=True)
    return s.zip_with(pl.Series(~np.asarray(null, dtype=bool)), nulls).alias(s.name)


def frame(**columns) -> pl.DataFrame:
    """A frame from numpy arrays / series; ``S`` byte arrays become strings."""
    cols = {}
    for name, value in columns.items():
        if isinstance(value, pl.Series):
            cols[name] = value.alias(name)
        elif isinstance(value, np.ndarray) and value.dtype.kind == "V" and value.dtype.itemsize == 16:
            cols[name] = pgbinary.binary_series(name, _uuid_matrix(value))
        elif isinstance(value, np.ndarray) and value.dtype.kind == "S":
            cols[name] = bytes_series(name, value)
        elif isinstance(value, np.ndarray) and value.dtype == object:
            cols[name] = pl.Series(name, value.tolist())
        elif isinstance(value, np.ndarray) and value.dtype.kind == "f":
            cols[name] = pl.Series(name, value, nan_to_null=True)
        else:
            cols[name] = pl.Series(name, value)
    return pl.DataFrame(cols)


def jdump(values: Mapping) -> str:
    """A JSON column value, formatted the one way every table stores it."""
    return json.dumps(values, separators=(", ", ": "), sort_keys=True)


def const(value, n: int) -> pl.Series:
    return pl.repeat(value, n, eager=True)


# --------------------------------------------------------------------------- database

def connect(url: str) -> psycopg.Connection:
    try:
        return psycopg.connect(url)
    except psycopg.Error as exc:  # also a malformed URL, whose message may quote its password
        raise SyntheticDataError(
            f"cannot connect to portal database {dbname_of(url)!r} at {host_port(url)}: "
            f"{scrub(str(exc), url).strip()}") from None


def copy_frame(conn: psycopg.Connection, table: str, df: pl.DataFrame, chunk_rows: int = 100_000,
               freeze: bool = True, binary: bool | None = None) -> None:
    """COPY a frame into a table (columns by name), in binary when every column type allows
    it (``binary=False`` forces CSV), else in CSV. ``freeze`` only for a table truncated in
    the same transaction.

    The chunks are encoded while a writer thread sends the previous ones, so the client
    and the server work at the same time."""
    if df.height == 0:
        return
    types = {name: (typ, mod) for name, typ, mod in
             conn.execute(pgbinary.COLUMN_TYPES_SQL, (sql.Identifier(table).as_string(conn),))}
    binary = pgbinary.supported(types, df.columns) and binary is not False
    if binary:
        df = df.select(pgbinary.column_order(df, types))
    else:  # CSV: uuids as text
        df = df.with_columns(pl.Series(c, uuid_strings(df[c]), dtype=pl.String)
                             for c in df.columns if df[c].dtype == pl.Binary)
    options = ["FORMAT binary" if binary else "FORMAT csv"] + (["FREEZE"] if freeze else [])
    stmt = sql.SQL("COPY {} ({}) FROM STDIN ({})").format(
        sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in df.columns),
        sql.SQL(", ".join(options)))
    with conn.cursor() as cur, cur.copy(stmt, writer=QueuedLibpqWriter(cur)) as copy:
        if binary:
            for part in pgbinary.stream(df, types, chunk_rows):
                copy.write(memoryview(part))
        else:
            for offset in range(0, df.height, chunk_rows):
                copy.write(df.slice(offset, chunk_rows).write_csv(include_header=False,
                                                                   datetime_format="%Y-%m-%d %H:%M:%S%z"))


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


class DatabaseLoad:
    """Load the tables of one database in one transaction, the way pg_restore does, fed
    table by table from another thread while the rest of the world is still being made.

    On ``start`` the tables are emptied and their keys and indexes set aside. Each table
    that arrives is copied in (frozen, in binary), and its primary/unique keys and indexes
    are rebuilt right away from their pg_catalog definitions - one sort per index instead
    of one lookup per row - while the next table is being generated. ``ready`` rebuilds
    what is left and re-adds the foreign keys (which validates every row, so nothing
    unchecked gets in); ``commit`` then commits, ``abort`` rolls back. The rebuilt objects
    are exactly those of the migrations: same names, same definitions.
    """

    def __init__(self, url: str, tables: Sequence[str], *, log: Callable[[str], None] = print,
                 label: str = "") -> None:
        self.url, self.tables, self.log, self.label = url, list(tables), log, label
        self.timings: dict[str, float] = {}
        self.rows = 0
        self._queue: queue.Queue = queue.Queue()
        self._error: BaseException | None = None
        self._prepared = threading.Event()
        self._decided = threading.Event()
        self._decision: list[bool] = []
        self._thread = threading.Thread(target=self._run, name=f"load-{label}", daemon=True)

    def start(self) -> DatabaseLoad:
        self._thread.start()
        return self

    def put(self, table: str, df: pl.DataFrame) -> None:
        if table not in self.tables:
            raise SyntheticDataError(f"{self.label}.{table} is not one of the tables being loaded")
        self._check()
        self._queue.put((table, df))

    def ready(self) -> None:
        """Wait until every row is in and every key is rebuilt and checked, short of the
        commit; raise what went wrong in the load."""
        self._queue.put(None)
        while not self._prepared.wait(0.2):
            if not self._thread.is_alive():
                break
        self._check()

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

    def _check(self) -> None:
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        try:
            self._load()
        except BaseException as exc:  # handed to the producer thread
            self._error = exc

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
            pending = set(tables)
            rebuild = 0.0
            while (item := self._queue.get()) is not None:
                if item is _ABORT:
                    conn.rollback()
                    return
                table, df = item
                t0 = time.perf_counter()
                copy_frame(conn, table, df)
                dt = time.perf_counter() - t0
                self.timings[table] = dt
                self.rows += df.height
                self.log(f"  {self.label}.{table}: {df.height:,} rows in {dt:.1f} s"
                         f" ({df.height / dt if dt > 0 else 0:,.0f} rows/s)")
                rebuild += self._rebuild(conn, [table], keys, indexes)
                pending.discard(table)
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
        cls._analyze(conn, tables)
        return time.perf_counter() - t0

    @staticmethod
    def _analyze(conn: psycopg.Connection, tables: Sequence[str]) -> None:
        if tables:
            conn.execute(sql.SQL("ANALYZE {}").format(sql.SQL(", ").join(sql.Identifier(t) for t in tables)))


def bulk_load(url: str, frames: Mapping[str, pl.DataFrame], *, log: Callable[[str], None] = print,
              label: str = "") -> dict[str, float]:
    """Load frames into their (emptied) tables of one database in one transaction.
    Returns seconds per step."""
    load = DatabaseLoad(url, list(frames), log=log, label=label).start()
    try:
        for table, df in frames.items():
            load.put(table, df)
        load.ready()
    except BaseException:
        load.abort()
        raise
    return load.commit()
