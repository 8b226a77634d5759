"""Read a portal's slot through the SQL interface, apply, record, and only then advance.

One pass (:func:`consume`):

1. note the portal's flushed WAL position, then *peek* (never get) up to ``max_changes``
   messages of whole transactions from the slot with pgoutput;
2. decode them; skip every transaction whose end LSN is at or below the LSN the warehouse
   recorded (a previous pass applied it but died before advancing the slot);
3. in ONE warehouse transaction: apply the remaining changes (keyed by natural key, see
   :mod:`.apply`) and record the end LSN of the last one in ``etl_cdc_progress``;
4. after that commit, ``pg_replication_slot_advance`` to that LSN (or, when the peek came
   back short, to the position noted in step 1: nothing before it is left to decode).

A crash before 3 commits loses nothing (the slot has not moved); a crash between 3 and 4
doubles nothing (the recorded LSN skips the replay). psycopg 3 speaks no replication
protocol, so this uses the SQL functions over an ordinary connection; a pass is bounded by
``max_changes`` so that it fits inside a Dagster sensor tick.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone

import psycopg

from smart_warehouse_assets.cdc import apply
from smart_warehouse_assets.cdc.pgoutput import Begin, Change, Commit, Relation, Truncate, decode, lsn_int, lsn_text
from smart_warehouse_assets.cdc.publications import PUBLICATION, slot_name
from smart_warehouse_assets.batches import lock_asset
from smart_warehouse_assets.settings import dbname_of, redact

MAX_CHANGES = 50_000

_PEEK = """
SELECT data FROM pg_logical_slot_peek_binary_changes(
    %s, NULL, %s, 'proto_version', '1', 'publication_names', %s)
"""
_SLOT = "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = %s"
_PROGRESS = "SELECT lsn::text FROM public.etl_cdc_progress WHERE source_database = %s"
_RECORD = """
INSERT INTO public.etl_cdc_progress (source_database, slot_name, lsn, changes_applied, last_commit_at)
VALUES (%(db)s, %(slot)s, %(lsn)s::pg_lsn, %(n)s, %(at)s)
ON CONFLICT (source_database) DO UPDATE
SET slot_name = EXCLUDED.slot_name, lsn = greatest(etl_cdc_progress.lsn, EXCLUDED.lsn),
    changes_applied = etl_cdc_progress.changes_applied + EXCLUDED.changes_applied,
    last_commit_at = coalesce(EXCLUDED.last_commit_at, etl_cdc_progress.last_commit_at),
    applied_at = clock_timestamp()
"""
_OPEN_BATCH = """
INSERT INTO public.etl_batches (run_id, asset_key) VALUES (%s, %s) RETURNING batch_id
"""
_FAIL = """
UPDATE public.etl_batches SET status = 'failed', finished_at = clock_timestamp(), error_message = %s
WHERE batch_id = %s AND status = 'running'
"""
_SUCCEED = """
UPDATE public.etl_batches SET status = 'success', finished_at = clock_timestamp(),
       rows_extracted = %s, rows_loaded = %s WHERE batch_id = %s
"""


class SlotLost(Exception):
    """The slot is gone or invalidated: the changes it held must come by the watermark path."""


@dataclass
class Transaction:
    end_lsn: int
    commit_time: datetime
    changes: list[tuple[Relation, Change]] = field(default_factory=list)


@dataclass
class PassResult:
    database: str
    slot: str
    transactions: int = 0
    skipped: int = 0
    changes: int = 0
    lsn: str | None = None  # LSN reached (recorded and slot advanced to)
    last_commit_at: datetime | None = None
    days: set[int] = field(default_factory=set)
    seconds: float = 0.0
    batch_id: int | None = None
    full: bool = False  # the peek hit max_changes: more is waiting
    # Per transaction applied: its portal commit time and row changes; and when the warehouse
    # committed them (the two ends of the commit-to-warehouse latency).
    commits: list[tuple[datetime, int]] = field(default_factory=list)
    applied_at: datetime | None = None


def read_transactions(messages) -> list[Transaction]:
    """Decoded whole transactions, in commit order."""
    relations: dict[int, Relation] = {}
    out, current = [], None
    for data in messages:
        msg = decode(data)
        if isinstance(msg, Relation):
            relations[msg.oid] = msg
        elif isinstance(msg, Begin):
            current = []
        elif isinstance(msg, Change):
            current.append((relations[msg.relation_oid], msg))
        elif isinstance(msg, Truncate):
            names = ", ".join(relations[o].name for o in msg.relation_oids if o in relations)
            # Not applied row by row, and not skipped either: the pass stops here, every pass
            # again, until an operator has reloaded the warehouse and recreated the slot.
            raise RuntimeError(
                f"TRUNCATE of {names} in a portal cannot be applied as changes: reload the warehouse "
                "in full (the weekly_full_reload schedule's run), then `smart-warehouse cdc drop` and "
                "`smart-warehouse cdc setup` to start the slot after it")
        elif isinstance(msg, Commit):
            out.append(Transaction(msg.end_lsn, msg.commit_time, current or []))
            current = None
    return out


def _images(transactions: list[Transaction], table: str):
    """Latest image per key of one table across the transactions (None: deleted)."""
    images: dict[str, tuple | None] = {}
    columns: tuple[str, ...] = ()
    for tx in transactions:
        for rel, ch in tx.changes:
            if rel.name != table:
                continue
            columns = rel.columns
            key_at = rel.columns.index(rel.key_columns[0])
            if ch.op == "delete":
                images[ch.old[key_at]] = None
            else:
                if ch.old is not None and ch.old[key_at] is not None and ch.old[key_at] != ch.new[key_at]:
                    images[ch.old[key_at]] = None  # the key itself changed
                images[ch.new[key_at]] = ch.new
    return columns, images


def apply_transactions(conn: psycopg.Connection, portal: str, transactions: list[Transaction], batch_id: int) -> set[int]:
    """Apply decoded transactions to the warehouse inside the caller's transaction."""
    days: set[int] = set()
    for (src_portal, table) in apply.DELETED_BY_KEY:
        if src_portal != portal:
            continue
        columns, images = _images(transactions, table)
        if not images:
            continue
        if table == apply.APPLICATIONS.table:
            days |= apply.apply_applications(conn, columns, images, batch_id)
        else:
            gone = [k for k, v in images.items() if v is None]
            if gone:
                days |= apply.delete_rows(conn, portal, table, gone)
    apply.refresh_figures(conn, days, batch_id)
    return days


