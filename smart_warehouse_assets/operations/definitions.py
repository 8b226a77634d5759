"""Everything operations adds to the code location: the timetable and the sensors."""

from __future__ import annotations

from smart_warehouse_assets.operations.monitor_sensors import monitor_failed_runs, monitor_successful_runs
from smart_warehouse_assets.operations.refresh import advance_watermarks, refresh_changed_partitions
from smart_warehouse_assets.operations.schedules import nightly_incremental, weekly_full_reload

operation_schedules = [nightly_incremental, weekly_full_reload]
operation_sensors = [refresh_changed_partitions, advance_watermarks, monitor_successful_runs, monitor_failed_runs]
