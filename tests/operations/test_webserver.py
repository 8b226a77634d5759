"""End to end through the real UI server: `dagster dev` (webserver + daemon) on a free loopback
port, on the production instance config (deploy/dagster.yaml: PostgreSQL storage in a
throwaway database, the queued run coordinator and its limits), driven through GraphQL the
way the UI drives it.

The warehouse's dimensions are loaded first, in process; then the test lists the asset graph,
launches an asset partition backfill of the daily assets over three days, waits for the
daemon to run it, and checks that one run covered the range, that the warehouse holds those
days and what the checks said. Every process started here runs in its own process group,
killed in the end whatever happens (a background `dagster dev` ignores SIGTERM/SIGINT).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path

import dagster as dg
import psycopg
import pytest
from psycopg import sql

from smart_warehouse_assets.operations import changes
from smart_warehouse_assets.operations.monitor_registration import COMPONENT_CODE
from smart_warehouse_assets.settings import DATABASES, derived_url
from tests.conftest import RUN_TAG, TEST_START
from tests.operations.helpers import execute_request, load_request, production_home
from tests.warehouse.helpers import rows

ROOT = Path(__file__).resolve().parents[2]
FIRST, LAST = TEST_START + timedelta(days=1), TEST_START + timedelta(days=3)
PORTAL_GROUPS = {"citizen_portal", "dept_portal", "aiml_portal"}
DATE_KEYS = {"fact_service_applications": "submitted_date_key", "fact_application_processing": "action_date_key",
             "fact_eligibility_scoring": "prediction_date_key", "agg_daily_applications": "date_key"}
STARTUP_SECONDS, BACKFILL_SECONDS = 60, 100


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class GraphQL:
    def __init__(self, port: int, process: subprocess.Popen, log: Path) -> None:
        self.url, self.process, self.log = f"http://127.0.0.1:{port}/graphql", process, log

    def __call__(self, query: str, **variables) -> dict:
        body = json.dumps({"query": query, "variables": variables}).encode()
        request = urllib.request.Request(self.url, body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            answer = json.loads(response.read())
        assert not answer.get("errors"), answer["errors"]
        return answer["data"]

    def wait(self, what: str, seconds: float, probe):
        """Poll ``probe`` until it returns something truthy; fail with the server's log tail."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"dagster dev exited ({self.process.returncode}):\n{self.tail()}")
            try:
                found = probe()
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                found = None
            if found:
                return found
            time.sleep(1)
        pytest.fail(f"timed out after {seconds}s waiting for {what}:\n{self.tail()}")

    def tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-40:])


@pytest.fixture(scope="module")
def dagster_dev(make_database_set, seeded_template, tmp_path_factory):
    """One `dagster dev` for this module, on its own databases and instance database."""
    urls = make_database_set(template=seeded_template[0])
    with dg.DagsterInstance.ephemeral() as instance:  # the dimensions, which are not partitioned
        assert execute_request(urls, load_request(FIRST, FIRST, *changes.UNPARTITIONED_ASSETS), instance).success
    tmp_path = tmp_path_factory.mktemp("dagster_dev")
    storage = f"{RUN_TAG}_dagster_dev"
    with psycopg.connect(derived_url("postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(storage)))
    home, instance_env = production_home(tmp_path, storage)
    env = {k: v for k, v in os.environ.items() if k != "SMART_ENVIRONMENT"}
    env.update(instance_env)
    env.update({db.env_var: urls[key] for key, db in DATABASES.items()})
    env.update(DAGSTER_HOME=str(home), DAGSTER_DISABLE_TELEMETRY="1", SMART_PARTITION_START=TEST_START.isoformat())
    port, log = _free_port(), tmp_path / "dagster-dev.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "dagster", "dev", "-h", "127.0.0.1", "-p", str(port),
             "-w", str(ROOT / "workspace.yaml")],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        gql = GraphQL(port, process, log)
        gql.wait("the code location to load", STARTUP_SECONDS, lambda: _loaded(gql))
        yield gql, urls
    finally:
        for sig, grace in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                break
            try:
                process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                continue
        try:  # the group outlives its leader when children linger: make sure none does
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        with psycopg.connect(derived_url("postgres"), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(storage)))


LOCATION = """{ workspaceOrError { __typename ... on Workspace { locationEntries {
    name loadStatus locationOrLoadError { __typename ... on PythonError { message } } } } } }"""
ASSET_NODES = """{ assetNodes { assetKey { path } groupName isMaterializable isPartitioned
    dependencyKeys { path } assetChecksOrError { __typename ... on AssetChecks { checks { name blocking } } } } }"""
