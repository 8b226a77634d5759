"""Throwaway databases on the test server for every test run, dropped afterwards.

The five databases are migrated once per session into template databases; each test that
asks for ``database_urls`` gets its own copy (CREATE DATABASE ... TEMPLATE is a file copy,
far faster than migrating again). Everything created is dropped at the end, also when
tests fail.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta

# The partitions definition reads its start when the package is imported: set it first.
TEST_START = date(2026, 9, 1)
TEST_DAYS = 14
os.environ["SMART_PARTITION_START"] = TEST_START.isoformat()
os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
# The training sets the loads write go to a folder of this session, removed at its end.
TRAINING_DIR = tempfile.mkdtemp(prefix="smart-training-")
os.environ["SMART_TRAINING_DIR"] = TRAINING_DIR
atexit.register(shutil.rmtree, TRAINING_DIR, True)

import dagster as dg  # noqa: E402
import psycopg  # noqa: E402
import pytest  # noqa: E402
from psycopg import sql  # noqa: E402

from smart_warehouse_assets.migrations import migrate  # noqa: E402
from smart_warehouse_assets.partitions import IST  # noqa: E402
from smart_warehouse_assets.paths import SQL_ROOT  # noqa: E402
from smart_warehouse_assets.settings import DATABASES, derived_url, with_dbname  # noqa: E402
from tests.warehouse.helpers import scalar  # noqa: E402

RUN_TAG = f"smwt_{os.getpid()}_{uuid.uuid4().hex[:6]}"

# The files that take longest (1.5-2.5 minutes each with --durations), handed to the two
# workers first (pyproject.toml keeps xdist to this order: --no-loadscope-reorder). By its
# own order, fewest tests last, the one-test benchmark file ran alone at the end.
LONGEST_FIRST = ("operations/test_benchmark.py", "operations/test_merge.py", "operations/test_webserver.py",
                 "quality/test_checks.py", "trust/test_hostile_rows.py")


def pytest_collection_modifyitems(items) -> None:
    """Longest files first; every file's tests keep their order (some rely on it)."""
    def rank(item) -> int:
        path = item.nodeid.split("::", 1)[0].removeprefix("tests/")
        return LONGEST_FIRST.index(path) if path in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)


def _admin() -> psycopg.Connection:
    return psycopg.connect(derived_url("postgres"), autocommit=True)


def _drop(names: list[str]) -> None:
    with _admin() as conn:
        for name in names:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


# Every DROP DATABASE waits for a checkpoint; drops waiting together share one. A session
# creates about a thousand databases: one at a time their drops took a minute, 16 at a time
# less than half of that.
_DROPPERS = 16


def _drop_all(names: list[str]) -> None:
    with ThreadPoolExecutor(_DROPPERS) as pool:
        list(pool.map(_drop, [names[i::_DROPPERS] for i in range(_DROPPERS)]))


@pytest.fixture(scope="session")
def server_url() -> str:
    """Maintenance URL of the test server (from PGHOST/PGPORT/PGUSER, 127.0.0.1:5432 by default)."""
    url = derived_url("postgres")
    try:
        psycopg.connect(url, connect_timeout=5).close()
    except psycopg.OperationalError as exc:
        pytest.exit(f"no PostgreSQL test server at {url}: {exc}", returncode=3)
    return url


@pytest.fixture(scope="session")
def make_database_set(server_url) -> Iterator[Callable[..., dict[str, str]]]:
    """Factory: a new set of five databases, empty or copied from a template set."""
    created: list[str] = []
    counter = iter(range(1_000_000))

    def make(template: dict[str, str] | None = None, label: str = "t") -> dict[str, str]:
        n = next(counter)
        urls = {}
        with _admin() as conn:
            for key in DATABASES:
                name = f"{RUN_TAG}_{label}{n}_{key}"
                stmt = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
                if template:
                    src = template[key].rsplit("/", 1)[1].split("?")[0]
                    stmt = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                        sql.Identifier(name), sql.Identifier(src)
                    )
                conn.execute(stmt)
                created.append(name)
                urls[key] = with_dbname(server_url, name)
        return urls

    yield make
    _drop_all(created)


@pytest.fixture(scope="session")
def migrated_template(make_database_set) -> dict[str, str]:
    """Five databases migrated to the latest schema; only ever copied, never written by tests."""
    urls = make_database_set(label="tmpl")
    for key, url in urls.items():
        migrate(url, SQL_ROOT / key)
    return urls


@pytest.fixture
def database_urls(make_database_set, migrated_template) -> dict[str, str]:
    """A fresh, migrated set of the five databases for one test."""
    return make_database_set(template=migrated_template)


@pytest.fixture(scope="session")
def seeded_template(make_database_set, migrated_template) -> tuple[dict[str, str], dict]:
    """Migrated databases whose portals hold a small seeded world (never written by tests)."""
    from smart_warehouse_assets.synthetic import seed

    urls = make_database_set(template=migrated_template, label="seeded")
    portals = {k: v for k, v in urls.items() if k != "warehouse"}
    manifest = seed(portals, scale=0.05, start=TEST_START, days=TEST_DAYS, log=lambda *_: None)
    _pay_the_approved(urls["citizen"])
    return urls, manifest


