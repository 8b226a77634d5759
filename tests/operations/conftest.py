"""Fixtures of the operations tests: a database for a Dagster instance's own storage."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import sql

from smart_warehouse_assets.settings import derived_url
from tests.conftest import RUN_TAG


@pytest.fixture
def instance_database(server_url, request):
    """An empty database for a Dagster instance's runs, events and schedules, dropped afterwards."""
    name = f"{RUN_TAG}_dagster_{request.node.name[:20].lower()}"
    with psycopg.connect(derived_url("postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield name
    with psycopg.connect(derived_url("postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