LAUNCH = """mutation Launch($params: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $params) {
    __typename ... on LaunchBackfillSuccess { backfillId } ... on Error { message } } }"""
BACKFILL = """query Backfill($id: String!) { partitionBackfillOrError(backfillId: $id) {
    __typename ... on PartitionBackfill { status numPartitions } ... on Error { message } } }"""
RUNS = """query Runs($id: String!) { runsOrError(filter: {tags: [{key: "dagster/backfill", value: $id}]}) {
    __typename ... on Runs { results { runId status tags { key value } } } } }"""
START_SENSOR = """mutation Start($selector: SensorSelector!) { startSensor(sensorSelector: $selector) {
    __typename ... on Sensor { sensorState { status } } ... on Error { message } } }"""
SENSOR_RUNS = """query Runs($sensor: String!) { runsOrError(filter: {tags: [{key: "dagster/sensor_name", value: $sensor}]}) {
    __typename ... on Runs { results { runId status tags { key value } } } } }"""
CHECK_EXECUTIONS = """query Executions($key: AssetKeyInput!, $check: String!) {
    assetCheckExecutions(assetKey: $key, checkName: $check, limit: 20) {
        runId status evaluation { severity success partition } } }"""


def _start(gql: GraphQL, location: str, sensor: str) -> None:
    started = gql(START_SENSOR, selector={"repositoryName": "__repository__",
                                          "repositoryLocationName": location, "sensorName": sensor})["startSensor"]
    assert started["__typename"] == "Sensor" and started["sensorState"]["status"] == "RUNNING", started


def _loaded(gql: GraphQL):
    data = gql(LOCATION)["workspaceOrError"]
    entries = data.get("locationEntries") or []
    for entry in entries:
        if entry["loadStatus"] == "LOADED":
            located = entry["locationOrLoadError"]
            if located["__typename"] == "PythonError":
                pytest.fail(f"the code location failed to load: {located['message']}")
            return entry
    return None


def _upstream(nodes: dict[str, dict], key: str) -> set[str]:
    seen, todo = set(), [key]
    while todo:
        for dep in nodes[todo.pop()]["deps"]:
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return seen


