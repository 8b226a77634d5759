"""The pipeline as a component of ``smart_monitor``: who it is, its two alert rules, and the
upsert that registers both.

Kept apart because every other monitor write (health checks, incidents) needs the ids this
returns, and the registration is idempotent: a new monitor database needs no set-up.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass

import psycopg

from smart_warehouse_assets.operations.environment import environment

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
