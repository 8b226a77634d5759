"""A load killed in the middle of writing leaves the previous rows; the next run completes."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import LAST_DAY, TEST_START, cli_env, kill_load_while_blocked
from tests.warehouse.helpers import contents, rows, scalar


def test_sigkill_mid_write_keeps_previous_rows_and_next_run_completes(loaded, tmp_path):
    urls, _ = loaded
    wh = urls["warehouse"]
    before = contents(wh, "fact_service_applications")
    first_batch = scalar(wh, "SELECT max(batch_id) FROM etl_batches")
    args = ["load", "--start", TEST_START.isoformat(), "--end", LAST_DAY.isoformat()]
    # ANALYZE, the load's last statement before commit, waits for this lock; deleting and
    # inserting do not. So the load blocks with all its rows written, uncommitted.
    kill_load_while_blocked(urls, tmp_path, args, hold="LOCK TABLE fact_service_applications IN SHARE UPDATE EXCLUSIVE MODE",
                            blocked_on="ANALYZE%fact_service_applications%", what="the load to block with its rows written")
    batch = scalar(wh, "SELECT max(batch_id) FROM etl_batches WHERE asset_key = 'fact_service_applications'")
    assert batch > first_batch
    assert contents(wh, "fact_service_applications") == before
    assert rows(wh, "SELECT status FROM etl_batches WHERE batch_id = %s", (batch,)) == [("running",)]

    done = subprocess.run([sys.executable, "-m", "smart_warehouse_assets.cli", *args], env=cli_env(urls, tmp_path),
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert contents(wh, "fact_service_applications") == before
    assert scalar(wh, "SELECT status FROM etl_batches WHERE asset_key = 'fact_service_applications' "
                      "ORDER BY batch_id DESC LIMIT 1") == "success"
