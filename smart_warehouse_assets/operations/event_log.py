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

from collections.abc import Sequence

from dagster._core.events import ASSET_CHECK_EVENTS, ASSET_EVENTS, EVENT_TYPE_TO_PIPELINE_RUN_STATUS
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus
from dagster._core.storage.event_log import SqliteEventLogStorage
from dagster._core.storage.event_log.schema import AssetCheckExecutionsTable, SqlEventLogStorageTable
from dagster._core.storage.sqlalchemy_compat import db_result
from dagster_shared.serdes import serialize_value

# Rows per multi-row INSERT: well under SQLite's limit of bound variables per statement.
_ROWS_PER_INSERT = 500


def _is_plain_asset_event(event: EventLogEntry) -> bool:
    """An asset event (planned, materialization, observation) with no other bookkeeping:
    check and run-status events keep the event-at-a-time path."""
    if not event.is_dagster_event:
        return False
    kind = event.dagster_event_type
    return kind in ASSET_EVENTS and kind not in ASSET_CHECK_EVENTS and kind not in EVENT_TYPE_TO_PIPELINE_RUN_STATUS


class BatchedSqliteEventLogStorage(SqliteEventLogStorage):
    """Dagster's SQLite event log, with ``store_event_batch`` writing each batch at once."""

    @classmethod
    def from_config_value(cls, inst_data, config_value):  # the parent builds its own class
        return cls(inst_data=inst_data, **config_value)

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        """Runs of plain asset events of one run are written together; any other event (a
        check's planned evaluation among the planned materializations) on its own, in order."""
        plain: list[EventLogEntry] = []
        for event in events:
            if _is_plain_asset_event(event) and (not plain or plain[0].run_id == event.run_id):
                plain.append(event)
                continue
            self._store_plain(plain)
            plain = []
            if _is_plain_asset_event(event):
                plain.append(event)
            else:
                self.store_event(event)
        self._store_plain(plain)

    def _store_plain(self, events: list[EventLogEntry]) -> None:
        if not events:
            return
        if len(events) == 1:
            self.store_event(events[0])
            return
        rows = [self._event_to_row(e) for e in events]
        with self.run_connection(events[0].run_id) as conn:
            for start in range(0, len(rows), _ROWS_PER_INSERT):
                conn.execute(SqlEventLogStorageTable.insert().values(rows[start:start + _ROWS_PER_INSERT]))
        # Mirror them into the index database (cross-run asset queries) with their tags, and
        # update each asset's own row, in one transaction.
        with self.index_transaction() as conn:
            ids = []
            for row in rows:
                with db_result(conn, SqlEventLogStorageTable.insert().values(**row)) as result:
                    ids.append(result.inserted_primary_key[0])
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
            conn.execute(AssetCheckExecutionsTable.insert().values([{**common, "partition": p} for p in partition_keys]))
