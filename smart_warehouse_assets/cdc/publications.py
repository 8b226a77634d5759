"""The publication and logical replication slot of each source portal.

What is published comes from the source registry, the one list of the tables and columns
the warehouse reads: each table with a column list (PostgreSQL 15), so no other column
ever enters the change stream. Citizens are read through a view by the batch path; a
publication needs the base table, so it lists the view's non-personal columns of it
(the birth year, computed from the date of birth, stays with the batch path).
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql

from smart_warehouse_assets.settings import DATABASES, dbname_of
from smart_warehouse_assets.sources.registry import REGISTRY

PORTALS = ("citizen", "dept", "aiml")
PUBLICATION = "smart_warehouse_cdc"
PLUGIN = "pgoutput"
# Columns of a base table that its warehouse view computes and the table does not hold.
_COMPUTED = {("citizen", "citizens"): {"birth_year"}}


class CdcUnavailable(Exception):
    """The portal's server cannot do logical decoding as configured; the message says what to set."""


def slot_name(dbname: str) -> str:
    """One slot per portal database, unique on a shared server (names are cluster-wide)."""
    return ("smart_warehouse_" + "".join(c if c.isalnum() else "_" for c in dbname.lower()))[:63]


def published(portal: str) -> dict[str, tuple[str, ...]]:
    """Table -> columns the warehouse reads, for one portal, from the registry."""
    tables = {}
    for entry in REGISTRY:
        if entry.portal == portal:
            skip = _COMPUTED.get((portal, entry.table), set())
            tables[entry.table] = tuple(c for c in entry.columns if c not in skip)
    return tables


def _table_list(portal: str) -> sql.Composed:
    return sql.SQL(", ").join(
        sql.SQL("TABLE public.{} ({})").format(sql.Identifier(t), sql.SQL(", ").join(map(sql.Identifier, cols)))
        for t, cols in published(portal).items()
    )


def require_logical(conn: psycopg.Connection) -> None:
    level = conn.execute("SHOW wal_level").fetchone()[0]
    if level != "logical":
        raise CdcUnavailable(
            f"{dbname_of(conn.info.dsn)}: wal_level is '{level}'; change data capture needs "
            "wal_level = logical in postgresql.conf, and the server must be restarted for it to take effect"
        )


@dataclass
class SlotStatus:
    database: str
    publication: bool
    slot: str
    exists: bool
    active: bool = False
    wal_status: str | None = None
    lag_bytes: int | None = None
    safe_wal_bytes: int | None = None
    confirmed_lsn: str | None = None

    def line(self) -> str:
        if not self.exists:
            return f"{self.database:16} publication {'yes' if self.publication else 'no'}; slot {self.slot} missing"
        return (f"{self.database:16} publication {'yes' if self.publication else 'no'}; slot {self.slot} "
                f"{'active' if self.active else 'idle'}, wal_status {self.wal_status}, lag {self.lag_bytes} bytes, "
                f"confirmed {self.confirmed_lsn}"
                + (f", {self.safe_wal_bytes} bytes before it is lost" if self.safe_wal_bytes is not None else ""))


_SLOT = """
SELECT active, wal_status, pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint,
       safe_wal_size, confirmed_flush_lsn::text
FROM pg_replication_slots WHERE slot_name = %s AND database = current_database()
"""


def status(url: str) -> SlotStatus:
    with psycopg.connect(url, autocommit=True) as conn:
        db = dbname_of(url)
        pub = conn.execute("SELECT 1 FROM pg_publication WHERE pubname = %s", (PUBLICATION,)).fetchone()
        row = conn.execute(_SLOT, (slot_name(db),)).fetchone()
        st = SlotStatus(db, pub is not None, slot_name(db), row is not None)
        if row:
            st.active, st.wal_status, st.lag_bytes, st.safe_wal_bytes, st.confirmed_lsn = row
        return st


def setup(url: str, portal: str) -> list[str]:
    """Create (or bring up to date) the publication and the slot; returns what it did."""
    did = []
    with psycopg.connect(url, autocommit=True) as conn:
        require_logical(conn)
        exists = conn.execute("SELECT 1 FROM pg_publication WHERE pubname = %s", (PUBLICATION,)).fetchone()
        verb = "ALTER PUBLICATION {} SET {}" if exists else "CREATE PUBLICATION {} FOR {}"
        conn.execute(sql.SQL(verb).format(sql.Identifier(PUBLICATION), _table_list(portal)))
        did.append(f"publication {PUBLICATION} {'updated' if exists else 'created'}")
        slot = slot_name(dbname_of(url))
        lost = conn.execute("SELECT wal_status = 'lost' FROM pg_replication_slots WHERE slot_name = %s",
                            (slot,)).fetchone()
        if lost and lost[0]:
            conn.execute("SELECT pg_drop_replication_slot(%s)", (slot,))
            did.append(f"lost slot {slot} dropped")
            lost = None
        if lost is None:
            conn.execute("SELECT pg_create_logical_replication_slot(%s, %s)", (slot, PLUGIN))
            did.append(f"slot {slot} created")
        else:
            did.append(f"slot {slot} kept")
    return did


def drop(url: str) -> list[str]:
    did = []
    with psycopg.connect(url, autocommit=True) as conn:
        slot = slot_name(dbname_of(url))
        if conn.execute("SELECT 1 FROM pg_replication_slots WHERE slot_name = %s", (slot,)).fetchone():
            conn.execute("SELECT pg_drop_replication_slot(%s)", (slot,))
            did.append(f"slot {slot} dropped")
        if conn.execute("SELECT 1 FROM pg_publication WHERE pubname = %s", (PUBLICATION,)).fetchone():
            conn.execute(sql.SQL("DROP PUBLICATION {}").format(sql.Identifier(PUBLICATION)))
            did.append(f"publication {PUBLICATION} dropped")
    return did or ["nothing to drop"]


def portal_name(portal: str) -> str:
    return DATABASES[portal].name
