"""The warehouse pipeline as a component of ``smart_monitor``, like every other part of the platform.

After every run of this code location, a run status sensor:

1. registers the pipeline in ``system_components`` (and its two alert rules in
   ``alert_rules``) — an idempotent upsert, so a new monitor database needs no set-up;
2. writes one ``health_checks`` row: ``healthy`` for a successful run, ``degraded`` for a
   successful run in which a blocking check failed, ``down`` for a failed run; the run's
   duration as ``response_ms``; rows extracted, loaded and quarantined (from the run's
   ``etl_batches``), assets and partitions in ``details``;
3. opens an ``alert_incidents`` row per asset whose step failed (kind ``run_failure``,
   over the run's partition range) and per failed blocking check (kind ``check_failure``,
   with its failing partitions); an incident already open for the same asset, check and
   partitions is updated, not duplicated;
4. resolves the open incidents that this run shows to be fixed: a ``run_failure``
   incident once the asset materialized every partition of the incident in one run, a
   ``check_failure`` incident once the check passed for every partition that had failed.

:func:`open_incident` and :func:`resolve_incidents` are public so that other code (a
data-quality check that wants to raise an incident outside a run, an operator script) opens
and closes incidents the same way.

Everything is read from the Dagster instance's event log and the warehouse's own
``etl_batches``; nothing runs inside the load itself, so monitoring can never fail a load.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone

import dagster as dg
import psycopg

from smart_warehouse_assets.operations import changes
from smart_warehouse_assets.operations.environment import environment, sensor_status
from smart_warehouse_assets.partitions import compress, expand
from smart_warehouse_assets.resources import PostgresResource
from smart_warehouse_assets.settings import redact

COMPONENT_CODE = "SMART-WAREHOUSE-ETL"
COMPONENT_NAME = "SMART warehouse pipeline (Dagster assets)"
COMPONENT_TYPE = "pipeline"
ACTOR = "smart-warehouse"
RUN_FAILURE, CHECK_FAILURE = "run_failure", "check_failure"
RULES = {  # kind -> (rule_code, rule_name, severity, condition)
    RUN_FAILURE: ("SMART-WAREHOUSE-ETL-RUN-FAILED", "Warehouse load failed", "critical",
                  "a run of the warehouse code location fails; resolved when the failed assets "
                  "later materialize every partition of the failed run"),
    CHECK_FAILURE: ("SMART-WAREHOUSE-ETL-CHECK-FAILED", "Blocking data-quality check failed", "critical",
                    "a blocking (ERROR) asset check fails; resolved when the same check passes for "
                    "the same partitions"),
}

_REGISTER = """
INSERT INTO public.system_components
    (component_code, component_name, component_type, data_centre, host_name, environment,
     description, created_by, updated_by)
VALUES (%(code)s, %(name)s, %(type)s, 'restricted', %(host)s, %(environment)s, %(description)s,
        %(actor)s, %(actor)s)
ON CONFLICT (component_code) DO UPDATE
SET host_name = EXCLUDED.host_name, environment = EXCLUDED.environment, status = 'active',
    updated_at = now(), updated_by = EXCLUDED.updated_by
WHERE (system_components.host_name, system_components.environment, system_components.status)
      IS DISTINCT FROM (EXCLUDED.host_name, EXCLUDED.environment, 'active')
"""
_COMPONENT_ID = "SELECT component_id FROM public.system_components WHERE component_code = %s"
_RULE = """
INSERT INTO public.alert_rules
    (rule_code, rule_name, component_id, metric_name, severity, condition, created_by, updated_by)
VALUES (%(code)s, %(name)s, %(component)s, %(metric)s, %(severity)s, %(condition)s, %(actor)s, %(actor)s)
ON CONFLICT (rule_code) DO UPDATE SET component_id = EXCLUDED.component_id
RETURNING alert_rule_id
"""
_HEALTH = """
INSERT INTO public.health_checks (component_id, status, checked_at, response_ms, details, created_by, updated_by)
VALUES (%(component)s, %(status)s, coalesce(%(at)s, now()), %(ms)s, %(details)s, %(actor)s, %(actor)s)
RETURNING health_check_id
"""
_OPEN_INCIDENTS = """
SELECT incident_id, details FROM public.alert_incidents
WHERE component_id = %(component)s AND incident_status <> 'resolved' AND status = 'active'
  AND details->>'kind' = %(kind)s AND details->>'asset_key' IS NOT DISTINCT FROM %(asset)s::text
ORDER BY opened_at
FOR UPDATE
"""
_NEW_INCIDENT = """
INSERT INTO public.alert_incidents
    (alert_rule_id, component_id, severity, title, opened_at, details, created_by, updated_by)
VALUES (%(rule)s, %(component)s, %(severity)s, %(title)s, coalesce(%(at)s, now()), %(details)s, %(actor)s, %(actor)s)
RETURNING incident_id
"""
_REPEAT_INCIDENT = """
UPDATE public.alert_incidents
SET details = details || %(details)s, updated_at = now(), updated_by = %(actor)s
WHERE incident_id = %(id)s
"""
_RESOLVE_INCIDENT = """
UPDATE public.alert_incidents
SET incident_status = 'resolved', resolved_at = now(), details = details || %(details)s,
    updated_at = now(), updated_by = %(actor)s
