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
from urllib.parse import quote, unquote, urlsplit, urlunsplit

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = "5432"
# First day of the daily partitions; read once, when the partitions are defined.
PARTITION_START_ENV = "SMART_PARTITION_START"


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


def _conninfo_value(conninfo: str, key: str) -> str | None:
    """One keyword's value of a key/value conninfo string ("host=h dbname=d ...")."""
    match = re.search(rf"(?:^|\s){key}\s*=\s*('(?:[^'\\]|\\.)*'|\S+)", conninfo)
    return match.group(1).strip("'") if match else None


def dbname_of(url: str) -> str:
    if "://" not in url:  # a key/value conninfo string
        return _conninfo_value(url, "dbname") or "?"
    try:
        return urlsplit(url).path.lstrip("/")
    except ValueError:  # a malformed URL (e.g. an unclosed IPv6 bracket)
        return "?"


_PASSWORD_IN_NETLOC = re.compile(r"(?<=://)([^:/@\s]*):[^@\s]*@")
_PASSWORD_PARAM = re.compile(r"(password=)[^&\s]*", re.IGNORECASE)


def redact(text: str) -> str:
    """Hide passwords in anything that may hold a URL or a conninfo string."""
    text = _PASSWORD_IN_NETLOC.sub(r"\1:***@", text)
    return _PASSWORD_PARAM.sub(r"\1***", text)


_QUOTED_PASSWORD = re.compile(r"password\s*=\s*'((?:[^'\\]|\\.)*)'", re.IGNORECASE)


def _written_passwords(url: str) -> set[str]:
    found = set()
    if "://" in url and "@" in url:
        userinfo = url.split("://", 1)[1].rpartition("@")[0]
        if ":" in userinfo:
            found.add(userinfo.split(":", 1)[1])
    found.update(m.group(1) for m in _QUOTED_PASSWORD.finditer(url))
    found.update(m.group(0).split("=", 1)[1] for m in _PASSWORD_PARAM.finditer(url))
    return {p for p in found if p}


def has_password(url: str) -> bool:
    """Whether a URL or conninfo string carries a password itself (not through libpq's env)."""
    return bool(_written_passwords(url))


def _passwords_in(url: str) -> list[str]:
    """Every password-like part of a URL or conninfo string, as written and decoded, longest first.

    A malformed URL is split differently by libpq and by Python (an unescaped '@' in the
    password, say), and libpq quotes the piece it stumbled on in its message; so the
    pieces of the password between '@', ':' and '/' count as secrets too.
    """
    secrets = set()
    for password in _written_passwords(url):
        for form in (password, unquote(password)):
            if len(form) >= 3:
                secrets.add(form)
            secrets.update(p for p in re.split(r"[@:/?#&]", form) if len(p) >= 4)
    return sorted(secrets, key=len, reverse=True)


def scrub(text: str, url: str) -> str:
    """``redact(text)``, and any trace of ``url``'s password removed, also one that a
    message quotes from a malformed URL without the URL around it."""
    for secret in _passwords_in(url):
        text = text.replace(secret, "***")
    return redact(text)


def host_port(url: str) -> str:
    """``host:port`` of a URL, for messages (never the password)."""
    if "://" not in url:  # a key/value conninfo string
        return f"{_conninfo_value(url, 'host') or DEFAULT_HOST}:{_conninfo_value(url, 'port') or DEFAULT_PORT}"
    try:
        parts = urlsplit(url)
        host = parts.hostname or DEFAULT_HOST
        query = dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p)
        host = query.get("host", host)
        port = parts.port or query.get("port") or DEFAULT_PORT
    except ValueError:  # a malformed URL: say so rather than fail while reporting an error
        return "an unreadable address"
    return f"{host}:{port}"
