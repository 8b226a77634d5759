"""A SQLite event log that writes a batch of events in one transaction per database.

Why: a load over 93 days writes about 2,400 events per run (a planned and a materialization
event per asset and day, the planned ones for the unpartitioned assets too, since the run is
partitioned). Dagster hands them over in batches (``DAGSTER_EVENT_BATCH_SIZE``), but its
SQLite storage stores a batch one event at a time, and each event opens a new engine and
commits on the run's database and again on the index database. This storage writes a batch
of asset events of one run as one insert into the run's database and one transaction on the
index database; the rows are exactly those the event-at-a-time path writes, in the same order.

Used by the local instance the CLI creates (``jobs.ensure_dagster_home``); the production
instance (``deploy/dagster.yaml``) keeps dagster-postgres' storage, which batches
materializations itself.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from itertools import groupby

import sqlalchemy
from sqlalchemy.pool import QueuePool

from dagster._core.events import ASSET_CHECK_EVENTS, ASSET_EVENTS, EVENT_TYPE_TO_PIPELINE_RUN_STATUS
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus
from dagster._core.storage.event_log import SqliteEventLogStorage
from dagster._core.storage.event_log.schema import AssetCheckExecutionsTable, SqlEventLogStorageTable
from dagster._core.storage.sql import create_engine
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._serdes import serialize_value

# Engines kept open (one per database file: the index and the latest runs' files).
_ENGINES_KEPT = 8


def _is_plain_asset_event(event: EventLogEntry) -> bool:
    """An asset event (planned, materialization, observation) with no other bookkeeping:
    check and run-status events keep the event-at-a-time path."""
    if not event.is_dagster_event:
        return False
    kind = event.dagster_event_type
    return kind in ASSET_EVENTS and kind not in ASSET_CHECK_EVENTS and kind not in EVENT_TYPE_TO_PIPELINE_RUN_STATUS


def _no_sync_per_commit(dbapi_connection, _record) -> None:
    """WAL files are synced at checkpoints, not at every commit: a crash of the machine may
    lose the last events written, never the database's consistency (SQLite's own guarantee
    for synchronous=NORMAL in WAL mode); a crash of the process loses nothing."""
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")


class BatchedSqliteEventLogStorage(SqliteEventLogStorage):
    """Dagster's SQLite event log, with ``store_event_batch`` writing each batch at once."""

    def __init__(self, base_dir: str, inst_data=None):
        # Set before the parent's set-up, which may already reindex through _connect.
        self._engines: OrderedDict = OrderedDict()
        self._engines_pid = os.getpid()
        super().__init__(base_dir, inst_data=inst_data)

    @classmethod
    def from_config_value(cls, inst_data, config_value):  # the parent builds its own class
        return cls(inst_data=inst_data, **config_value)

    @contextmanager
    def _connect(self, shard: str) -> Iterator:
        """As Dagster's, a transaction on the shard's file, but through an engine kept for
        the next event rather than one built and disposed of per event, which keeps one
        SQLite connection open between uses (a 363-day load opened and closed 1,246)."""
        with self._db_lock:
            if self._engines_pid != os.getpid():  # a forked child opens its own connections
                for engine in self._engines.values():
                    engine.dispose(close=False)
                self._engines.clear()
                self._engines_pid = os.getpid()
            engines = self._engines
            engine = engines.get(shard)
            if engine is None:
                # Used under _db_lock only: one thread at a time, though not always the same.
                engine = create_engine(self.conn_string_for_shard(shard), poolclass=QueuePool, pool_size=1,
                                       max_overflow=-1,
                                       connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS,
                                                     "check_same_thread": False})
                sqlalchemy.event.listen(engine, "connect", _no_sync_per_commit)
                engines[shard] = engine
                while len(engines) > _ENGINES_KEPT:
                    engines.popitem(last=False)[1].dispose()
            engines.move_to_end(shard)
            if shard not in self._initialized_dbs:  # a new file, or one wiped since
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def _close_engines(self) -> None:
        with self._db_lock:
            while self._engines:
                self._engines.popitem()[1].dispose()

    def wipe(self) -> None:
        """Wiping deletes the run files: their kept connections are closed first."""
        self._close_engines()
        super().wipe()

    def dispose(self) -> None:
        super().dispose()
        self._close_engines()

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        """Runs of plain asset events of one run are written together; any other event (a
        check's planned evaluation among the planned materializations) on its own, in order."""
        for (plain, _), run in groupby(events, key=lambda e: (_is_plain_asset_event(e), e.run_id)):
            if plain:
                self._store_plain(list(run))
            else:
                for event in run:
                    self.store_event(event)

    def _store_plain(self, events: list[EventLogEntry]) -> None:
        if not events:
            return
        if len(events) == 1:
            self.store_event(events[0])
            return
        rows = [self._event_to_row(e) for e in events]
        with self.run_connection(events[0].run_id) as conn:
            conn.execute(SqlEventLogStorageTable.insert(), rows)
        # Mirror them into the index database (cross-run asset queries) with their tags, and
        # update each asset's own row, in one transaction.
        with self.index_transaction() as conn:
            # One executemany that returns the new ids in the rows' order (SQLite's RETURNING,
            # SQLAlchemy's insertmanyvalues), not a statement built and run per event.
            insert = SqlEventLogStorageTable.insert().returning(SqlEventLogStorageTable.c.id,
                                                                sort_by_parameter_order=True)
            ids = [row_id for (row_id,) in conn.execute(insert, rows)]
            self._store_asset_event_tags(conn, events, ids)
            # An asset's row holds the latest event's run and time, and the latest
            # materialization: the last event of each kind per asset, applied in the order
            # they came, leaves it as applying every event in turn would.
            last: dict[tuple[str, str], int] = {}
            for i, event in enumerate(events):
                last[(event.dagster_event.asset_key.to_string(), event.dagster_event_type)] = i
            for i in sorted(last.values()):
                self._store_asset_event(conn, events[i], ids[i])

    def _store_asset_check_evaluation_planned(self, event: EventLogEntry, event_id: int | None) -> None:
        """A check planned over a run's days: one row per day, as Dagster writes them, with the
        event serialized once rather than once per day (92 times over a 92-day load)."""
        planned = event.get_dagster_event().event_specific_data
        partition_keys = planned.partitions_subset.get_partition_keys() if planned.partitions_subset else [None]
        common = dict(
            asset_key=planned.asset_key.to_string(),
            check_name=planned.check_name,
            run_id=event.run_id,
            execution_status=AssetCheckExecutionRecordStatus.PLANNED.value,
            evaluation_event=serialize_value(event),
            evaluation_event_timestamp=self._event_insert_timestamp(event),
            evaluation_event_storage_id=event_id,
        )
        with self.index_connection() as conn:
            conn.execute(AssetCheckExecutionsTable.insert(), [{**common, "partition": p} for p in partition_keys])