WHERE incident_id = %(id)s
"""
_BATCHES = """
SELECT count(*), count(*) FILTER (WHERE status <> 'success'),
       coalesce(sum(rows_extracted), 0), coalesce(sum(rows_loaded), 0), coalesce(sum(rows_rejected), 0)
FROM public.etl_batches WHERE run_id = %s
"""


# ------------------------------------------------------------------ registration


@dataclass(frozen=True)
class Registration:
    component_id: str
    rules: dict[str, str]  # kind -> alert_rule_id


def register(conn: psycopg.Connection) -> Registration:
    """Upsert the pipeline's component and alert rules; return their ids."""
    conn.execute(_REGISTER, {
        "code": COMPONENT_CODE, "name": COMPONENT_NAME, "type": COMPONENT_TYPE,
        "host": socket.gethostname(), "environment": environment(), "actor": ACTOR,
        "description": "Dagster code location that loads smart_warehouse from the portals; "
                       "one health check per run, incidents for failed runs and blocking checks.",
    })
    component = str(conn.execute(_COMPONENT_ID, (COMPONENT_CODE,)).fetchone()[0])
    rules = {}
    for kind, (code, name, severity, condition) in RULES.items():
        rules[kind] = str(conn.execute(_RULE, {
            "code": code, "name": name, "component": component, "metric": f"dagster_{kind}",
            "severity": severity, "condition": condition, "actor": ACTOR,
        }).fetchone()[0])
    return Registration(component, rules)


# ------------------------------------------------------------------ what a run did


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
            _days(summary.first, summary.last) if summary.planned.get(key, summary.first is not None) else None)
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


# ------------------------------------------------------------------ incidents


def _days(first: str | None, last: str | None) -> set[str] | None:
    if first is None:
        return None
    return {d.isoformat() for d in expand(f"{first}...{last or first}")}


def open_incident(
    conn: psycopg.Connection,
    registration: Registration,
    *,
    kind: str,
    asset_key: str | None,
    title: str,
    partition_start: str | None = None,
    partition_end: str | None = None,
    partitions: Iterable[str] | None = None,
    check_name: str | None = None,
    run_id: str | None = None,
    opened_at: datetime | None = None,
    details: dict | None = None,
    severity: str | None = None,
) -> str:
    """Open an incident for an asset (and check, and partitions), or update the one already
    open for exactly that; returns its id. ``kind`` is ``run_failure`` or ``check_failure``."""
    parts = sorted(partitions) if partitions is not None else None
    if parts:
        partition_start, partition_end = parts[0], parts[-1]
    identity = {"kind": kind, "asset_key": asset_key, "check_name": check_name,
                "partition_start": partition_start, "partition_end": partition_end, "partitions": parts}
    for incident_id, existing in conn.execute(
        _OPEN_INCIDENTS, {"component": registration.component_id, "kind": kind, "asset": asset_key}
    ).fetchall():
        if all(existing.get(k) == v for k, v in identity.items()):
            conn.execute(_REPEAT_INCIDENT, {"id": incident_id, "actor": ACTOR, "details": json.dumps({
                "occurrences": int(existing.get("occurrences", 1)) + 1, "last_run_id": run_id,
            })})
            return str(incident_id)
    body = {**(details or {}), **identity, "occurrences": 1, "first_run_id": run_id, "last_run_id": run_id}
    return str(conn.execute(_NEW_INCIDENT, {
        "rule": registration.rules[kind], "component": registration.component_id,
        "severity": severity or RULES[kind][2], "title": title[:300], "at": opened_at,
        "details": json.dumps(body, default=str), "actor": ACTOR,
    }).fetchone()[0])


def resolve_incidents(
    conn: psycopg.Connection,
    registration: Registration,
    *,
    kind: str,
    asset_key: str | None,
    succeeded: set[str] | None,
    check_name: str | None = None,
    run_id: str | None = None,
    job_name: str | None = None,
) -> list[str]:
    """Resolve the open incidents of ``kind`` for ``asset_key`` (and ``check_name``) that a
    success over the partitions ``succeeded`` covers (None: the asset is unpartitioned)."""
    resolved = []
    for incident_id, d in conn.execute(
        _OPEN_INCIDENTS, {"component": registration.component_id, "kind": kind, "asset": asset_key}
    ).fetchall():
        if check_name is not None and d.get("check_name") != check_name:
            continue
        if asset_key is None and d.get("job_name") != job_name:
            continue
        wanted = set(d["partitions"]) if d.get("partitions") else _days(d.get("partition_start"), d.get("partition_end"))
        if wanted is not None and (succeeded is None or not wanted <= succeeded):
            continue
        conn.execute(_RESOLVE_INCIDENT, {"id": incident_id, "actor": ACTOR,
                                         "details": json.dumps({"resolved_by_run_id": run_id})})
        resolved.append(str(incident_id))
    return resolved


