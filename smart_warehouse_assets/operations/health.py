"""One finished run into ``smart_monitor``: its ``health_checks`` row and its incidents, in
one monitor transaction.

The pipeline is a component of ``smart_monitor`` like every other part of the platform.
:func:`record_run` (called by the run status sensors of :mod:`.monitor_sensors`)

1. registers the pipeline and its alert rules (:mod:`.monitor_registration`);
2. writes one ``health_checks`` row: ``healthy`` for a successful run, ``degraded`` for a
   successful run in which a blocking check failed, ``down`` for a failed run; the run's
   duration as ``response_ms``; rows extracted, loaded and quarantined (from the run's
   ``etl_batches``), assets and partitions in ``details`` (:mod:`.run_summary`);
3. opens and resolves the run's alert incidents (:mod:`.incidents`).

Everything is read from the Dagster instance's event log and the warehouse's own
``etl_batches``; nothing runs inside the load itself, so monitoring can never fail a load.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import dagster as dg

from smart_warehouse_assets.operations.incidents import open_run_incidents, resolve_run_incidents
from smart_warehouse_assets.operations.monitor_registration import ACTOR, register
from smart_warehouse_assets.operations.run_summary import RunSummary, summarize
from smart_warehouse_assets.resources import PostgresResource

_HEALTH = """
INSERT INTO public.health_checks (component_id, status, checked_at, response_ms, details, created_by, updated_by)
VALUES (%(component)s, %(status)s, coalesce(%(at)s, now()), %(ms)s, %(details)s, %(actor)s, %(actor)s)
RETURNING health_check_id
"""


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
    with monitor.transaction() as conn:
        reg = register(conn)
        health_id = str(conn.execute(_HEALTH, {
            "component": reg.component_id, "status": s.status, "at": s.finished_at, "ms": s.duration_ms,
            "details": json.dumps(s.details(), default=str), "actor": ACTOR,
        }).fetchone()[0])
        opened = open_run_incidents(conn, reg, s)
        resolved = resolve_run_incidents(conn, reg, s)
    return Recorded(health_id, s.status, opened, resolved, s)
