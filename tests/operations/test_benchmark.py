"""The benchmark runs from one command, reports every stage it promises, and leaves no database.

At a tiny scale the figures mean nothing; what is tested is that each stage really ran:
rows moved, the increment reloaded the new day, the CLI's full load left watermarks
the increment could start from, and every change the cdc stage wrote was applied.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import psycopg

from smart_warehouse_assets.settings import derived_url
from tests.conftest import TRAINING_DIR

ROOT = Path(__file__).resolve().parents[2]


def _bench_databases() -> set[str]:
    with psycopg.connect(derived_url("postgres")) as conn:
        return {n for (n,) in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'bench\\_%'")}


def test_benchmark_measures_every_stage_and_cleans_up(tmp_path):
    before = _bench_databases()
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--scales", "0.02", "--repeat", "1", "--json", str(out),
         "--cdc-seconds", "4", "--cdc-tick", "1"],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "x floor" in done.stdout and "peak MB" in done.stdout

    report = json.loads(out.read_text())
    assert report["machine"]["cpus"] >= 1 and report["machine"]["postgresql"]
    stages = {r["stage"]: r for r in report["results"]}
    assert set(stages) == {"setup", "floor", "full_load", "direct", "dagster_cli", "increment", "cdc"}
    moved = stages["floor"]["rows"]
    assert moved > 0
    for stage in ("full_load", "direct", "dagster_cli"):
        assert stages[stage]["rows"] == moved, stage  # every stage loads what the floor moved
        assert stages[stage]["ratio_to_floor"] > 0 and stages[stage]["peak_rss_mb"] > 0
    assert stages["full_load"]["per_asset_seconds"]["fact_application_processing"] >= 0
    assert stages["dagster_cli"]["dagster_overhead_seconds"] is not None

    increment = stages["increment"]
    assert increment["reused_cli_load"]  # `smart-warehouse load` of every partition set the watermarks
    assert 0 < increment["rows"] < moved
    assert "processing_actions" in increment["detail"]
    assert increment["per_asset_seconds"]["fact_service_applications"] >= 0  # the median night, per asset
    # The nightly runs' own peak, apart from the simulator's child processes.
    assert 0 < increment["peak_rss_mb"] and 0 < increment["simulate_peak_rss_mb"]

    # Change capture: every change written reached the warehouse, each with its latency.
    cdc = stages["cdc"]
    assert cdc["changes_written"] > 0 and cdc["changes_applied"] == cdc["changes_written"]
    assert 0 <= cdc["latency_p50_s"] <= cdc["latency_p95_s"] <= cdc["latency_max_s"]
    assert cdc["live_applications_submitted"] > 0

    assert _bench_databases() == before
    # Nor the training sets its loads wrote (conftest points SMART_TRAINING_DIR at this session's folder).
    left = [p.name for p in Path(TRAINING_DIR).iterdir() if p.name.startswith(("bench_", "cdc_"))]
    assert left == [], left
