"""Where each database lives: one URL per database, from the environment.

An explicit ``SMART_<NAME>_URL`` wins. Otherwise the URL is derived from libpq's own
environment (``PGHOST``, ``PGPORT``, ``PGUSER``; libpq itself reads ``PGPASSWORD`` and
``~/.pgpass``), so no password ever has to be written into a URL or a file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, urlsplit, urlunsplit

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = "5432"


@dataclass(frozen=True)
class Database:
    key: str  # short name used in code, CLI and sql/<key>/
    name: str  # the contract's database name
    env_var: str
    data_centre: str


DATABASES: dict[str, Database] = {
    d.key: d
    for d in (
        Database("citizen", "smart_citizen", "SMART_CITIZEN_URL", "public"),
        Database("dept", "smart_dept", "SMART_DEPT_URL", "internal"),
        Database("aiml", "smart_aiml", "SMART_AIML_URL", "restricted"),
        Database("monitor", "smart_monitor", "SMART_MONITOR_URL", "admin"),
        Database("warehouse", "smart_warehouse", "SMART_WAREHOUSE_URL", "restricted"),
    )
}
PORTALS = ("citizen", "dept", "aiml", "monitor")


def derived_url(dbname: str, env: Mapping[str, str] | None = None) -> str:
    """A password-free URL for ``dbname`` built from libpq's environment variables."""
    env = os.environ if env is None else env
    host = env.get("PGHOST") or DEFAULT_HOST
    port = env.get("PGPORT") or DEFAULT_PORT
    user = env.get("PGUSER")
    userinfo = f"{quote(user, safe='')}@" if user else ""
    if host.startswith("/"):  # a socket directory: libpq takes it as a query parameter
        return f"postgresql://{userinfo}/{dbname}?host={quote(host, safe='')}&port={port}"
    hostpart = f"[{host}]" if ":" in host else host
    return f"postgresql://{userinfo}{hostpart}:{port}/{dbname}"


def explicit_url(key: str, env: Mapping[str, str] | None = None) -> str | None:
    env = os.environ if env is None else env
    return env.get(DATABASES[key].env_var) or None


def url_for(key: str, env: Mapping[str, str] | None = None) -> str:
    """The URL for database ``key``: explicit if set, derived otherwise."""
    return explicit_url(key, env) or derived_url(DATABASES[key].name, env)


def all_urls(env: Mapping[str, str] | None = None) -> dict[str, str]:
    return {key: url_for(key, env) for key in DATABASES}


def with_dbname(url: str, dbname: str) -> str:
    """The same server and credentials, another database (e.g. ``postgres`` for CREATE DATABASE)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + dbname, parts.query, parts.fragment))


def dbname_of(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


_PASSWORD_IN_NETLOC = re.compile(r"(?<=://)([^:/@\s]*):[^@\s]*@")
_PASSWORD_PARAM = re.compile(r"(password=)[^&\s]*", re.IGNORECASE)


def redact(text: str) -> str:
    """Hide passwords in anything that may hold a URL or a conninfo string."""
    text = _PASSWORD_IN_NETLOC.sub(r"\1:***@", text)
    return _PASSWORD_PARAM.sub(r"\1***", text)


def host_port(url: str) -> str:
    """``host:port`` of a URL, for messages (never the password)."""
    parts = urlsplit(url)
    host = parts.hostname or DEFAULT_HOST
    query = dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p)
    host = query.get("host", host)
    port = parts.port or query.get("port") or DEFAULT_PORT
    return f"{host}:{port}"
