"""When a slot is lost: recreate it, re-read the missed interval by watermark, raise an incident.

A slot is invalidated when the consumer stayed away longer than ``max_slot_wal_keep_size``
allows. Its changes are gone from the WAL, so the interval since the last transaction
applied is read the polling way: every application whose ``updated_at`` is at or after
that commit time is applied again (idempotent, by key), which restores today's live
figures; the other tables' changes of the interval reach the warehouse through the
refresh sensor as always. The slot is recreated *before* that read, so nothing committed
afterwards can fall between the two. Hard deletes and changes without a new
``updated_at`` inside the lost interval wait for the weekly full reload — the incident
says so.
"""

from __future__ import annotations

import uuid

import psycopg
from psycopg import sql

from smart_warehouse_assets.cdc import apply, publications
from smart_warehouse_assets.settings import dbname_of

_SINCE = "SELECT last_commit_at FROM public.etl_cdc_progress WHERE source_database = %s"
_CHANGED = "SELECT {cols} FROM public.service_applications WHERE updated_at >= coalesce(%s, '-infinity'::timestamptz)"


def recover(portal: str, portal_url: str, warehouse_url: str, monitor_url: str | None, reason: str) -> dict:
    """Recreate the slot, re-apply the lost interval's applications, record an incident."""
    did = publications.setup(portal_url, portal)
    db = dbname_of(portal_url)
    with psycopg.connect(warehouse_url) as wh:
        row = wh.execute(_SINCE, (db,)).fetchone()
        since = row[0] if row else None
        reread = 0
        if portal == apply.APPLICATIONS.portal:
            columns = apply.APPLICATIONS.columns
            with psycopg.connect(portal_url) as src:
                rows = src.execute(sql.SQL(_CHANGED).format(
                    cols=sql.SQL(", ").join(map(sql.Identifier, columns))), (since,)).fetchall()
            reread = len(rows)
            if rows:
                with wh.transaction():
                    batch = wh.execute("INSERT INTO public.etl_batches (run_id, asset_key) VALUES (%s, %s) "
                                       "RETURNING batch_id", (f"cdc-recovery-{uuid.uuid4()}", apply.LIVE_ASSET)
                                       ).fetchone()[0]
                with wh.transaction():
                    days = apply.apply_applications(wh, columns, {r[0]: r for r in rows}, batch)
                    apply.refresh_figures(wh, days, batch)
                    wh.execute("UPDATE public.etl_batches SET status = 'success', finished_at = clock_timestamp(), "
                               "rows_extracted = %s, rows_loaded = %s WHERE batch_id = %s", (reread, reread, batch))
    incident = None
    if monitor_url:
        from smart_warehouse_assets.operations.incidents import open_incident
        from smart_warehouse_assets.operations.monitor_registration import RUN_FAILURE, register

        with psycopg.connect(monitor_url) as mon:
            incident = open_incident(
                mon, register(mon), kind=RUN_FAILURE, asset_key=apply.LIVE_ASSET,
                check_name=publications.slot_name(db),  # one incident per slot, repeats counted
                title=f"Change capture slot of {db} lost; recreated, interval re-read by updated_at",
                details={"database": db, "reason": reason, "since": since, "applications_reread": reread,
                         "not_recovered": "hard deletes and changes without a new updated_at in the interval "
                                          "(the weekly full reload repairs them)"})
    return {"did": did, "since": since, "reread": reread, "incident": incident}