# The seed pays an approval 1-9 days after it, so a 14-day world ends before most payments:
# the tests' world pays each approval still unpaid two hours after its decision, the way
# the simulator does; about one in five first fails and is paid again a day later (when the
# world has not ended by then). Deterministic: derived from the application ids.
_PAYMENTS = """
WITH due AS (
    SELECT a.application_id, a.citizen_id, a.amount_approved, a.decided_at,
           row_number() OVER (ORDER BY a.application_id) %% 3 = 1 AS fails
    FROM service_applications a
    WHERE a.status = 'approved' AND a.amount_approved > 0 AND a.decided_at + interval '2 hours' < %(end)s
      AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.application_id = a.application_id)
), attempts AS (
    SELECT application_id, citizen_id, amount_approved, decided_at + interval '2 hours' AS paid_at,
           CASE WHEN fails THEN 'failed' ELSE 'success' END AS outcome, 1 AS attempt
    FROM due
    UNION ALL
    SELECT application_id, citizen_id, amount_approved, decided_at + interval '26 hours', 'success', 2
    FROM due WHERE fails AND decided_at + interval '26 hours' < %(end)s
)
INSERT INTO payments (payment_id, application_id, citizen_id, amount, payment_mode, transaction_ref, paid_at,
                      payment_status, created_at, updated_at, created_by, updated_by)
SELECT id, application_id, citizen_id, amount_approved, 'dbt', 'TXN' || upper(substr(replace(id::text, '-', ''), 1, 16)),
       paid_at, outcome, paid_at, paid_at, 'payment-gateway', 'payment-gateway'
FROM (SELECT md5(application_id::text || attempt)::uuid AS id, * FROM attempts) x
"""


def _pay_the_approved(citizen_url: str) -> None:
    end = datetime.combine(LAST_DAY + timedelta(days=1), datetime.min.time(), tzinfo=IST)
    with psycopg.connect(citizen_url) as conn:
        # Part of the seeded world, so written like the seed: past the portal's audit triggers.
        conn.execute("SET LOCAL session_replication_role = replica")
        conn.execute(_PAYMENTS, {"end": end})


LAST_DAY = date.fromordinal(TEST_START.toordinal() + TEST_DAYS - 1)


def quality_thresholds(**overrides):
    """Default thresholds, except freshness: the test world ended on LAST_DAY, not yesterday."""
    from smart_warehouse_assets.partitions import IST
    from smart_warehouse_assets.quality.spec import QualityThresholds

    from datetime import datetime

    lag = (datetime.now(IST).date() - LAST_DAY).days
    return QualityThresholds(**({"freshness_max_lag_days": lag} | overrides))


def load_warehouse(urls: dict[str, str], first: date, last: date, selection=None, raise_on_error=True,
                   thresholds=None):
    """One Dagster run materializing the warehouse (or ``selection``) for first..last."""
    from smart_warehouse_assets.definitions import build_definitions
    from smart_warehouse_assets.jobs import run_load

    with dg.DagsterInstance.ephemeral() as instance:
        return run_load(build_definitions(urls, thresholds or quality_thresholds()), first, last,
                        instance=instance, selection=selection, raise_on_error=raise_on_error)


def check_warehouse(urls: dict[str, str], first: date | None = None, last: date | None = None,
                    selection=None, thresholds=None):
    """One Dagster run evaluating the checks on the current tables."""
    from smart_warehouse_assets.definitions import build_definitions
    from smart_warehouse_assets.jobs import run_checks

    with dg.DagsterInstance.ephemeral() as instance:
        return run_checks(build_definitions(urls, thresholds or quality_thresholds()), first, last,
                          instance=instance, selection=selection)


@pytest.fixture(scope="session")
def loaded_template(make_database_set, seeded_template) -> tuple[dict[str, str], dict]:
    """The seeded world with the warehouse materialized over every seeded day."""
    seeded, manifest = seeded_template
    urls = make_database_set(template=seeded, label="loaded")
    load_warehouse(urls, TEST_START, LAST_DAY)
    return urls, manifest


@pytest.fixture
def loaded(make_database_set, loaded_template) -> tuple[dict[str, str], dict]:
    """A private copy of the loaded warehouse and its portals, for one test to change."""
    template, manifest = loaded_template
    return make_database_set(template=template), manifest


def cli_env(urls: dict[str, str], home, **extra: str) -> dict[str, str]:
    """Environment for a `smart-warehouse` subprocess on ``urls`` with its own DAGSTER_HOME."""
    env = dict(os.environ, DAGSTER_HOME=str(home), SMART_PARTITION_START=TEST_START.isoformat(),
               DAGSTER_DISABLE_TELEMETRY="1")
    env.update({db.env_var: urls[key] for key, db in DATABASES.items()})
    env.update(extra)
    return env


def wait_for(predicate, seconds: float = 120, what: str = "condition", every: float = 0.1):
    """Poll ``predicate`` until it returns something truthy; fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")


def kill_load_while_blocked(urls: dict[str, str], home, args: list[str], *, hold: str, hold_params=None,
                            blocked_on: str, what: str) -> None:
    """Start `smart-warehouse <args>` in its own process group while a warehouse session holds
    ``hold`` (a lock); once a session waits on a lock running a query LIKE ``blocked_on``,
    SIGKILL the whole group, and return when the server has ended the killed session."""
    wh = urls["warehouse"]
    proc = None
    try:
        with psycopg.connect(wh) as blocker:
            blocker.execute(hold, hold_params)
            proc = subprocess.Popen([sys.executable, "-m", "smart_warehouse_assets.cli", *args],
                                    env=cli_env(urls, home), stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL, start_new_session=True)
            wait_for(lambda: scalar(wh, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                      "AND wait_event_type = 'Lock' AND query LIKE %s", (blocked_on,)), what=what)
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
            blocker.rollback()
    finally:
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    # The server notices the dead client and rolls its transaction back.
    wait_for(lambda: scalar(wh, "SELECT count(*) = 0 FROM pg_stat_activity WHERE datname = current_database() "
                              "AND pid <> pg_backend_pid() AND state <> 'idle'"), what="the killed session to end")
