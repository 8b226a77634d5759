"""Shared by the operations tests: resources for sensor contexts, running a RunRequest."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import dagster as dg
import psycopg

from smart_warehouse_assets import partitions
from smart_warehouse_assets.definitions import build_definitions, database_resources
from smart_warehouse_assets.jobs import run_request
from smart_warehouse_assets.operations import changes

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
