"""Slot safety: asset checks on each portal's replication slot, run every few minutes.

A slot keeps WAL on the portal until the warehouse has applied it. Left behind, it either
fills the portal's disk (``max_slot_wal_keep_size = -1``) or is invalidated once it holds
more than that setting allows (``wal_status = lost``; the recovery in recovery.py then
re-reads the interval by watermark). The checks say so before it happens:

* ERROR when the slot is missing or lost;
* WARN when the slot holds more than three quarters of ``max_slot_wal_keep_size``, or
  PostgreSQL says less than a quarter is left before the next checkpoint would invalidate
  it (``safe_wal_size``), or already reports it ``unreserved``; or when the
  warehouse has applied nothing for :data:`STALE_SECONDS` (the consumer is down).

They belong to ``agg_live_applications`` and run as the ``cdc_slot_checks`` job every
five minutes; the data-quality job leaves them out (they judge the pipeline, not rows).
"""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg
import psycopg

from smart_warehouse_assets.cdc.apply import LIVE_ASSET
from smart_warehouse_assets.cdc.publications import PORTALS, SlotStatus, status
from smart_warehouse_assets.operations.environment import schedule_status
from smart_warehouse_assets.resources import PostgresResource, portal_key, with_resource_params

HEADROOM = 0.25  # WARN when less than this share of max_slot_wal_keep_size is left
STALE_SECONDS = 600

_KEEP = "SELECT pg_size_bytes(current_setting('max_slot_wal_keep_size'))"
_APPLIED = """
SELECT extract(epoch FROM clock_timestamp() - applied_at)::float8 FROM public.etl_cdc_progress WHERE slot_name = %s
"""


@dataclass
class SlotHealth:
    slot: SlotStatus
    keep_bytes: int  # max_slot_wal_keep_size in bytes; negative: unlimited
    idle_seconds: float | None  # since the warehouse last recorded progress for this slot

    def verdict(self) -> tuple[bool, dg.AssetCheckSeverity, str]:
        st = self.slot
        if not st.exists or st.wal_status == "lost":
            return False, dg.AssetCheckSeverity.ERROR, (
                f"slot {st.slot} {'is lost' if st.exists else 'is missing'}: its changes are gone from the WAL; "
                "the consumer recreates it and re-reads the interval by watermark")
        if st.wal_status == "unreserved" or self.keep_bytes > 0 and (
                (st.lag_bytes or 0) > (1 - HEADROOM) * self.keep_bytes
                or (st.safe_wal_bytes is not None and st.safe_wal_bytes < HEADROOM * self.keep_bytes)):
            return False, dg.AssetCheckSeverity.WARN, (
                f"slot {st.slot} holds {st.lag_bytes} bytes of WAL; {st.safe_wal_bytes} bytes more and "
                "max_slot_wal_keep_size invalidates it: is the consumer (cdc_live_metrics) running?")
        if self.idle_seconds is not None and self.idle_seconds > STALE_SECONDS:
            return False, dg.AssetCheckSeverity.WARN, (
                f"nothing applied from slot {st.slot} for {self.idle_seconds:.0f} s: the consumer looks stopped")
        return True, dg.AssetCheckSeverity.WARN, f"slot {st.slot} healthy ({st.wal_status}, lag {st.lag_bytes} bytes)"


def health(portal_url: str, warehouse_url: str) -> SlotHealth:
    st = status(portal_url)
    with psycopg.connect(portal_url) as conn:
        keep = conn.execute(_KEEP).fetchone()[0]
    with psycopg.connect(warehouse_url) as conn:
        row = conn.execute(_APPLIED, (st.slot,)).fetchone()
    return SlotHealth(st, keep, row[0] if row else None)


def _check(portal: str) -> dg.AssetChecksDefinition:
    database = portal_key(portal)

    @dg.asset_check(
        asset=LIVE_ASSET, name=f"replication_slot_{portal}",
        description=f"The {portal} portal's replication slot exists and is not lost (ERROR); WARN when less than "
        f"{HEADROOM:.0%} of max_slot_wal_keep_size is left or nothing was applied for {STALE_SECONDS} s.",
    )
    @with_resource_params({database: PostgresResource, "warehouse": PostgresResource})
    def check(context, **given: PostgresResource) -> dg.AssetCheckResult:
        h = health(given[database].url, given["warehouse"].url)
        passed, severity, text = h.verdict()
        st = h.slot
        return dg.AssetCheckResult(passed=passed, severity=severity, description=text, metadata={
            "slot": st.slot, "active": st.active, "wal_status": st.wal_status or "missing",
            "lag_bytes": st.lag_bytes if st.lag_bytes is not None else -1,
            "lag_seconds": round(h.idle_seconds, 1) if h.idle_seconds is not None else -1.0,
            "bytes_before_invalidation": st.safe_wal_bytes if st.safe_wal_bytes is not None else -1,
        })

    return check


slot_checks = [_check(p) for p in PORTALS]
cdc_slot_checks_job = dg.define_asset_job(
    "cdc_slot_checks", selection=dg.AssetSelection.checks(*slot_checks),
    description="Checks each source portal's replication slot (lag, wal_status, headroom).")
cdc_slot_checks_schedule = dg.ScheduleDefinition(
    name="cdc_slot_checks_every_5_minutes", job=cdc_slot_checks_job, cron_schedule="*/5 * * * *",
    default_status=schedule_status(), execution_timezone="Asia/Kolkata")
