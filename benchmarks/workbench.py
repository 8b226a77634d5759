"""Throwaway databases for one benchmark scale, and the environment its stages run in."""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path

import psycopg
from psycopg import sql

from smart_warehouse_assets.ml.training_set import default_root
from smart_warehouse_assets.partitions import IST
from smart_warehouse_assets.settings import DATABASES, derived_url, with_dbname

DAYS_ENV = "SMART_BENCH_DAYS"  # days of seeded history; `--days` sets it for every stage
NIGHTS = 3  # the increment simulates this many nights: the seed ends NIGHTS + 1 days ago


def days() -> int:
    return int(os.environ.get(DAYS_ENV, "90"))


def prefix_for(scale: float) -> str:
    return f"bench_{os.getpid()}_{str(scale).replace('.', '_')}_{days()}"


def seed_start() -> date:
    """The seeded period ends NIGHTS + 1 days ago, so each simulated night lands in the past."""
    return datetime.now(IST).date() - timedelta(days=days() + NIGHTS)


def urls(prefix: str) -> dict[str, str]:
    admin = derived_url("postgres")
    return {key: with_dbname(admin, f"{prefix}_{key}") for key in DATABASES}


def template_url(prefix: str) -> str:
    return with_dbname(derived_url("postgres"), f"{prefix}_tmpl_warehouse")


def env_for(prefix: str, scale: float) -> dict[str, str]:
    env = dict(os.environ, SMART_PARTITION_START=seed_start().isoformat(), DAGSTER_DISABLE_TELEMETRY="1")
    env.update({db.env_var: urls(prefix)[key] for key, db in DATABASES.items()})
    return env


def run_stage(scale: float, stage: str, prefix: str, *extra: str) -> dict:
    """Run one stage of benchmarks.worker in a process of its own; its JSON line, as a dict."""
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.worker", stage, "--scale", str(scale), "--prefix", prefix, *extra],
        capture_output=True, text=True, env=env_for(prefix, scale),
    )
    if out.returncode != 0:
        raise SystemExit(f"stage {stage} at scale {scale} failed:\n{out.stderr[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def median_run(runs: list[dict]) -> dict:
    """The run with the median seconds (the upper one of an even count)."""
    return sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]


def admin() -> psycopg.Connection:
    return psycopg.connect(derived_url("postgres"), autocommit=True)


def recreate_warehouse(prefix: str) -> None:
    """A fresh, migrated, empty warehouse, copied from the scale's template."""
    target = f"{prefix}_warehouse"
    with admin() as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(target)))
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
            sql.Identifier(target), sql.Identifier(f"{prefix}_tmpl_warehouse")))


def drop_all(prefix: str) -> None:
    """The scale's databases, and the training set its loads wrote (<root>/<warehouse database>)."""
    with admin() as conn:
        names = [n for (n,) in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s",
                                            (prefix + "\\_%",))]
        for name in names:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    shutil.rmtree(Path(default_root(), f"{prefix}_warehouse"), ignore_errors=True)


def machine() -> dict:
    with admin() as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
    return {
        "cpus": os.cpu_count(),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
        "postgresql": version,
        "platform": platform.platform(),
    }


@contextmanager
def logical_cluster(name: str) -> Iterator[str]:
    """A private PostgreSQL cluster with wal_level = logical on a free port (the shared server
    runs replica); its maintenance URL. Dropped on the way out, also after a failure."""
    import shutil
    import socket

    if shutil.which("pg_createcluster") is None:
        raise SystemExit("the cdc stage needs pg_createcluster (postgresql-common) and root")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with admin() as conn:
        major = str(conn.info.server_version // 10000)
    try:
        subprocess.run(["pg_createcluster", major, name, "-p", str(port), "-o", "wal_level=logical",
                        "-o", "max_wal_size=1GB", "--", "--auth=trust"], check=True, capture_output=True)
        subprocess.run(["pg_ctlcluster", major, name, "start"], check=True, capture_output=True)
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(["pg_dropcluster", "--stop", major, name], capture_output=True)
