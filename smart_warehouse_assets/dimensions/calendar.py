"""dim_date: a calendar built in polars and copied in whole.

The range is fixed and wide (every partition and the years ahead), so facts always find
their day. Three national holidays are fixed in every year; the others, national and per
state, come from configuration (dimensions/holidays.py). A working day is a weekday that is
no national holiday; working_day_number counts them, so the working days between two days
are a subtraction.
"""

from __future__ import annotations

import io
from datetime import date

import polars as pl

from smart_warehouse_assets.dimensions.holidays import FIRST_DAY, LAST_DAY

NATIONAL_HOLIDAYS = {(1, 26): "Republic Day", (8, 15): "Independence Day", (10, 2): "Gandhi Jayanti"}
DAY_NAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTH_NAMES = ["January", "February", "March", "April", "May", "June", "July", "August",
               "September", "October", "November", "December"]
COLUMNS = ["date_key", "full_date", "day_of_week", "day_name", "day_of_month", "day_of_year",
           "week_of_year", "month", "month_name", "quarter", "year", "fiscal_year",
           "fiscal_quarter", "is_weekend", "is_holiday", "holiday_name", "is_working_day",
           "working_day_number", "etl_batch_id"]


def national_days(extra_holidays: dict[date, str]) -> dict[date, str]:
    """Every national holiday of the calendar: the configured ones and the fixed days of each
    year (a fixed day keeps its own name when configuration names it too)."""
    fixed = {date(y, m, d): name for y in range(FIRST_DAY.year, LAST_DAY.year + 1)
             for (m, d), name in NATIONAL_HOLIDAYS.items()}
    return {**extra_holidays, **fixed}


def calendar(extra_holidays: dict[date, str], batch_id: int) -> pl.DataFrame:
    """One row per day from FIRST_DAY to LAST_DAY, in the column order of dim_date."""
    days = pl.date_range(FIRST_DAY, LAST_DAY, interval="1d", eager=True).alias("full_date")
    fixed = pl.DataFrame(
        {"month": [m for m, _ in NATIONAL_HOLIDAYS], "day_of_month": [d for _, d in NATIONAL_HOLIDAYS],
         "national": list(NATIONAL_HOLIDAYS.values())},
        schema={"month": pl.Int8, "day_of_month": pl.Int8, "national": pl.Utf8},
    )
    extra = pl.DataFrame(
        {"full_date": list(extra_holidays), "configured": list(extra_holidays.values())},
        schema={"full_date": pl.Date, "configured": pl.Utf8},
    )
    d = pl.col("full_date")
    frame = (
        pl.DataFrame(days)
        .with_columns(
            month=d.dt.month().cast(pl.Int8),
            day_of_month=d.dt.day().cast(pl.Int8),
        )
        .join(fixed, on=["month", "day_of_month"], how="left")
        .join(extra, on="full_date", how="left")
        .with_columns(
            date_key=d.dt.strftime("%Y%m%d").cast(pl.Int32),
            day_of_week=d.dt.weekday().cast(pl.Int16),  # ISO: Monday = 1
            day_of_year=d.dt.ordinal_day().cast(pl.Int16),
            week_of_year=d.dt.week().cast(pl.Int16),
            quarter=d.dt.quarter().cast(pl.Int16),
            year=d.dt.year().cast(pl.Int16),
            holiday_name=pl.coalesce("national", "configured"),
        )
        .with_columns(
            day_name=pl.col("day_of_week").map_elements(lambda n: DAY_NAMES[n - 1], return_dtype=pl.Utf8),
            month_name=pl.col("month").map_elements(lambda n: MONTH_NAMES[n - 1], return_dtype=pl.Utf8),
            fiscal_year=(pl.col("year") - (pl.col("month") < 4).cast(pl.Int16)).cast(pl.Int16),
            fiscal_quarter=(((pl.col("month").cast(pl.Int16) + 8) % 12) // 3 + 1).cast(pl.Int16),
            is_weekend=pl.col("day_of_week") >= 6,
            is_holiday=pl.col("holiday_name").is_not_null(),
            etl_batch_id=pl.lit(batch_id, dtype=pl.Int64),
        )
        .with_columns(is_working_day=~pl.col("is_weekend") & ~pl.col("is_holiday"))
        .with_columns(working_day_number=pl.col("is_working_day").cast(pl.Int32).cum_sum())
    )
    return frame.select(COLUMNS)


def as_csv(frame: pl.DataFrame) -> bytes:
    buf = io.BytesIO()
    frame.write_csv(buf, include_header=False, date_format="%Y-%m-%d")
    return buf.getvalue()
