"""Staging assets: one per portal table the warehouse reads.

Dimension sources are extracted in full; event sources for the IST days of the run's
partition range (a backfill of a year is one run and one extraction).
"""

import dagster as dg
from psycopg import sql

from smart_warehouse_assets.asset_factory import LoadResult, warehouse_asset
from smart_warehouse_assets.batches import open_batch
from smart_warehouse_assets.catalog import table_metadata
from smart_warehouse_assets.partition_metadata import count_days
from smart_warehouse_assets.partitions import day_range
from smart_warehouse_assets.quality import suite
from smart_warehouse_assets.sources.portal_tables import source_key
from smart_warehouse_assets.staging.extract import SourceExtract, extract
from smart_warehouse_assets.staging.sources import DIMENSION_SOURCES, EVENT_SOURCES


def staging_key(spec: SourceExtract) -> dg.AssetKey:
    return dg.AssetKey(["staging", spec.staging_table])


def _build(spec: SourceExtract) -> dg.AssetsDefinition:
    portals = (spec.source_key, *(lk.source_key for lk in spec.lookups))
    deps = [source_key(spec.source_key, spec.source_table)]
    deps += [source_key(lk.source_key, "service_applications") for lk in spec.lookups]
    if spec.staging_table == "predictions":
        deps.append(source_key("aiml", "ml_models"))
    scope = "for the IST days of the partition range" if spec.partitioned else "in full"

    def load(context: dg.AssetExecutionContext, days):
        warehouse = context.resources.warehouse
        sources = {p: getattr(context.resources, f"{p}_db") for p in portals}
        with open_batch(context, warehouse, days) as batch:
            extract(spec, sources, warehouse, batch, days, context.asset_key.to_user_string())
        table = sql.SQL("staging.{}").format(sql.Identifier(spec.staging_table))
        with warehouse.connect() as conn:
            total = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(table)).fetchone()[0]
            if days:
                count_days(conn, table, "partition_date", day_range(context), batch.batch_id, batch.per_day,
                           date_key=False)
        context.log.info(
            f"{spec.source_table} {days.label if days else '(full)'}: extracted {batch.rows_extracted}, "
            f"staged {batch.rows_loaded}, quarantined {batch.rows_rejected}"
        )
        # A partitioned load's counts go on each day's own event (partition_metadata).
        metadata = {"dagster/row_count": total} | ({} if days else batch.metadata())
        return LoadResult(batch, metadata)

    return warehouse_asset(
        key=staging_key(spec),
        description=f"{spec.source_database}.{spec.source_table} extracted {scope}, validated and cleaned. "
        "Rows breaking a contract rule go to staging.rejected_rows with their reason.",
        group="staging",
        deps=deps,
        checks=suite.STAGING[spec.staging_table],
        load=load,
        metadata=table_metadata(f"staging.{spec.staging_table}"),
        partitioned=spec.partitioned,
        resource_keys=frozenset(f"{p}_db" for p in portals),
    )


staging_assets = [_build(spec) for spec in (*DIMENSION_SOURCES, *EVENT_SOURCES)]
