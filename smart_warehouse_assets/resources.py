"""One Dagster resource per database, and the bulk helpers every asset shares.

Rows move between databases as PostgreSQL's binary COPY stream, piped from the source
connection straight into the target: no Python object per row, constant memory.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager

import dagster as dg
import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict
from pydantic import Field

from smart_warehouse_assets.settings import DATABASES, dbname_of, host_port, scrub


class DatabaseUnavailable(dg.Failure):
    """A database cannot be reached; the message names host, port and database, never a password."""


class PostgresResource(dg.ConfigurableResource):
    """A PostgreSQL database reached through one libpq URL (its password, if any, stays in the env)."""

    url: str = Field(description="libpq URL of the database, e.g. postgresql://host:5432/smart_citizen")
    application_name: str = Field(default="smart-warehouse", description="Shown in pg_stat_activity.")
    # The pipeline's statements run for seconds, and correlated subqueries inflate their cost
    # estimates past JIT's thresholds: compiling then costs more than it saves (a nightly merge
    # of 23,000 applications at scale 10: 0.7 s of JIT in a 1.4 s statement).
    jit: bool = Field(default=False, description="Let the server JIT-compile this pipeline's queries "
                      "(off for its own sessions only; the server's setting is left alone).")

    @property
    def dbname(self) -> str:
        return dbname_of(self.url)

    def where(self) -> str:
        return f"database {self.dbname!r} at {host_port(self.url)}"

    def connect(self, *, autocommit: bool = False) -> psycopg.Connection:
        try:
            return psycopg.connect(
                self.url, autocommit=autocommit, application_name=self.application_name,
                connect_timeout=10, **self._options(),
            )
        except psycopg.Error as exc:
            # A malformed URL (ProgrammingError) cannot get better by retrying; and libpq may
            # quote a piece of it, password included, so the message is scrubbed with the URL.
            raise DatabaseUnavailable(
                description=(
                    f"Cannot connect to {self.where()}: {scrub(str(exc), self.url).strip()}. "
                    "Check that the server is running and the URL (environment variable "
                    "SMART_*_URL or PGHOST/PGPORT/PGUSER) is right."
                ),
                allow_retries=not isinstance(exc, psycopg.ProgrammingError),
            ) from None

    def _options(self) -> dict[str, str]:
        """libpq ``options`` for the session: the URL's own (else PGOPTIONS's, which an explicit
        value would silence), and JIT off unless asked for."""
        if self.jit:
            return {}
        given = conninfo_to_dict(self.url).get("options") or os.environ.get("PGOPTIONS", "")
        return {"options": f"{given} -c jit=off".strip()}

    @contextmanager
    def transaction(self) -> Iterator[psycopg.Connection]:
        """A connection inside one transaction: committed on success, rolled back on any error."""
        with self.connect() as conn:
            with conn.transaction():
                yield conn


def set_local(conn: psycopg.Connection, settings: Iterable[tuple[str, str]]) -> None:
    """Set each (name, value) for the rest of ``conn``'s current transaction only (SET LOCAL)."""
    for name, value in settings:
        conn.execute("SELECT set_config(%s, %s, true)", (name, value))


def copy_between(
    source: psycopg.Connection,
    select: sql.Composable,
    target: psycopg.Connection,
    table: sql.Composable,
    columns: list[str],
    params: tuple | None = None,
) -> int:
    """Stream the rows of ``select`` on ``source`` into ``table`` on ``target``; return the count.

    Binary COPY needs the select's column types to match the target's exactly, which the
    staging landing tables guarantee by declaring the same types as the portal.
    """
    copy_out = sql.SQL("COPY ({}) TO STDOUT (FORMAT binary)").format(select)
    copy_in = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT binary)").format(
        table, sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    with source.cursor() as scur, target.cursor() as tcur:
        with scur.copy(copy_out, params) as cin, tcur.copy(copy_in) as cout:
            for block in cin:
                cout.write(block)
        return tcur.rowcount


def resource_for(key: str, url: str | dg.EnvVar) -> PostgresResource:
    return PostgresResource(url=url, application_name=f"smart-warehouse:{DATABASES[key].name}")


def portal_key(portal: str) -> str:
    """The resource key of a portal's database: ``citizen`` -> ``citizen_db``."""
    return f"{portal}_db"


def with_resource_params(resources: Mapping[str, type]) -> Callable[[Callable], Callable]:
    """Give a ``fn(context, **resources)`` a signature naming each resource as a typed parameter.

    Dagster reads an asset's resources off its function's parameters (and honours an
    explicit ``__signature__``), so a factory-built asset declares exactly the databases it
    uses, typed, as a hand-written ``def asset(context, warehouse: PostgresResource)`` would.
    """

    def declare(fn: Callable) -> Callable:
        fn.__signature__ = inspect.Signature([
            inspect.Parameter("context", inspect.Parameter.POSITIONAL_OR_KEYWORD),
            *(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=kind)
              for name, kind in resources.items()),
        ])
        return fn

    return declare
