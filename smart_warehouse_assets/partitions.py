"""The one daily partitioning shared by every fact and the aggregate: IST days."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg

from smart_warehouse_assets.paths import MANIFEST_PATH
from smart_warehouse_assets.settings import PARTITION_START_ENV as START_ENV

TIMEZONE = "Asia/Kolkata"
IST = ZoneInfo(TIMEZONE)
# On a change-driven run: per asset (user string), the days whose source rows changed.
CHANGED_DAYS_TAG = "smart/changed_partitions"
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
    """The IST days a run covers: [start, end) as instants, first..last as dates.

    ``only``, when set, names the days that count inside first..last (a row-level merge
    touches scattered days: its checks and counts read those days, not the span between).
    """

    first: date
    last: date
    only: frozenset[date] | None = None

    @classmethod
    def of(cls, days: Iterable[date], fallback: date) -> DayRange:
        """Exactly ``days`` (possibly none: then first = last = ``fallback`` and days() is empty)."""
        chosen = frozenset(days)
        return cls(min(chosen, default=fallback), max(chosen, default=fallback), chosen)

    @property
    def selective(self) -> bool:
        return self.only is not None

    def day_keys(self) -> list[int]:
        return [int(d.strftime("%Y%m%d")) for d in self.days()]

    def windows(self) -> tuple[list[datetime], list[datetime]]:
        """Starts and ends (IST) of each run of consecutive days, for scans of an indexed event
        time: a night that touches every day of the history reads one interval, not one per day."""
        runs: list[list[date]] = []
        for d in self.days():
            if runs and d == runs[-1][1] + timedelta(days=1):
                runs[-1][1] = d
            else:
                runs.append([d, d])
        return ([DayRange(a, b).start for a, b in runs], [DayRange(a, b).end for a, b in runs])

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
        if self.only is not None:
            return compress(self.only) or "none"
        return self.first.isoformat() if self.first == self.last else f"{self.first}...{self.last}"

    def days(self) -> list[date]:
        if self.only is not None:
            return sorted(self.only)
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]


def compress(days: Iterable[date]) -> str:
    """Days as comma-separated runs, e.g. "2026-09-01...2026-09-08,2026-09-10"."""
    out: list[str] = []
    ordered = sorted(set(days))
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + timedelta(days=1):
            j += 1
        out.append(ordered[i].isoformat() if i == j else f"{ordered[i]}...{ordered[j]}")
        i = j + 1
    return ",".join(out)


def expand(value: str) -> set[date]:
    """The inverse of :func:`compress`."""
    days: set[date] = set()
    for part in filter(None, value.split(",")):
        first, _, last = part.partition("...")
        a, b = parse_day(first), parse_day(last or first)
        days |= {a + timedelta(days=i) for i in range((b - a).days + 1)}
    return days


def changed_days(tags: Mapping[str, str], key: dg.AssetKey) -> set[date] | None:
    """The days a change-driven run names for ``key`` (None: the run names none, or unreadably)."""
    try:
        value = json.loads(tags.get(CHANGED_DAYS_TAG) or "{}").get(key.to_user_string())
        return expand(value) if isinstance(value, str) else None
    except (ValueError, AttributeError):
        return None


def day_range(context: dg.AssetExecutionContext, key: dg.AssetKey | None = None) -> DayRange:
    """The days ``key`` loads in this run, each validated as a real day.

    That is the run's partition range, except on a change-driven run: one run covers every
    changed asset over the smallest range holding all their changed days, and each asset
    reloads only the span of its own (yesterday's actions need not reload 90 days because
    an application submitted 90 days ago was decided). The range's other days of the asset
    are unchanged at the source, so what they hold is already what a reload would write.
    """
    keys = context.partition_key_range
    first, last = parse_day(keys.start), parse_day(keys.end)
    if last < first:
        raise InvalidPartition(f"partition range {keys.start}...{keys.end} ends before it starts")
    try:
        tags = context.run.tags
    except dg.DagsterError:  # a context built for a direct call has no run
        tags = {}
    own = sorted(d for d in (changed_days(tags, key) or ()) if first <= d <= last) if key else []
    return DayRange(own[0], own[-1]) if own else DayRange(first, last)


def every_day() -> DayRange:
    """Every day of the daily partitions, first to last."""
    return DayRange(parse_day(daily_partitions.get_first_partition_key()),
                    parse_day(daily_partitions.get_last_partition_key()))
