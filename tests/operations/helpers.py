"""Shared by the operations tests: resources for sensor contexts, running a RunRequest."""

from __future__ import annotations

import shutil
from datetime import date, datetime, timedelta
from pathlib import Path

import dagster as dg
import psycopg

from smart_warehouse_assets import partitions
from smart_warehouse_assets.definitions import build_definitions, database_resources
from smart_warehouse_assets.jobs import run_request
from smart_warehouse_assets.ml.training_set import TrainingSetSettings, verify
from smart_warehouse_assets.operations import changes
from smart_warehouse_assets.resources import PostgresResource

PORTAL_KEYS = ("citizen", "dept", "aiml", "monitor")
DEPLOY_INSTANCE = Path(__file__).resolve().parents[2] / "deploy" / "dagster.yaml"
QUIET = {"log": lambda *_: None}


def resources(urls: dict[str, str]) -> dict[str, dg.ConfigurableResource]:
    """The database resources by their resource keys (warehouse, citizen_db, ...)."""
    return database_resources(urls)


def portals(urls: dict[str, str]) -> dict:
    res = resources(urls)
    return {"citizen": res["citizen_db"], "dept": res["dept_db"], "aiml": res["aiml_db"]}


def portal_urls(urls: dict[str, str]) -> dict[str, str]:
    return {k: urls[k] for k in PORTAL_KEYS}


def record_full_load(urls: dict[str, str], run_id: str = "initial-load") -> None:
    """Store the watermarks a successful full load would leave: every change up to now."""
    wh = resources(urls)["warehouse"]
    changes.advance(wh, changes.open_window(portals(urls), wh, full=True), run_id)


def execute_request(urls: dict[str, str], request: dg.RunRequest, instance: dg.DagsterInstance,
                    raise_on_error: bool = True, retries: bool = True) -> dg.ExecuteInProcessResult:
    """Run what a schedule or sensor asked for, in process, on the test's databases."""
    return run_request(build_definitions(urls), request, instance=instance, raise_on_error=raise_on_error,
                       log_level="WARNING", retries=retries)


def load_request(first: date, last: date, *assets: str) -> dg.RunRequest:
    """The request for ``assets`` (user strings) over first..last, as a schedule would make it."""
    return dg.RunRequest(
        asset_selection=[dg.AssetKey.from_user_string(a) for a in assets],
        tags={changes.RANGE_START_TAG: first.isoformat(), changes.RANGE_END_TAG: last.isoformat()},
    )


def partitions_of(request: dg.RunRequest) -> dict[str, set[date]]:
    """The exact changed days per asset that a request carries."""
    import json

    raw = json.loads(request.tags.get(changes.PARTITIONS_TAG, "{}"))
    return {asset: partitions.expand(value) for asset, value in raw.items()}


def evaluate_sensor(sensor: dg.SensorDefinition, urls: dict[str, str], instance: dg.DagsterInstance):
    """One evaluation of a sensor, with the databases' resources, as the daemon would run it."""
    with dg.build_sensor_context(instance=instance, resources=resources(urls)) as context:
        return sensor(context)


def react_to_run(sensor, urls: dict[str, str], instance: dg.DagsterInstance, result: dg.ExecuteInProcessResult):
    """One evaluation of a run status sensor for a finished in-process run."""
    event = result.get_run_success_event() if result.success else result.get_run_failure_event()
    context = dg.build_run_status_sensor_context(
        sensor_name=sensor.name, dagster_instance=instance, dagster_run=result.dagster_run,
        dagster_event=event, resources=resources(urls),
    )
    with (context if result.success else context.for_run_failure()) as ctx:
        return sensor(ctx)


