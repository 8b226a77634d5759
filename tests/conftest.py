"""Throwaway databases on the test server for every test run, dropped afterwards.

The five databases are migrated once per session into template databases; each test that
asks for ``database_urls`` gets its own copy (CREATE DATABASE ... TEMPLATE is a file copy,
far faster than migrating again). Everything created is dropped at the end, also when
tests fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator

import psycopg
import pytest
from psycopg import sql

from smart_warehouse_assets.migrations import SQL_ROOT, migrate
from smart_warehouse_assets.settings import DATABASES, derived_url, with_dbname

RUN_TAG = f"smwt_{os.getpid()}_{uuid.uuid4().hex[:6]}"


def _admin() -> psycopg.Connection:
    return psycopg.connect(derived_url("postgres"), autocommit=True)


def _drop(names: list[str]) -> None:
    with _admin() as conn:
        for name in names:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


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
    _drop(created)


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
