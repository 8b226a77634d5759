"""Dimension assets: dim_date, and the SCD Type 2 dimensions (unpartitioned)."""


import dagster as dg
from psycopg import sql
from pydantic import Field

from smart_warehouse_assets.batches import lock_asset, open_batch
from smart_warehouse_assets.catalog import table_metadata
from smart_warehouse_assets.dimensions import calendar
from smart_warehouse_assets.dimensions.members import SCD2_DIMENSIONS
from smart_warehouse_assets.dimensions.scd2 import Scd2Dimension, merge
from smart_warehouse_assets.partitions import parse_day
from smart_warehouse_assets.resources import PostgresResource
from smart_warehouse_assets.sources.portal_tables import OWNER

CODE_VERSION = "1"


class CalendarConfig(dg.Config):
    extra_holidays: dict[str, str] = Field(
        default_factory=dict,
        description="More holidays, e.g. {'2026-03-04': 'Holi'}; national holidays are built in.",
    )


@dg.asset(
    description="Calendar of every day from 2020 to 2035: ISO weekday, April-March fiscal year and "
    "quarter, weekends, Indian national holidays plus configured ones.",
    group_name="dimensions",
    kinds={"postgres", "polars"},
    owners=[OWNER],
    code_version=CODE_VERSION,
    tags={"layer": "dimension"},
    metadata=table_metadata("dim_date"),
)
def dim_date(context: dg.AssetExecutionContext, config: CalendarConfig, warehouse: PostgresResource) -> dg.MaterializeResult:
    extra = {parse_day(day, "holiday"): name for day, name in config.extra_holidays.items()}
    with open_batch(context, warehouse) as batch:
        frame = calendar.calendar(extra, batch.batch_id)
        with warehouse.transaction() as conn:
            lock_asset(conn, "dim_date")
            conn.execute("DELETE FROM public.dim_date WHERE date_key <> -1")
            columns = sql.SQL(", ").join(map(sql.Identifier, calendar.COLUMNS))
            with conn.cursor().copy(sql.SQL("COPY public.dim_date ({}) FROM STDIN (FORMAT csv)").format(columns)) as cp:
                cp.write(calendar.as_csv(frame))
            batch.rows_extracted = batch.rows_loaded = frame.height
            batch.succeed(conn)
    return dg.MaterializeResult(
        metadata=batch.metadata() | {
            "dagster/row_count": frame.height + 1,
            "first_day": str(calendar.FIRST_DAY),
            "last_day": str(calendar.LAST_DAY),
            "holidays": int(frame["is_holiday"].sum()),
        }
    )


def _scd2_asset(name: str, dim: Scd2Dimension, staging_table: str) -> dg.AssetsDefinition:
    tracked = ", ".join(dim.tracked)

    @dg.asset(
        name=name,
        deps=[dg.AssetKey(["staging", staging_table])],
        description=f"SCD Type 2 dimension from staging.{staging_table}: a new version whenever one of "
        f"({tracked}) changes, opened at the source's updated_at; -1 is the unknown member.",
        group_name="dimensions",
        kinds={"postgres"},
        owners=[OWNER],
        code_version=CODE_VERSION,
        tags={"layer": "dimension", "scd": "type2"},
        metadata=table_metadata(name),
    )
    def _asset(context: dg.AssetExecutionContext, warehouse: PostgresResource) -> dg.MaterializeResult:
        with open_batch(context, warehouse) as batch:
            with warehouse.transaction() as conn:
                counts = merge(conn, dim, batch, name)
                batch.succeed(conn)
        with warehouse.connect() as conn:
            total, current = conn.execute(
                sql.SQL("SELECT count(*), count(*) FILTER (WHERE is_current) FROM public.{}").format(sql.Identifier(name))
            ).fetchone()
        context.log.info(f"{name}: {counts['new_members']} new, {counts['changed_members']} changed")
        return dg.MaterializeResult(
            metadata=batch.metadata() | counts | {"dagster/row_count": total, "current_members": current}
        )

    return _asset


dimension_assets = [dim_date] + [_scd2_asset(name, dim, src) for name, (dim, src) in SCD2_DIMENSIONS.items()]
