"""The real Dagster services over the test databases: dagster-webserver and dagster-daemon.

For end-to-end tests (the browser test in tests/ui, operations tests that need the daemon):
both processes run this project's code location from ``workspace.yaml`` with the test
databases' URLs in ``SMART_*_URL``, a private ``DAGSTER_HOME`` and a free loopback port,
exactly as ``smart-warehouse ui`` would run them. Runs started in the test process with
``services.instance()`` land in the same instance, so the UI shows them.

    with dagster_services(urls, tmp_path / "dagster_home") as services:
        with services.instance() as instance:
            run_load(..., instance=instance)
        services.graphql("{ version }")

Both processes are stopped (their whole process group: the webserver's code server too)
when the block ends, also when the test fails; their output is kept in ``home/*.log`` and
shown in the error when they do not come up.
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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from smart_warehouse_assets.settings import DATABASES

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

_LOCATION_STATUS = """
{ workspaceOrError { __typename ... on Workspace { locationEntries {
    name loadStatus locationOrLoadError { __typename ... on PythonError { message } } } } } }
"""


class ServicesFailed(RuntimeError):
    """The webserver or the daemon did not come up (the message carries their logs)."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class DagsterServices:
    url: str
    home: Path
    env: dict[str, str]
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def instance(self) -> dg.DagsterInstance:
        """The services' instance (runs, events, schedules), opened in the test process."""
        return dg.DagsterInstance.from_config(str(self.home))

    def graphql(self, query: str, variables: dict | None = None, timeout: float = 30) -> dict:
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        request = urllib.request.Request(f"{self.url}/graphql", body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            payload = json.load(response)
        if payload.get("errors"):
            raise ServicesFailed(f"GraphQL errors: {payload['errors']}")
        return payload["data"]

    def logs(self) -> str:
        parts = []
        for name in self.processes:
            path = self.home / f"{name}.log"
            text = path.read_text(errors="replace") if path.exists() else ""
            parts.append(f"--- {name} (last 3000 characters) ---\n{text[-3000:]}")
        return "\n".join(parts)

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise ServicesFailed(f"{name} exited with {process.returncode}\n{self.logs()}")

    def wait_until_ready(self, timeout: float) -> None:
        """Until the webserver answers and has loaded the code location without error."""
        deadline = time.monotonic() + timeout
        last = "no answer yet"
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                entries = self.graphql(_LOCATION_STATUS, timeout=5)["workspaceOrError"]["locationEntries"]
            except (urllib.error.URLError, ConnectionError, TimeoutError, KeyError) as exc:
                last = repr(exc)
            else:
                errors = [e for e in entries if (e["locationOrLoadError"] or {}).get("__typename") == "PythonError"]
                if errors:
                    raise ServicesFailed(f"the code location failed to load: {errors[0]['locationOrLoadError']['message']}")
                if entries and all(e["loadStatus"] == "LOADED" and e["locationOrLoadError"] for e in entries):
                    return
                last = f"locations: {[(e['name'], e['loadStatus']) for e in entries]}"
            time.sleep(0.5)
        raise ServicesFailed(f"dagster-webserver not ready after {timeout:.0f}s ({last})\n{self.logs()}")

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)


def services_env(urls: dict[str, str], home: Path) -> dict[str, str]:
    """The environment of both processes: this one's, with the test databases and home."""
    env = dict(os.environ)
    env.update({DATABASES[key].env_var: url for key, url in urls.items()})
    env.update({"DAGSTER_HOME": str(home), "DAGSTER_DISABLE_TELEMETRY": "1", "PYTHONUNBUFFERED": "1"})
    return env


@contextmanager
def dagster_services(urls: dict[str, str], home: Path, *, daemon: bool = True,
                     timeout: float = 120, wait: bool = True) -> Iterator[DagsterServices]:
    """dagster-webserver (and dagster-daemon) on a free loopback port over ``urls``.

    With ``wait=False`` the block starts while the code location is still loading (do
    other set-up meanwhile, then call ``wait_until_ready``).
    """
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text("telemetry:\n  enabled: false\n")
    # Create the instance's storage once, before three processes race to create its tables.
    with dg.DagsterInstance.from_config(str(home)) as instance:
        instance.get_runs(limit=1)
        instance.fetch_materializations(dg.AssetKey("any"), limit=1)
        instance.all_instigator_state()
    port = free_port()
    services = DagsterServices(url=f"http://127.0.0.1:{port}", home=home, env=services_env(urls, home))
    workspace = str(PROJECT_ROOT / "workspace.yaml")
    commands = {"webserver": [str(BIN / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(port), "-w", workspace]}
    if daemon:
        commands["daemon"] = [str(BIN / "dagster-daemon"), "run", "-w", workspace]
    try:
        for name, command in commands.items():
            with open(home / f"{name}.log", "wb") as log:
                services.processes[name] = subprocess.Popen(
                    command, cwd=PROJECT_ROOT, env=services.env, stdin=subprocess.DEVNULL,
                    stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                )
        if wait:
            services.wait_until_ready(timeout)
        yield services
    finally:
        services.stop()
