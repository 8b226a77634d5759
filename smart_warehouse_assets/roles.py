"""Least-privilege roles: ``sql/roles/roles.sql`` and ``sql/roles/<database>.sql``.

Migrations belong to one database; roles belong to the whole server. So the roles live
apart from the migrations (the runner only picks up ``sql/<database>/NNN_*.sql``): after
migrating a database, ``smart-warehouse db up --roles`` creates the three login roles if
they are missing (``roles.sql``) and sets that database's grants (``<database>.sql``, after
``portal_reader.sql``, the baseline every portal's reader shares), in one transaction
under the migration lock. The files are idempotent and exact: applying
them again revokes whatever was granted beyond them. No file sets a password.
"""

from __future__ import annotations

from pathlib import Path

import psycopg

from smart_warehouse_assets import migrations
from smart_warehouse_assets.paths import SQL_ROOT
from smart_warehouse_assets.settings import dbname_of, redact

ROLES_ROOT = SQL_ROOT / "roles"
READER, WRITER, ANALYST = "smart_etl_reader", "smart_etl_writer", "smart_analyst"
CDC_SOURCES = ("citizen", "dept", "aiml")
ROLE_OF = {"citizen": READER, "dept": READER, "aiml": READER, "monitor": READER, "warehouse": WRITER}


def files_for(key: str) -> list[Path]:
    """roles.sql, then for a portal the reader's common baseline, then the database's own grants."""
    baseline = [ROLES_ROOT / "portal_reader.sql"] if ROLE_OF[key] == READER else []
    # The source portals also get the change-capture consumer's role (REPLICATION only).
    capture = [ROLES_ROOT / "cdc.sql"] if key in CDC_SOURCES else []
    return [ROLES_ROOT / "roles.sql", *baseline, ROLES_ROOT / f"{key}.sql", *capture]


def apply(url: str, key: str) -> list[str]:
    """Create the roles if missing and apply database ``key``'s grants; return the files applied."""
    files = files_for(key)
    with migrations.connect(url, autocommit=True) as conn:
        try:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (migrations._LOCK_KEY,))
                for f in files:
                    conn.execute(f.read_text())
        except psycopg.Error as exc:
            raise migrations.MigrationError(
                f"roles/{f.name} failed on {dbname_of(url)!r}: {redact(str(exc)).strip()}"
            ) from None
    return [f"roles/{f.name}" for f in files]
