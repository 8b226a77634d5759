"""Staging assets: one per portal table of the registry that is extracted.

Dimension sources are extracted in full; event sources for the IST days of the run's
partition range (a backfill of a year is one run and one extraction).
"""

from collections.abc import Mapping

import dagster as dg
from psycopg import sql

from smart_warehouse_assets.asset_factory import LoadResult, warehouse_asset
from smart_warehouse_assets.batches import open_batch
from smart_warehouse_assets.catalog import table_metadata
from smart_warehouse_assets.merge import judged_days, merge_window
from smart_warehouse_assets.partition_metadata import count_days
from smart_warehouse_assets.partitions import day_range, every_day
from smart_warehouse_assets.quality import suite
from smart_warehouse_assets.resources import PostgresResource
from smart_warehouse_assets.sources.registry import STAGED, PortalTable, lookup_entry
from smart_warehouse_assets.staging.extract import extract, extract_changes


def _build(entry: PortalTable) -> dg.AssetsDefinition:
    spec = entry.staging
    portals = tuple(dict.fromkeys((entry.portal, *(lk.source_key for lk in spec.lookups))))
    deps = [entry.key, *(lookup_entry(ref).key for ref in entry.joined)]
    scope = "for the IST days of the partition range" if entry.partitioned else "in full"

    def load(context: dg.AssetExecutionContext, days, *, warehouse: PostgresResource,
             portals: Mapping[str, PostgresResource]):
        window = merge_window(context, entry) if days else None  # a change-driven run merges by key
        with open_batch(context, warehouse, days) as batch:
            if window is not None:
                batch.merged_days = extract_changes(entry, portals, warehouse, batch, window,
                                                    context.asset_key.to_user_string())
                batch.judged = judged_days(context, context.asset_key, batch.merged_days)
            else:
                extract(entry, portals, warehouse, batch, every_day() if days and spec.extract_in_full else days,
                        context.asset_key.to_user_string())
        table = sql.SQL("staging.{}").format(sql.Identifier(spec.staging_table))
        with warehouse.connect() as conn:
            if days:
                total = count_days(conn, table, "partition_date", day_range(context), batch.batch_id,
                                   batch.per_day, date_key=False, written=batch.judged)
            else:
                total = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(table)).fetchone()[0]
        context.log.info(
            f"{entry.table} {days.label if days else '(full)'}: extracted {batch.rows_extracted}, "
            f"staged {batch.rows_loaded}, quarantined {batch.rows_rejected}"
        )
        # A partitioned load's counts go on each day's own event (partition_metadata).
        metadata = {"dagster/row_count": total} | ({} if days else batch.metadata())
        return LoadResult(batch, metadata)

    return warehouse_asset(
        key=entry.staging_key,
        description=f"{entry.name} extracted {scope}, validated and cleaned. "
        "Rows breaking a contract rule go to staging.rejected_rows with their reason.",
        group="staging",
        deps=deps,
        checks=suite.STAGING[spec.staging_table],
        load=load,
        metadata=table_metadata(f"staging.{spec.staging_table}"),
        partitioned=entry.partitioned,
        reads=portals,
    )


staging_assets = [_build(entry) for entry in STAGED]