def consume(portal: str, portal_url: str, warehouse_url: str, *, max_changes: int = MAX_CHANGES,
            run_id: str | None = None, before_advance=None) -> PassResult:
    """One pass over a portal's slot (see the module); ``before_advance`` is a test hook."""
    started = time.monotonic()
    db = dbname_of(portal_url)
    slot = slot_name(db)
    result = PassResult(db, slot)
    with psycopg.connect(portal_url, autocommit=True) as src:
        row = src.execute(_SLOT, (slot,)).fetchone()
        if row is None:
            raise SlotLost(f"{db}: replication slot {slot} does not exist (run smart-warehouse cdc setup)")
        flushed = src.execute("SELECT pg_current_wal_flush_lsn()::text").fetchone()[0]
        try:
            messages = [r[0] for r in src.execute(_PEEK, (slot, max_changes, PUBLICATION))]
        except psycopg.errors.ObjectNotInPrerequisiteState as exc:
            raise SlotLost(f"{db}: replication slot {slot} can no longer be read: {exc}") from None
        result.full = len(messages) >= max_changes
        transactions = read_transactions(messages)

        with psycopg.connect(warehouse_url, autocommit=True) as wh:
            recorded = wh.execute(_PROGRESS, (db,)).fetchone()
            pending = [t for t in transactions if t.end_lsn > (lsn_int(recorded[0]) if recorded else 0)]
            # The batch row is committed on its own first, so a failed apply leaves it failed.
            if pending:
                result.batch_id = wh.execute(_OPEN_BATCH, (run_id or f"cdc-{uuid.uuid4()}", apply.LIVE_ASSET)
                                             ).fetchone()[0]
            try:
                with wh.transaction():
                    # One consumer per slot at a time (a sensor tick and a manual materialization
                    # may overlap): the recorded LSN is read again under the lock.
                    lock_asset(wh, f"cdc/{slot}")
                    recorded = wh.execute(_PROGRESS, (db,)).fetchone()
                    done = lsn_int(recorded[0]) if recorded else 0
                    todo = [t for t in transactions if t.end_lsn > done]
                    result.skipped = len(transactions) - len(todo)
                    result.transactions = len(todo)
                    result.changes = sum(len(t.changes) for t in todo)
                    reach = max([done, *(t.end_lsn for t in transactions)])
                    if not result.full:
                        reach = max(reach, lsn_int(flushed))
                    if todo:
                        result.last_commit_at = todo[-1].commit_time
                        result.days = apply_transactions(wh, portal, todo, result.batch_id)
                    if result.batch_id is not None:
                        wh.execute(_SUCCEED, (result.changes, result.changes, result.batch_id))
                    if reach > done:
                        wh.execute(_RECORD, {"db": db, "slot": slot, "lsn": lsn_text(reach), "n": result.changes,
                                             "at": result.last_commit_at})
            except BaseException as exc:
                if result.batch_id is not None:
                    try:
                        wh.execute(_FAIL, (redact(f"{type(exc).__name__}: {exc}")[:2000], result.batch_id))
                    except Exception:  # the original error matters more than the bookkeeping
                        pass
                raise
            if todo:
                result.applied_at = datetime.now(timezone.utc)
                result.commits = [(t.commit_time, len(t.changes)) for t in todo]
        if before_advance is not None:
            before_advance(result)
        confirmed = src.execute(_SLOT, (slot,)).fetchone()[0]
        if confirmed is not None and reach > lsn_int(confirmed):
            src.execute("SELECT pg_replication_slot_advance(%s, %s::pg_lsn)", (slot, lsn_text(reach)))
        result.lsn = lsn_text(reach)
    result.seconds = time.monotonic() - started
    return result
