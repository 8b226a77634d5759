"""Versioned SQL migrations: ``sql/<database>/NNN_description.sql``, applied in order.

Why our own runner and not Alembic: the schema lives in plain SQL files, one folder per
database, and what we need on top is small — a checksum per applied file (Alembic only
records a revision id, so an edited migration would go unnoticed), one transaction per
file, and an advisory lock so two runners never interleave.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from smart_warehouse_assets.settings import dbname_of, host_port, redact, scrub, with_dbname

_LOCK_KEY = 4_201_777_001  # pg_advisory_lock key shared by every runner

_CREATE_LEDGER = """
CREATE TABLE IF NOT EXISTS public.schema_migrations (
    filename   text PRIMARY KEY,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE public.schema_migrations IS 'Migration files applied to this database, with the checksum of each as applied.';
COMMENT ON COLUMN public.schema_migrations.filename IS 'Name of the migration file under sql/<database>/.';
COMMENT ON COLUMN public.schema_migrations.checksum IS 'SHA-256 of the file as it was applied; an edited file is refused.';
COMMENT ON COLUMN public.schema_migrations.applied_at IS 'When the file was applied.';
"""


class MigrationError(RuntimeError):
    """A migration cannot be applied; the message says which file and why."""


@dataclass(frozen=True)
class MigrationFile:
    path: Path

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


@dataclass(frozen=True)
class Status:
    applied: list[str]
    pending: list[str]
    changed: list[str]  # applied, but the file differs now
    missing: list[str]  # applied, but the file is gone


def migration_files(folder: Path) -> list[MigrationFile]:
    return [MigrationFile(p) for p in sorted(folder.glob("[0-9][0-9][0-9]_*.sql"))]


def _files_for(url: str, folder: Path) -> list[MigrationFile]:
    """The folder's migrations; none at all means a broken install, never "up to date"."""
    files = migration_files(folder)
    if not files:
        raise MigrationError(
            f"no migration files for database {dbname_of(url)!r} in {folder}: the package was "
            "installed without its sql/ folder (build it with pyproject.toml, which ships sql/ "
            "inside the wheel)"
        )
    return files


def connect(url: str, **kwargs) -> psycopg.Connection:
    """Connect, turning 'no server' into a message naming host and port, never the password."""
    try:
        return psycopg.connect(url, **kwargs)
    except psycopg.Error as exc:  # also a malformed URL, whose message may quote its password
        raise MigrationError(
            f"cannot connect to database {dbname_of(url)!r} at {host_port(url)}: "
            f"{scrub(str(exc), url).strip()}"
        ) from None


def ensure_database(url: str) -> bool:
    """Create the URL's database if it does not exist; True when it was created."""
    name = dbname_of(url)
    with connect(with_dbname(url, "postgres"), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return False
        try:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        except psycopg.errors.DuplicateDatabase:
            return False  # another runner created it first
        return True


def _applied(conn: psycopg.Connection) -> dict[str, str]:
    exists = conn.execute("SELECT to_regclass('public.schema_migrations')").fetchone()[0]
    if exists is None:
        return {}
    return dict(conn.execute("SELECT filename, checksum FROM public.schema_migrations"))


def status(url: str, folder: Path) -> Status:
    files = _files_for(url, folder)
    with connect(url) as conn:
        applied = _applied(conn)
    on_disk = {f.name: f for f in files}
    return Status(
        applied=[n for n in applied if n in on_disk and on_disk[n].checksum == applied[n]],
        pending=[f.name for f in files if f.name not in applied],
        changed=[n for n in applied if n in on_disk and on_disk[n].checksum != applied[n]],
        missing=sorted(n for n in applied if n not in on_disk),
    )


def migrate(url: str, folder: Path) -> list[str]:
    """Apply every pending file of ``folder`` to ``url``; return the names applied.

    Each file runs in its own transaction together with its ledger row. An applied file
    whose checksum changed stops the run before anything new is applied.
    """
    files = _files_for(url, folder)
    with connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
        try:
            with conn.transaction():
                conn.execute(_CREATE_LEDGER)
            applied = _applied(conn)
            for f in files:
                if f.name in applied and applied[f.name] != f.checksum:
                    raise MigrationError(
                        f"{folder.name}/{f.name} was changed after it was applied to "
                        f"{dbname_of(url)!r}; add a new migration file instead of editing it"
                    )
            done = []
            for f in files:
                if f.name in applied:
                    continue
                try:
                    with conn.transaction():
                        conn.execute(f.path.read_text())
                        conn.execute(
                            "INSERT INTO public.schema_migrations (filename, checksum) VALUES (%s, %s)",
                            (f.name, f.checksum),
                        )
                except psycopg.Error as exc:
                    raise MigrationError(
                        f"{folder.name}/{f.name} failed on {dbname_of(url)!r}: "
                        f"{redact(str(exc)).strip()}"
                    ) from None
                done.append(f.name)
            return done
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))
