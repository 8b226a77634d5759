"""What a finished run did, read back from the Dagster instance's event log and the
warehouse's own ``etl_batches``.

Kept apart from the monitor writes: this module only reads, so it can be tested and reused
(an operator script, a report) without touching ``smart_monitor``, and nothing here runs
inside the load itself, so monitoring can never fail a load.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

import dagster as dg
import psycopg

from smart_warehouse_assets.operations import changes
from smart_warehouse_assets.partitions import expand
from smart_warehouse_assets.resources import PostgresResource
from smart_warehouse_assets.settings import redact

_BATCHES = """
SELECT count(*), count(*) FILTER (WHERE status <> 'success'),
       coalesce(sum(rows_extracted), 0), coalesce(sum(rows_loaded), 0), coalesce(sum(rows_rejected), 0)
FROM public.etl_batches WHERE run_id = %s
"""


@dataclass
class CheckVerdict:
    asset_key: str
    check_name: str
    partitions: set[str] | None  # the partitions judged; None for an unpartitioned asset
    passed: bool
    blocking: bool


@dataclass
class RunSummary:
    run_id: str
    job_name: str
    succeeded: bool
    started_at: datetime | None = None
    finished_at: datetime | None = None
    first: str | None = None  # the run's partition range, if partitioned
    last: str | None = None
    planned: dict[str, bool] = field(default_factory=dict)  # asset -> partitioned
    materialized: dict[str, set[str] | None] = field(default_factory=dict)  # asset -> partitions (None: unpartitioned)
    failed: list[str] = field(default_factory=list)  # assets whose step failed
    checks: list[CheckVerdict] = field(default_factory=list)
    batches: dict[str, int] | None = None
    error: str | None = None

    @property
    def duration_ms(self) -> int | None:
        if self.started_at and self.finished_at:
            return max(0, round((self.finished_at - self.started_at).total_seconds() * 1000))
        return None

    @property
    def failed_blocking_checks(self) -> list[CheckVerdict]:
        return [c for c in self.checks if c.blocking and not c.passed]

    @property
    def status(self) -> str:
        if not self.succeeded:
            return "down"
        return "degraded" if self.failed_blocking_checks else "healthy"

    def details(self) -> dict:
        skipped = sorted(set(self.planned) - set(self.materialized) - set(self.failed))
        return {
            "run_id": self.run_id, "job_name": self.job_name,
            "dagster_status": "SUCCESS" if self.succeeded else "FAILURE",
            "partition_start": self.first, "partition_end": self.last,
            "duration_seconds": None if self.duration_ms is None else self.duration_ms / 1000,
            "assets_materialized": sorted(self.materialized), "assets_failed": sorted(self.failed),
            "assets_not_materialized": skipped,
            "checks_evaluated": len(self.checks),
            "checks_failed": sorted({f"{c.asset_key}:{c.check_name}" for c in self.checks if not c.passed}),
            **({"rows_extracted": self.batches["rows_extracted"], "rows_loaded": self.batches["rows_loaded"],
                "rows_rejected": self.batches["rows_rejected"], "etl_batches": self.batches["batches"],
                "etl_batches_not_successful": self.batches["not_successful"]} if self.batches else {}),
            **({"error": self.error} if self.error else {}),
        }


def range_days(first: str | None, last: str | None) -> set[str] | None:
    """The ISO days of the partition range first..last (last defaults to first); None when
    there is no range (an unpartitioned asset or run)."""
    if first is None:
        return None
    return {d.isoformat() for d in expand(f"{first}...{last or first}")}


def _when(timestamp: float | None) -> datetime | None:
    return datetime.fromtimestamp(timestamp, timezone.utc) if timestamp else None


def _failed_step_assets(instance: dg.DagsterInstance, run: dg.DagsterRun, step_keys: set[str]) -> list[str]:
    if not step_keys or not run.execution_plan_snapshot_id:
        return []
    snapshot = instance.get_execution_plan_snapshot(run.execution_plan_snapshot_id)
    assets = {
        out.properties.asset_key.to_user_string()
        for step in snapshot.steps if step.key in step_keys
        for out in step.outputs if out.properties and out.properties.asset_key
    }
    return sorted(assets)


def summarize(
    instance: dg.DagsterInstance, run: dg.DagsterRun, warehouse: PostgresResource | None, error: str | None = None
) -> RunSummary:
    """What a finished run did, from the instance's event log and the warehouse's etl_batches."""
    record = instance.get_run_record_by_id(run.run_id)
    summary = RunSummary(
        run_id=run.run_id, job_name=run.job_name, succeeded=run.status == dg.DagsterRunStatus.SUCCESS,
        started_at=_when(record.start_time) if record else None,
        finished_at=_when(record.end_time) if record else None,
        error=redact(error)[:2000] if error else None,
    )
    tags = run.tags
    if tags.get(changes.RANGE_START_TAG):
        summary.first, summary.last = tags[changes.RANGE_START_TAG], tags.get(changes.RANGE_END_TAG)
    elif tags.get("dagster/partition"):
        summary.first = summary.last = tags["dagster/partition"]

    failed_steps: set[str] = set()
    verdicts = []
    kinds = {
        dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED, dg.DagsterEventType.ASSET_MATERIALIZATION,
        dg.DagsterEventType.STEP_FAILURE, dg.DagsterEventType.ASSET_CHECK_EVALUATION,
    }
    for entry in instance.all_logs(run.run_id, of_type=kinds):
        event = entry.dagster_event
        if event is None:
            continue
        data = event.event_specific_data
        if event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED:
            summary.planned[data.asset_key.to_user_string()] = bool(data.partition or data.partitions_subset)
        elif event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
            m = data.materialization
            key = m.asset_key.to_user_string()
            if m.partition is None:
                summary.materialized.setdefault(key, None)
            else:
                parts = summary.materialized.get(key) or set()
                parts.add(m.partition)
                summary.materialized[key] = parts
        elif event.event_type == dg.DagsterEventType.STEP_FAILURE and event.step_key:
            failed_steps.add(event.step_key)
        elif event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            blocking = data.blocking if data.blocking is not None else data.severity == dg.AssetCheckSeverity.ERROR
            verdicts.append((data, bool(blocking)))
    for data, blocking in verdicts:
        # A check of a partitioned asset that names no partition judged the run's whole range.
        key = data.asset_key.to_user_string()
        parts = {data.partition} if data.partition else (
            range_days(summary.first, summary.last) if summary.planned.get(key, summary.first is not None) else None)
        summary.checks.append(CheckVerdict(key, data.check_name, parts, data.passed, blocking))
    # A step that materialized its asset and then failed did so on a blocking check: that is
    # the check's incident, not a failed load of the asset.
    summary.failed = [a for a in _failed_step_assets(instance, run, failed_steps) if a not in summary.materialized]
    if warehouse is not None:
        try:
            with warehouse.connect() as conn:
                n, bad, extracted, loaded, rejected = conn.execute(_BATCHES, (run.run_id,)).fetchone()
            summary.batches = {"batches": n, "not_successful": bad, "rows_extracted": int(extracted),
                               "rows_loaded": int(loaded), "rows_rejected": int(rejected)}
        except (psycopg.Error, dg.Failure):
            summary.batches = None  # the warehouse may be what failed; the health row still goes in
    return summary
