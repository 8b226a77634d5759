"""Which environment this code location runs in, and what that turns on by default.

``SMART_ENVIRONMENT`` is ``development`` (the default), ``staging`` or ``production`` — the
same vocabulary as ``smart_monitor.system_components.environment``. Schedules and sensors
start switched off, so ``dagster dev`` on a laptop never loads anything by itself; the
production deployment (``deploy/``) sets ``SMART_ENVIRONMENT=production`` and they start
switched on. Either way the UI can toggle each one; a toggle made there wins over the default.
"""

from __future__ import annotations

import os

import dagster as dg

ENV_VAR = "SMART_ENVIRONMENT"
ENVIRONMENTS = ("development", "staging", "production")


class UnknownEnvironment(ValueError):
    """SMART_ENVIRONMENT holds something other than development, staging or production."""


def environment() -> str:
    value = (os.environ.get(ENV_VAR) or "development").strip().lower()
    if value not in ENVIRONMENTS:
        raise UnknownEnvironment(f"{ENV_VAR}={value!r}: expected one of {', '.join(ENVIRONMENTS)}")
    return value


def automation_on() -> bool:
    return environment() == "production"


def schedule_status() -> dg.DefaultScheduleStatus:
    return dg.DefaultScheduleStatus.RUNNING if automation_on() else dg.DefaultScheduleStatus.STOPPED


def sensor_status() -> dg.DefaultSensorStatus:
    return dg.DefaultSensorStatus.RUNNING if automation_on() else dg.DefaultSensorStatus.STOPPED
