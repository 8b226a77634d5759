"""Everything operations adds to the code location: the timetable, the sensors and the backup job."""

from __future__ import annotations

from smart_warehouse_assets.operations.backup_job import BackupSettings, daily_backup, warehouse_backup_job
from smart_warehouse_assets.operations.monitor_sensors import monitor_failed_runs, monitor_successful_runs
from smart_warehouse_assets.operations.refresh import advance_watermarks, refresh_changed_partitions
from smart_warehouse_assets.operations.schedules import nightly_incremental, weekly_full_reload

operation_schedules = [nightly_incremental, weekly_full_reload, daily_backup]
operation_jobs = [warehouse_backup_job]
operation_resources = {"backups": BackupSettings()}
operation_sensors = [refresh_changed_partitions, advance_watermarks, monitor_successful_runs, monitor_failed_runs]
