"""The one daily partitioning shared by every fact and the aggregate: IST days."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg

TIMEZONE = "Asia/Kolkata"
IST = ZoneInfo(TIMEZONE)
START_ENV = "SMART_PARTITION_START"
MANIFEST_PATH = Path(__file__).resolve().parent.parent / ".smart-warehouse" / "seed_manifest.json"
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # ASCII digits only; fullmatch: no trailing newline


class InvalidPartition(ValueError):
    """A partition key or date that is not a real YYYY-MM-DD day."""


def parse_day(value: str, what: str = "partition key") -> date:
    """Validate a YYYY-MM-DD day before it goes anywhere near SQL."""
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise InvalidPartition(f"{what} {value!r} is not a day in the form YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidPartition(f"{what} {value!r} is not a real calendar day") from None


def default_start() -> str:
    """SMART_PARTITION_START, else the start of the last seed, else 90 days before yesterday."""
    if os.environ.get(START_ENV):
        return parse_day(os.environ[START_ENV], START_ENV).isoformat()
    try:
        return parse_day(json.loads(MANIFEST_PATH.read_text())["start"], "seed start").isoformat()
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return (datetime.now(IST).date() - timedelta(days=91)).isoformat()


daily_partitions = dg.DailyPartitionsDefinition(start_date=default_start(), timezone=TIMEZONE)


@dataclass(frozen=True)
class DayRange:
    """The IST days a run covers: [start, end) as instants, first..last as dates."""

    first: date
    last: date

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, datetime.min.time(), IST)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), datetime.min.time(), IST)

    @property
    def first_key(self) -> int:
        return int(self.first.strftime("%Y%m%d"))

    @property
    def last_key(self) -> int:
        return int(self.last.strftime("%Y%m%d"))

    @property
    def label(self) -> str:
        return self.first.isoformat() if self.first == self.last else f"{self.first}...{self.last}"

    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]


def day_range(context: dg.AssetExecutionContext) -> DayRange:
    """The partition range of the run, each key validated as a real day."""
    keys = context.partition_key_range
    first, last = parse_day(keys.start), parse_day(keys.end)
    if last < first:
        raise InvalidPartition(f"partition range {keys.start}...{keys.end} ends before it starts")
    return DayRange(first, last)
