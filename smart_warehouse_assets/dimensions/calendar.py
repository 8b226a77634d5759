"""dim_date: a calendar built in polars and copied in whole.

The range is fixed and wide (every partition and the years ahead), so facts always find
their day. Indian national holidays are built in; more come from the asset's config.
"""

from __future__ import annotations

import io
from datetime import date

import polars as pl

FIRST_DAY = date(2020, 1, 1)
LAST_DAY = date(2035, 12, 31)
NATIONAL_HOLIDAYS = {(1, 26): "Republic Day", (8, 15): "Independence Day", (10, 2): "Gandhi Jayanti"}
DAY_NAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTH_NAMES = ["January", "February", "March", "April", "May", "June", "July", "August",
               "September", "October", "November", "December"]
COLUMNS = ["date_key", "full_date", "day_of_week", "day_name", "day_of_month", "day_of_year",
           "week_of_year", "month", "month_name", "quarter", "year", "fiscal_year",
           "fiscal_quarter", "is_weekend", "is_holiday", "holiday_name", "etl_batch_id"]


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
    )
    return frame.select(COLUMNS)


def as_csv(frame: pl.DataFrame) -> bytes:
    buf = io.BytesIO()
    frame.write_csv(buf, include_header=False, date_format="%Y-%m-%d")
    return buf.getvalue()
