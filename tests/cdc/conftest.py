"""A private PostgreSQL cluster with wal_level = logical for the change-capture tests.

The shared test server runs wal_level = replica, and changing that needs a restart; so
this session creates its own cluster on a free port (``pg_createcluster``, as root), seeds
a small world and loads the warehouse there once, and gives every test its own copy of the
five databases (CREATE DATABASE ... TEMPLATE). The cluster is dropped at the end of the
session, also when tests fail.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
from datetime import date, timedelta

import psycopg
import pytest
from psycopg import sql

from smart_warehouse_assets.migrations import migrate
from smart_warehouse_assets.paths import SQL_ROOT
from smart_warehouse_assets.settings import DATABASES, with_dbname
from tests.conftest import TEST_START, load_warehouse

PG_MAJOR = "15"
CDC_DAYS = 7
CDC_LAST = TEST_START + timedelta(days=CDC_DAYS - 1)
SIMULATED_DAY = CDC_LAST + timedelta(days=1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def cdc_server() -> str:
    """Maintenance URL of a private cluster with logical decoding, dropped at session end."""
    if shutil.which("pg_createcluster") is None:
        pytest.fail("pg_createcluster (postgresql-common) is needed for the change-capture tests")
    name, port = f"cdctest{os.getpid()}", _free_port()
    try:
        subprocess.run(
            ["pg_createcluster", PG_MAJOR, name, "-p", str(port), "-o", "wal_level=logical",
             "-o", "fsync=off", "-o", "max_wal_size=256MB",
             "-o", "min_wal_size=32MB", "-o", "max_replication_slots=40", "--", "--auth=trust"],
            check=True, capture_output=True)
        subprocess.run(["pg_ctlcluster", PG_MAJOR, name, "start"], check=True, capture_output=True)
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(["pg_dropcluster", "--stop", PG_MAJOR, name], capture_output=True)


_counter = itertools.count()


def _create(server: str, label: str, template: dict[str, str] | None = None) -> dict[str, str]:
    urls = {}
    with psycopg.connect(server, autocommit=True) as conn:
        for key in DATABASES:
            name = f"{label}_{key}"
            stmt = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
            if template:
                stmt += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template[key].rsplit("/", 1)[1]))
            conn.execute(stmt)
            urls[key] = with_dbname(server, name)
    return urls


@pytest.fixture(scope="session")
def cdc_template(cdc_server) -> dict[str, str]:
    """A small seeded world, warehouse loaded over its days, on the logical-decoding cluster."""
    from smart_warehouse_assets.synthetic import seed

    urls = _create(cdc_server, "tmpl")
    for key, url in urls.items():
        migrate(url, SQL_ROOT / key)
    seed({k: v for k, v in urls.items() if k != "warehouse"}, scale=0.05, start=TEST_START, days=CDC_DAYS,
         log=lambda *_: None)
    load_warehouse(urls, TEST_START, CDC_LAST)
    return urls


@pytest.fixture
def cdc_world(cdc_server, cdc_template) -> dict[str, str]:
    """A private copy of the loaded world for one test (its slots are dropped afterwards)."""
    urls = _create(cdc_server, f"w{next(_counter)}", cdc_template)
    yield urls
    from smart_warehouse_assets.cdc import publications

    for portal in publications.PORTALS:
        publications.drop(urls[portal])


def day_key(day: date) -> int:
    return int(day.strftime("%Y%m%d"))