# ------------------------------------------------------------------ one run into the monitor


@dataclass
class Recorded:
    health_check_id: str
    status: str
    opened: list[str]
    resolved: list[str]
    summary: RunSummary


def record_run(
    monitor: PostgresResource,
    warehouse: PostgresResource | None,
    instance: dg.DagsterInstance,
    run: dg.DagsterRun,
    error: str | None = None,
) -> Recorded:
    """Write the run's health check, open and resolve incidents — in one monitor transaction."""
    s = summarize(instance, run, warehouse, error)
    span = f" {s.first}" + (f"...{s.last}" if s.last and s.last != s.first else "") if s.first else ""
    opened, resolved = [], []
    with monitor.transaction() as conn:
        reg = register(conn)
        health_id = str(conn.execute(_HEALTH, {
            "component": reg.component_id, "status": s.status, "at": s.finished_at, "ms": s.duration_ms,
            "details": json.dumps(s.details(), default=str), "actor": ACTOR,
        }).fetchone()[0])
        common = {"run_id": s.run_id, "opened_at": s.finished_at}
        if not s.succeeded:
            for asset in s.failed:
                partitioned = s.planned.get(asset, s.first is not None)
                first, last = (s.first, s.last) if partitioned else (None, None)
                opened.append(open_incident(
                    conn, reg, kind=RUN_FAILURE, asset_key=asset, partition_start=first, partition_end=last,
                    title=f"Warehouse load failed: {asset}{span if partitioned else ''}",
                    details={"job_name": s.job_name, "error": s.error}, **common,
                ))
            if not s.failed and not s.failed_blocking_checks:  # failed outside any asset step
                opened.append(open_incident(
                    conn, reg, kind=RUN_FAILURE, asset_key=None, partition_start=s.first, partition_end=s.last,
                    title=f"Warehouse run failed: {s.job_name}{span}",
                    details={"job_name": s.job_name, "error": s.error}, **common,
                ))
        failing: dict[tuple[str, str], set[str]] = {}
        for c in s.failed_blocking_checks:
            failing.setdefault((c.asset_key, c.check_name), set()).update(c.partitions or ())
        for (asset, check), parts in sorted(failing.items()):
            named = sorted(parts) or None
            opened.append(open_incident(
                conn, reg, kind=CHECK_FAILURE, asset_key=asset, check_name=check, partitions=named,
                title=f"Blocking check failed: {asset} {check}"
                      + (f" {compress(expand(','.join(named)))}" if named else ""),
                details={"job_name": s.job_name}, **common,
            ))
        for asset, parts in sorted(s.materialized.items()):
            resolved += resolve_incidents(conn, reg, kind=RUN_FAILURE, asset_key=asset, succeeded=parts, run_id=s.run_id)
        if s.succeeded:
            resolved += resolve_incidents(conn, reg, kind=RUN_FAILURE, asset_key=None, succeeded=_days(s.first, s.last),
                                          run_id=s.run_id, job_name=s.job_name)
        passed: dict[tuple[str, str], set[str]] = {}
        for c in s.checks:
            if c.passed:
                passed.setdefault((c.asset_key, c.check_name), set()).update(c.partitions or ())
        for (asset, check), parts in sorted(passed.items()):
            resolved += resolve_incidents(conn, reg, kind=CHECK_FAILURE, asset_key=asset, check_name=check,
                                          succeeded=parts or None, run_id=s.run_id)
    return Recorded(health_id, s.status, opened, resolved, s)


# ------------------------------------------------------------------ the sensors


# Run status sensors look at the event log every 10 s (one indexed query), so the monitor and
# the watermarks follow a run within seconds rather than the default 30.
REACT_SECONDS = 10


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    name="monitor_successful_runs",
    minimum_interval_seconds=REACT_SECONDS,
    default_status=sensor_status(),
    description="After each successful run: a health_checks row in smart_monitor, and the incidents "
    "it fixes resolved.",
)
def monitor_successful_runs(context: dg.RunStatusSensorContext, monitor_db: PostgresResource,
                            warehouse: PostgresResource) -> None:
    done = record_run(monitor_db, warehouse, context.instance, context.dagster_run)
    context.log.info(f"run {context.dagster_run.run_id}: {done.status}, resolved {len(done.resolved)} incident(s)")


@dg.run_failure_sensor(
    name="monitor_failed_runs",
    minimum_interval_seconds=REACT_SECONDS,
    default_status=sensor_status(),
    description="After each failed run: a 'down' health_checks row and an alert incident per failed "
    "asset in smart_monitor.",
)
def monitor_failed_runs(context: dg.RunFailureSensorContext, monitor_db: PostgresResource,
                        warehouse: PostgresResource) -> None:
    done = record_run(monitor_db, warehouse, context.instance, context.dagster_run,
                      error=context.failure_event.message)
    context.log.info(f"run {context.dagster_run.run_id}: down, {len(done.opened)} incident(s) open")
