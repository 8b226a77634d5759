"""Dimension assets: dim_date, and the SCD Type 2 dimensions (unpartitioned)."""

import dagster as dg
from psycopg import sql
from pydantic import Field, field_validator

from smart_warehouse_assets.asset_factory import LoadResult, warehouse_asset
from smart_warehouse_assets.batches import lock_asset, open_batch
from smart_warehouse_assets.catalog import table_metadata
from smart_warehouse_assets.dimensions import calendar as dates
from smart_warehouse_assets.dimensions.members import SCD2_DIMENSIONS
from smart_warehouse_assets.dimensions.scd2 import Scd2Dimension, merge
from smart_warehouse_assets.partitions import parse_day
from smart_warehouse_assets.quality import suite
from smart_warehouse_assets.resources import PostgresResource


class CalendarSettings(dg.ConfigurableResource):
    """Holidays beyond the national ones, e.g. {'2026-03-04': 'Holi'}."""

    extra_holidays: dict[str, str] = Field(default_factory=dict)

    @field_validator("extra_holidays")
    @classmethod
    def _real_days_and_plain_names(cls, value: dict[str, str]) -> dict[str, str]:
        """Checked when the settings are made, long before a holiday reaches dim_date."""
        for day, name in value.items():
            parse_day(day, "holiday")
            if not name.strip() or len(name) > 100 or any(not ch.isprintable() for ch in name):
                raise ValueError(f"holiday name for {day} must be 1-100 printable characters, got {name[:40]!r}")
        return value


def _load_dim_date(context: dg.AssetExecutionContext, days, *, warehouse: PostgresResource,
                   calendar: CalendarSettings):
    extra = {parse_day(day, "holiday"): name for day, name in calendar.extra_holidays.items()}
    with open_batch(context, warehouse) as batch:
        frame = dates.calendar(extra, batch.batch_id)
        with warehouse.transaction() as conn:
            lock_asset(conn, "dim_date")
            conn.execute("DELETE FROM public.dim_date WHERE date_key <> -1")
            columns = sql.SQL(", ").join(map(sql.Identifier, dates.COLUMNS))
            with conn.cursor().copy(sql.SQL("COPY public.dim_date ({}) FROM STDIN (FORMAT csv)").format(columns)) as cp:
                cp.write(dates.as_csv(frame))
            batch.rows_extracted = batch.rows_loaded = frame.height
            batch.succeed(conn)
    return LoadResult(batch, batch.metadata() | {
        "dagster/row_count": frame.height + 1,
        "first_day": str(dates.FIRST_DAY),
        "last_day": str(dates.LAST_DAY),
        "holidays": int(frame["is_holiday"].sum()),
    })


dim_date = warehouse_asset(
    key=dg.AssetKey("dim_date"),
    description="Calendar of every day from 2020 to 2035: ISO weekday, April-March fiscal year and "
    "quarter, weekends, Indian national holidays plus configured ones.",
    group="dimensions",
    deps=[],
    checks=suite.DIMENSIONS["dim_date"],
    load=_load_dim_date,
    metadata=table_metadata("dim_date"),
    kinds=frozenset({"postgres", "polars"}),
    resources={"calendar": CalendarSettings},
)


def _scd2_asset(name: str, dim: Scd2Dimension, staging_table: str) -> dg.AssetsDefinition:
    def load(context: dg.AssetExecutionContext, days, *, warehouse: PostgresResource):
        with open_batch(context, warehouse) as batch:
            with warehouse.transaction() as conn:
                counts = merge(conn, dim, batch, name)
                batch.succeed(conn)
        with warehouse.connect() as conn:
            total, current = conn.execute(
                sql.SQL("SELECT count(*), count(*) FILTER (WHERE is_current) FROM public.{}").format(sql.Identifier(name))
            ).fetchone()
        context.log.info(f"{name}: {counts['new_members']} new, {counts['changed_members']} changed")
        return LoadResult(batch, batch.metadata() | counts | {"dagster/row_count": total, "current_members": current})

    return warehouse_asset(
        key=dg.AssetKey(name),
        description=f"SCD Type 2 dimension from staging.{staging_table}: a new version whenever one of "
        f"({', '.join(dim.tracked)}) changes, opened at the source's updated_at; -1 is the unknown member.",
        group="dimensions",
        deps=[dg.AssetKey(["staging", staging_table])],
        checks=suite.DIMENSIONS[name],
        load=load,
        metadata=table_metadata(name),
        tags={"scd": "type2"},
    )


dimension_assets = [dim_date] + [_scd2_asset(name, dim, src) for name, (dim, src) in SCD2_DIMENSIONS.items()]