def production_home(folder: Path, dbname: str) -> tuple[Path, dict[str, str]]:
    """A DAGSTER_HOME holding deploy/dagster.yaml, and the environment that points its storage
    at database ``dbname`` of the test server."""
    from smart_warehouse_assets.settings import derived_url, host_port

    home = folder / "dagster_home"
    home.mkdir()
    shutil.copy(DEPLOY_INSTANCE, home / "dagster.yaml")
    host, port = host_port(derived_url(dbname)).rsplit(":", 1)
    with psycopg.connect(derived_url(dbname)) as conn:
        user = conn.info.user
    return home, {"DAGSTER_PG_HOST": host, "DAGSTER_PG_PORT": port, "DAGSTER_PG_USER": user, "DAGSTER_PG_DB": dbname}


# The latest live action of each candidate application, when its workflow has a next step that
# a new action at %(at)s would take longer than allowed (the time since that action).
_NEXT_STEP = """
SELECT a.application_id, a.assignment_id, a.department_id, a.officer_id, a.step_number + 1
FROM (SELECT DISTINCT ON (application_id) * FROM processing_actions
      WHERE status <> 'deleted' AND application_id = ANY(%(apps)s)
      ORDER BY application_id, step_number DESC, action_at DESC) a
JOIN application_assignments s ON s.assignment_id = a.assignment_id
JOIN approval_chains ch ON ch.workflow_id = s.workflow_id AND ch.step_number = a.step_number + 1
WHERE a.action_at < %(at)s - make_interval(hours => ch.sla_hours + 1)
ORDER BY a.application_id LIMIT 1
"""


def land_a_late_step(urls: dict[str, str], at: datetime, avoid: set[date], stamp: str) -> tuple[str, date, str]:
    """An officer records the next workflow step of an old application at ``at``, later than
    its chain step allows: a breach. The application was submitted on a day of the loaded
    world outside ``avoid`` (days other changes reload anyway) and does not change itself.
    Returns the application, its IST submission day and the new action."""
    with psycopg.connect(urls["citizen"]) as citizen:
        candidates = dict(citizen.execute(
            "SELECT application_id, (submitted_at AT TIME ZONE 'Asia/Kolkata')::date FROM service_applications "
            "WHERE submitted_at IS NOT NULL AND (submitted_at AT TIME ZONE 'Asia/Kolkata')::date < %s",
            ((at - timedelta(days=3)).date(),)).fetchall())
    apps = [a for a, day in candidates.items() if day not in avoid]
    with psycopg.connect(urls["dept"]) as dept:
        app, assignment, department, officer, step = dept.execute(_NEXT_STEP, {"apps": apps, "at": at}).fetchone()
        action = dept.execute(
            "INSERT INTO processing_actions (application_id, assignment_id, department_id, officer_id, action_type, "
            "action_at, step_number, status, created_at, updated_at, created_by, updated_by) "
            f"VALUES (%s, %s, %s, %s, 'field_verification', %s, %s, 'active', {stamp}, {stamp}, 'test', 'test') "
            "RETURNING action_id", (app, assignment, department, officer, at, step)).fetchone()[0]
    return app, candidates[app], action


def submission_days_changed_after(urls: dict[str, str], day: date) -> set[date]:
    """Submission days of the applications that changed after ``day`` (IST), or whose actions
    did: the days a change-driven run reloads whatever else happens."""
    end = partitions.DayRange(day, day).end
    with psycopg.connect(urls["dept"]) as dept:
        apps = [a for (a,) in dept.execute(
            "SELECT DISTINCT application_id FROM processing_actions WHERE updated_at >= %s", (end,))]
    with psycopg.connect(urls["citizen"]) as citizen:
        return {d for (d,) in citizen.execute(
            "SELECT DISTINCT (submitted_at AT TIME ZONE 'Asia/Kolkata')::date FROM service_applications "
            "WHERE submitted_at IS NOT NULL AND (updated_at >= %s OR application_id = ANY(%s))", (end, apps))}


def training_days(wh: str) -> dict[str, str]:
    """The training set's days and their files' checksums, from its manifest."""
    folder = TrainingSetSettings().folder(PostgresResource(url=wh))
    return {day: entry["sha256"] for day, entry in verify(folder).items()}
