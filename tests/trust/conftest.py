"""Helpers for the trust tests: the least-privilege roles on throwaway databases.

Roles are cluster-wide and the test server may run several test sessions at once, so the
tests never create roles of their own nor drop any: ``db up --roles`` creates the three
fixed roles if they are missing (idempotently, race-safe) and grants them privileges in
one throwaway database set; dropping the set drops those grants and everything the roles
own there, so nothing is left that could break another run.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit, urlunsplit

import pytest

from smart_warehouse_assets import roles
from tests.conftest import cli_env, wait_for  # noqa: F401  (shared helpers, imported here by the trust tests)
from tests.warehouse.helpers import scalar as count  # noqa: F401


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


@pytest.fixture
def seeded(make_database_set, seeded_template) -> dict[str, str]:
    """A private copy of the seeded portals and an empty (migrated) warehouse."""
    template, _ = seeded_template
    return make_database_set(template=template)
