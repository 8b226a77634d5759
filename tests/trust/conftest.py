"""Helpers for the trust tests: the least-privilege roles on throwaway databases.

Roles are cluster-wide and the test server may run several test sessions at once, so the
tests never create roles of their own nor drop any: ``db up --roles`` creates the three
fixed roles if they are missing (idempotently, race-safe) and grants them privileges in
one throwaway database set; dropping the set drops those grants and everything the roles
own there, so nothing is left that could break another run.
"""

from __future__ import annotations

import os
import time
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
import pytest

from smart_warehouse_assets import roles
from smart_warehouse_assets.settings import DATABASES
from tests.conftest import TEST_START


def as_user(url: str, user: str, password: str | None = None) -> str:
    """The same database reached as ``user`` (trust auth in the tests: no password needed)."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    auth = quote(user, safe="") + (":" + quote(password, safe="") if password else "")
    return urlunsplit((parts.scheme, f"{auth}@{host}", parts.path, parts.query, parts.fragment))


def grant_roles(urls: dict[str, str]) -> None:
    """What `smart-warehouse db up --roles` applies, for one throwaway set."""
    for key, url in urls.items():
        roles.apply(url, key)


def role_urls(urls: dict[str, str], warehouse_role: str = roles.WRITER) -> dict[str, str]:
    """The pipeline's URLs as deployed: portals as smart_etl_reader, the warehouse as the writer."""
    return {key: as_user(url, roles.ROLE_OF[key] if key != "warehouse" else warehouse_role)
            for key, url in urls.items()}


def cli_env(urls: dict[str, str], home, **extra: str) -> dict[str, str]:
    """Environment for a `smart-warehouse` subprocess on ``urls`` with its own DAGSTER_HOME."""
    env = dict(os.environ, DAGSTER_HOME=str(home), SMART_PARTITION_START=TEST_START.isoformat(),
               DAGSTER_DISABLE_TELEMETRY="1")
    env.update({db.env_var: urls[key] for key, db in DATABASES.items()})
    env.update(extra)
    return env


def wait_for(predicate, seconds: float = 120, what: str = "condition", every: float = 0.1):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")


def count(url: str, query: str, params=None) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchone()[0]


@pytest.fixture
def seeded(make_database_set, seeded_template) -> dict[str, str]:
    """A private copy of the seeded portals and an empty (migrated) warehouse."""
    template, _ = seeded_template
    return make_database_set(template=template)
