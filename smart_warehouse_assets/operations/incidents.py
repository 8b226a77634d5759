"""Alert incidents in ``smart_monitor``: opened for a failed run or a failed blocking check,
resolved once a later run shows the same asset, check and partitions fixed.

* a ``run_failure`` incident per asset whose step failed, over the run's partition range
  (one for the run itself when it failed outside any asset step); resolved once the asset
  materialized every partition of the incident in one run;
* a ``check_failure`` incident per failed blocking check, with its failing partitions;
  resolved once the check passed for every partition that had failed.

An incident already open for the same asset, check and partitions is updated (its
``occurrences`` counted), not duplicated. :func:`open_incident` and
:func:`resolve_incidents` are public so that other code (a data-quality check that wants to
raise an incident outside a run, an operator script) opens and closes incidents the same way;
:func:`open_run_incidents` and :func:`resolve_run_incidents` apply these rules to one run.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime

import psycopg

from smart_warehouse_assets.operations.monitor_registration import (
    ACTOR, CHECK_FAILURE, RULES, RUN_FAILURE, Registration,
)
from smart_warehouse_assets.operations.run_summary import RunSummary, range_days
from smart_warehouse_assets.partitions import compress, expand

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
        wanted = (set(d["partitions"]) if d.get("partitions")
                  else range_days(d.get("partition_start"), d.get("partition_end")))
        if wanted is not None and (succeeded is None or not wanted <= succeeded):
            continue
        conn.execute(_RESOLVE_INCIDENT, {"id": incident_id, "actor": ACTOR,
                                         "details": json.dumps({"resolved_by_run_id": run_id})})
        resolved.append(str(incident_id))
    return resolved


def open_run_incidents(conn: psycopg.Connection, reg: Registration, s: RunSummary) -> list[str]:
    """Open (or count again) the incidents a finished run calls for; returns their ids."""
    span = f" {s.first}" + (f"...{s.last}" if s.last and s.last != s.first else "") if s.first else ""
    opened = []
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
    return opened


def resolve_run_incidents(conn: psycopg.Connection, reg: Registration, s: RunSummary) -> list[str]:
    """Resolve the open incidents that a finished run shows to be fixed; returns their ids."""
    resolved = []
    for asset, parts in sorted(s.materialized.items()):
        resolved += resolve_incidents(conn, reg, kind=RUN_FAILURE, asset_key=asset, succeeded=parts, run_id=s.run_id)
    if s.succeeded:
        resolved += resolve_incidents(conn, reg, kind=RUN_FAILURE, asset_key=None,
                                      succeeded=range_days(s.first, s.last), run_id=s.run_id, job_name=s.job_name)
    passed: dict[tuple[str, str], set[str]] = {}
    for c in s.checks:
        if c.passed:
            passed.setdefault((c.asset_key, c.check_name), set()).update(c.partitions or ())
    for (asset, check), parts in sorted(passed.items()):
        resolved += resolve_incidents(conn, reg, kind=CHECK_FAILURE, asset_key=asset, check_name=check,
                                      succeeded=parts or None, run_id=s.run_id)
    return resolved