def test_backfill_through_the_webserver_and_daemon(dagster_dev):
    gql, urls = dagster_dev
    started = time.monotonic()

    # The asset graph as the UI shows it: every warehouse asset has portal tables upstream.
    nodes = {"/".join(n["assetKey"]["path"]): {**n, "deps": ["/".join(d["path"]) for d in n["dependencyKeys"]]}
             for n in gql(ASSET_NODES)["assetNodes"]}
    warehouse = {k for k, n in nodes.items() if n["isMaterializable"] and n["groupName"] not in PORTAL_GROUPS}
    assert set(changes.PARTITIONED_ASSETS) | set(changes.UNPARTITIONED_ASSETS) <= warehouse
    for key in sorted(warehouse - {"dim_date", "dim_holiday"}):  # the calendar is computed in Python
        assert {nodes[u]["groupName"] for u in _upstream(nodes, key)} & PORTAL_GROUPS, f"{key} has no portal upstream"
    assert "smart_citizen/service_applications" in _upstream(nodes, "agg_daily_applications")
    assert "smart_dept/processing_actions" in _upstream(nodes, "fact_application_processing")
    assert "smart_aiml/predictions" in _upstream(nodes, "fact_eligibility_scoring")
    assert all(nodes[a]["isPartitioned"] for a in changes.PARTITIONED_ASSETS)

    # An asset partition backfill over three days, as "Materialize selected" > "Backfill" does.
    days = [(FIRST + timedelta(days=i)).isoformat() for i in range((LAST - FIRST).days + 1)]
    launched = gql(LAUNCH, params={
        "partitionNames": days, "fromFailure": False,
        "assetSelection": [{"path": a.split("/")} for a in changes.PARTITIONED_ASSETS],
    })["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched
    backfill = launched["backfillId"]

    def finished():
        state = gql(BACKFILL, id=backfill)["partitionBackfillOrError"]
        assert state["__typename"] == "PartitionBackfill", state
        assert state["status"] not in ("FAILED", "COMPLETED_FAILED", "CANCELED", "FAILING"), state
        return state if state["status"] in ("COMPLETED", "COMPLETED_SUCCESS") else None

    state = gql.wait(f"backfill {backfill}", BACKFILL_SECONDS, finished)
    assert state["numPartitions"] == len(days)

    # One run covered the whole range (BackfillPolicy.single_run()), and it succeeded.
    runs = gql(RUNS, id=backfill)["runsOrError"]["results"]
    assert len(runs) == 1, runs
    [run] = runs
    tags = {t["key"]: t["value"] for t in run["tags"]}
    assert run["status"] == "SUCCESS"
    assert tags["dagster/code_location"] == "smart_warehouse"  # what the queue's limit counts
    assert (tags[changes.RANGE_START_TAG], tags[changes.RANGE_END_TAG]) == (days[0], days[-1])

    # The warehouse holds exactly those days, each written by that run.
    wanted = {int(d.replace("-", "")) for d in days}
    for table, key in DATE_KEYS.items():
        got = {k for (k,) in rows(urls["warehouse"], f"SELECT DISTINCT {key} FROM {table}")}
        assert got == wanted, table
    batches = rows(urls["warehouse"], "SELECT DISTINCT asset_key, partition_key, status FROM etl_batches "
                                      "WHERE run_id = %s", (run["runId"],))
    assert {(a, s) for a, _, s in batches} == {(a, "success") for a in changes.PARTITIONED_ASSETS}
    assert {p for _, p, _ in batches} == {f"{days[0]}...{days[-1]}"}

    # What the checks said about those partitions, as the asset page shows it. Each check
    # evaluates the run's range once; the per-partition executions Dagster planned beside it
    # show as SKIPPED. Blocking checks must have passed, or the run would have failed.
    declared = [(k, c["name"], c["blocking"]) for k in changes.PARTITIONED_ASSETS
                for c in (nodes[k]["assetChecksOrError"].get("checks") or [])]
    statuses: dict[str, int] = {}
    for key, check, blocking in declared:
        executions = [e for e in gql(CHECK_EXECUTIONS, key={"path": key.split("/")}, check=check)["assetCheckExecutions"]
                      if e["runId"] == run["runId"]]
        evaluated = [e for e in executions if e["evaluation"]]
        assert evaluated, f"{key}:{check} was not evaluated by the backfill run: {executions}"
        for e in executions:
            statuses[e["status"]] = statuses.get(e["status"], 0) + 1
            assert e["status"] in (("SUCCEEDED", "FAILED") if e["evaluation"] else ("SKIPPED",)), (key, check, e)
        if blocking:
            assert all(e["status"] == "SUCCEEDED" for e in evaluated), (key, check, evaluated)
    print(f"end to end in {time.monotonic() - started:.0f}s; {len(declared)} checks, executions {statuses}")


def test_the_daemon_runs_the_refresh_and_records_it(dagster_dev):
    """Switched on in the UI, the sensors do their work through the daemon: the refresh asks for
    one run (with no watermarks yet: every partition), the queue launches it, and once it has
    succeeded the run status sensors move the watermarks and write the monitor's health check."""
    gql, urls = dagster_dev
    started = time.monotonic()
    location = _loaded(gql)["name"]
    for sensor in ("advance_watermarks", "monitor_successful_runs", "refresh_changed_partitions"):
        _start(gql, location, sensor)

    def refreshed():
        runs = gql(SENSOR_RUNS, sensor="refresh_changed_partitions")["runsOrError"]["results"]
        assert all(r["status"] not in ("FAILURE", "CANCELED") for r in runs), runs
        return runs if runs and all(r["status"] == "SUCCESS" for r in runs) else None

    [run] = gql.wait("the refresh run", BACKFILL_SECONDS, refreshed)
    tags = {t["key"]: t["value"] for t in run["tags"]}
    assert tags[changes.TRIGGER_TAG] == "refresh" and tags["dagster/code_location"] == "smart_warehouse"
    assert tags[changes.RANGE_START_TAG] == TEST_START.isoformat()  # no watermark yet: from the start

    def recorded():
        marks = rows(urls["warehouse"], "SELECT source_database || '.' || source_table, run_id FROM etl_watermarks")
        checks = rows(urls["monitor"], "SELECT h.status FROM health_checks h JOIN system_components c USING (component_id) "
                                       "WHERE c.component_code = %s AND h.details->>'run_id' = %s",
                      (COMPONENT_CODE, run["runId"]))
        return (marks, checks) if len(marks) == len(changes.SOURCES) and checks else None

    marks, checks = gql.wait("the watermarks and the health check", 60, recorded)
    assert {name for name, _ in marks} == {s.name for s in changes.SOURCES}
    assert {run_id for _, run_id in marks} == {run["runId"]}
    assert checks == [("healthy",)]
    print(f"daemon loop in {time.monotonic() - started:.0f}s")
