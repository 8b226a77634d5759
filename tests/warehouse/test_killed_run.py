"""A load killed in the middle of writing leaves the previous rows; the next run completes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import psycopg

from tests.conftest import LAST_DAY, TEST_START, cli_env, wait_for
from tests.warehouse.helpers import contents, rows, scalar



def test_sigkill_mid_write_keeps_previous_rows_and_next_run_completes(loaded, tmp_path):
    urls, _ = loaded
    wh = urls["warehouse"]
    before = contents(wh, "fact_service_applications")
    first_batch = scalar(wh, "SELECT max(batch_id) FROM etl_batches")
    command = [sys.executable, "-m", "smart_warehouse_assets.cli", "load",
               "--start", TEST_START.isoformat(), "--end", LAST_DAY.isoformat()]
    proc = None
    try:
        with psycopg.connect(wh) as blocker:
            # ANALYZE, the load's last statement before commit, waits for this lock; deleting
            # and inserting do not. So the load blocks with all its rows written, uncommitted.
            blocker.execute("LOCK TABLE fact_service_applications IN SHARE UPDATE EXCLUSIVE MODE")
            proc = subprocess.Popen(command, env=cli_env(urls, tmp_path), stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL, start_new_session=True)
            wait_for(lambda: scalar(wh, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                         "AND wait_event_type = 'Lock' AND query LIKE 'ANALYZE%%fact_service_applications%%'"),
                      what="the load to block with its rows written")
            batch = scalar(wh, "SELECT max(batch_id) FROM etl_batches WHERE asset_key = 'fact_service_applications'")
            assert batch > first_batch
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
            blocker.rollback()
    finally:
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    # The server notices the dead client and rolls the transaction back.
    wait_for(lambda: scalar(wh, "SELECT count(*) = 0 FROM pg_stat_activity WHERE datname = current_database() "
                                 "AND pid <> pg_backend_pid() AND state <> 'idle'"), what="the killed session to end")
    assert contents(wh, "fact_service_applications") == before
    assert rows(wh, "SELECT status FROM etl_batches WHERE batch_id = %s", (batch,)) == [("running",)]

    done = subprocess.run(command, env=cli_env(urls, tmp_path), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert contents(wh, "fact_service_applications") == before
    assert scalar(wh, "SELECT status FROM etl_batches WHERE asset_key = 'fact_service_applications' "
                      "ORDER BY batch_id DESC LIMIT 1") == "success"
