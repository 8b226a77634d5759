"""Dimension assets: dim_date and dim_holiday, and the SCD Type 2 dimensions (unpartitioned)."""

from datetime import date
from pathlib import Path

import dagster as dg
from psycopg import sql
from pydantic import Field, field_validator, model_validator

from smart_warehouse_assets.asset_factory import LoadResult, warehouse_asset
from smart_warehouse_assets.batches import lock_asset, open_batch
from smart_warehouse_assets.catalog import table_metadata
from smart_warehouse_assets.dimensions import calendar as dates
from smart_warehouse_assets.dimensions import holidays
from smart_warehouse_assets.dimensions.members import SCD2_DIMENSIONS
from smart_warehouse_assets.dimensions.scd2 import Scd2Dimension, merge
from smart_warehouse_assets.partitions import parse_day
from smart_warehouse_assets.quality import suite
from smart_warehouse_assets.resources import PostgresResource


class CalendarSettings(dg.ConfigurableResource):
    """The holidays dim_date and dim_holiday observe: the shipped file (or ``holidays_file``,
    a TOML file in its format) plus national ``extra_holidays`` ({'2026-03-04': 'Holi'}) and
    ``state_holidays`` ({'Kerala': {'2026-08-26': 'Thiruvonam'}}); a configured day overrides
    the file's name for the same day and state."""

    holidays_file: str = Field(default="", description="A holidays TOML file used instead of the shipped one.")
    extra_holidays: dict[str, str] = Field(default_factory=dict)
    state_holidays: dict[str, dict[str, str]] = Field(default_factory=dict)

    @field_validator("extra_holidays")
    @classmethod
    def _real_days_and_plain_names(cls, value: dict[str, str]) -> dict[str, str]:
        """Checked when the settings are made, long before a holiday reaches dim_date."""
        for day, name in value.items():
            holidays.check_day(parse_day(day, "holiday"), "holiday")
            holidays.check_name(name, f"holiday name for {day}")
        return value

    @field_validator("state_holidays")
    @classmethod
    def _named_states_real_days(cls, value: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        for state, days in value.items():
            holidays.check_name(state, "state_holidays: a state")
            for day, name in days.items():
                holidays.check_day(parse_day(day, f"holiday of {state}"), f"holiday of {state}")
                holidays.check_name(name, f"holiday name of {state} for {day}")
        return value

    @model_validator(mode="after")
    def _file_reads(self):
        self.all_holidays()
        return self

    def all_holidays(self) -> list[holidays.Holiday]:
        """Every configured holiday, one per (day, state); ValueError on a bad file."""
        path = Path(self.holidays_file).expanduser() if self.holidays_file else holidays.SHIPPED_FILE
        configured = [holidays.Holiday(date.fromisoformat(d), n.strip(), None) for d, n in self.extra_holidays.items()]
        configured += [holidays.Holiday(date.fromisoformat(d), n.strip(), state.strip())
                       for state, days in self.state_holidays.items() for d, n in days.items()]
        # A day the file names twice is refused; the config may rename a day the file names.
        merged = {(h.day, h.state): h for h in holidays.combine(holidays.read_file(path))}
        merged.update({(h.day, h.state): h for h in configured})
        return sorted(merged.values(), key=lambda h: (h.day, h.state or ""))


def _load_dim_date(context: dg.AssetExecutionContext, days, *, warehouse: PostgresResource,
                   calendar: CalendarSettings):
    national = holidays.national(calendar.all_holidays())
    with open_batch(context, warehouse) as batch:
        frame = dates.calendar(national, batch.batch_id)
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
        "working_days": int(frame["is_working_day"].sum()),
    })


def _load_dim_holiday(context: dg.AssetExecutionContext, days, *, warehouse: PostgresResource,
                      calendar: CalendarSettings):
    configured = calendar.all_holidays()
    with open_batch(context, warehouse) as batch:
        frame = holidays.frame(dates.national_days(holidays.national(configured)), configured, batch.batch_id)
        with warehouse.transaction() as conn:
            lock_asset(conn, "dim_holiday")
            conn.execute("DELETE FROM public.dim_holiday")
            columns = sql.SQL(", ").join(map(sql.Identifier, holidays.COLUMNS))
            with conn.cursor().copy(sql.SQL("COPY public.dim_holiday ({}) FROM STDIN (FORMAT csv)").format(columns)) as cp:
                cp.write(dates.as_csv(frame))
            batch.rows_extracted = batch.rows_loaded = frame.height
            batch.succeed(conn)
    return LoadResult(batch, batch.metadata() | {
        "dagster/row_count": frame.height,
        "national_days": int(frame["is_national"].sum()),
        "states": frame["state"].drop_nulls().n_unique(),
    })


dim_date = warehouse_asset(
    key=dg.AssetKey("dim_date"),
    description="Calendar of every day from 2020 to 2035: ISO weekday, April-March fiscal year and "
    "quarter, weekends, national holidays (fixed and configured) and national working days.",
    group="dimensions",
    deps=[],
    checks=suite.DIMENSIONS["dim_date"],
    load=_load_dim_date,
    metadata=table_metadata("dim_date"),
    kinds=frozenset({"postgres", "polars"}),
    resources={"calendar": CalendarSettings},
)

dim_holiday = warehouse_asset(
    key=dg.AssetKey("dim_holiday"),
    description="Holidays by the state observing them: every national holiday (state null) and each "
    "configured state holiday, so a state's working days are dim_date's minus its own holidays.",
    group="dimensions",
    deps=[dg.AssetKey("dim_date")],
    checks=suite.DIMENSIONS["dim_holiday"],
    load=_load_dim_holiday,
    metadata=table_metadata("dim_holiday"),
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


dimension_assets = [dim_date, dim_holiday] + [_scd2_asset(name, dim, src) for name, (dim, src) in SCD2_DIMENSIONS.items()]
