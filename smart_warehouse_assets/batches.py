"""ETL batch bookkeeping: an etl_batches row per materialization of one asset (range).

The batch row is opened in its own committed transaction, so it exists even if the load
dies; it is marked successful inside the load's own transaction, so "success" and the
rows become visible together; on an error it is marked failed in a fresh transaction.
A process killed mid-load leaves its batch 'running' and none of its rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date

import dagster as dg
import psycopg

from smart_warehouse_assets.partition_metadata import DayFigures
from smart_warehouse_assets.partitions import DayRange
from smart_warehouse_assets.resources import PostgresResource
from smart_warehouse_assets.settings import redact

_OPEN = """
INSERT INTO public.etl_batches (run_id, asset_key, partition_key, partition_start, partition_end)
VALUES (%s, %s, %s, %s, %s) RETURNING batch_id
"""
_SUCCEED = """
UPDATE public.etl_batches
SET status = 'success', finished_at = clock_timestamp(),
    rows_extracted = %s, rows_loaded = %s, rows_rejected = %s
WHERE batch_id = %s
"""
_FAIL = """
UPDATE public.etl_batches
SET status = 'failed', finished_at = clock_timestamp(), error_message = %s
WHERE batch_id = %s AND status = 'running'
"""


@dataclass
class Batch:
    batch_id: int
    asset_key: str
    days: DayRange | None
    rows_extracted: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    extra: dict = field(default_factory=dict)
    # Partitioned loads: each day's figures, for that day's page in the UI (partition_metadata).
    per_day: dict[date, DayFigures] = field(default_factory=dict)
    # A row-level merge (merge.py): every day its rows entered or left, and the days its
    # checks and counts judge (None: the load replaced its range of days).
    merged_days: set[date] | None = None
    judged: DayRange | None = None
    # A range run of an aggregate: the days outside its range whose queued keys it recomputed
    # because its facts changed them (merge.py, range runs). Its checks judge the range only:
    # such a day may also hold groups whose facts another run is yet to reload with that day.
    followed: set[date] = field(default_factory=set)

    def succeed(self, conn: psycopg.Connection) -> None:
        """Mark the batch successful inside the caller's load transaction."""
        conn.execute(_SUCCEED, (self.rows_extracted, self.rows_loaded, self.rows_rejected, self.batch_id))

    def metadata(self) -> dict:
        return {
            "etl_batch_id": self.batch_id,
            "rows_extracted": self.rows_extracted,
            "rows_loaded": self.rows_loaded,
            "rows_rejected": self.rows_rejected,
        }


def in_run(context: dg.AssetExecutionContext) -> bool:
    """Whether the asset runs inside a Dagster run (not invoked directly, as the benchmark does)."""
    try:
        context.run  # noqa: B018 (the property raises without a run)
    except Exception:  # Dagster raises DagsterInvalidPropertyError, not exported at top level
        return False
    return True


def run_id_of(context: dg.AssetExecutionContext) -> str:
    """The Dagster run id; a direct invocation (no run, as in the benchmark) gets one of its own."""
    return context.run.run_id if in_run(context) else f"direct-{uuid.uuid4()}"


@contextmanager
def open_batch(
    context: dg.AssetExecutionContext, warehouse: PostgresResource, days: DayRange | None = None
) -> Iterator[Batch]:
    asset_key = context.asset_key.to_user_string()
    with warehouse.connect(autocommit=True) as conn:
        batch_id = conn.execute(
            _OPEN,
            (run_id_of(context), asset_key, days.label if days else None,
             days.first if days else None, days.last if days else None),
        ).fetchone()[0]
    context.log.info(f"etl batch {batch_id} opened for {asset_key} {days.label if days else ''}".rstrip())
    batch = Batch(batch_id, asset_key, days)
    try:
        yield batch
    except BaseException as exc:
        try:
            with warehouse.connect(autocommit=True) as conn:
                conn.execute(_FAIL, (redact(f"{type(exc).__name__}: {exc}")[:2000], batch_id))
        except Exception:  # the original error matters more than the bookkeeping
            context.log.warning(f"could not mark etl batch {batch_id} failed")
        raise


def lock_asset(conn: psycopg.Connection, asset_key: str) -> None:
    """Serialize loads of one asset across runs and processes (released at commit/rollback)."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (asset_key,))
