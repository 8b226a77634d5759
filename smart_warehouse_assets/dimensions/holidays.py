"""The holidays the calendar observes: national and per state, from a TOML file plus config.

One file ships with the package (holidays.toml beside this module); a deployment may name
its own in the same format, and add days through the resource config. Everything is
validated when the settings are made, so a bad entry stops the code location with the
file, the entry and what is wrong, long before a holiday reaches dim_date.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

SHIPPED_FILE = Path(__file__).with_name("holidays.toml")
# dim_date's range (dimensions/calendar.py): a holiday outside it could never be observed.
FIRST_DAY = date(2020, 1, 1)
LAST_DAY = date(2035, 12, 31)
_ENTRY_KEYS = {"date", "name", "states"}


@dataclass(frozen=True)
class Holiday:
    day: date
    name: str
    state: str | None  # None: national


def check_name(name: object, what: str) -> str:
    """A holiday or state name: 1-100 printable characters, not only blanks."""
    if not isinstance(name, str) or not name.strip() or len(name) > 100 or any(not ch.isprintable() for ch in name):
        raise ValueError(f"{what} must be 1-100 printable characters, got {str(name)[:40]!r}")
    return name.strip()


def check_day(day: object, what: str) -> date:
    if not isinstance(day, date) or hasattr(day, "hour"):
        raise ValueError(f"{what} must be a date written YYYY-MM-DD (no quotes, no time), got {day!r}")
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"{what} {day} is outside the calendar ({FIRST_DAY} to {LAST_DAY})")
    return day


def read_file(path: Path) -> list[Holiday]:
    """Every holiday of a file, one per (day, state) it applies to; ValueError names what is wrong."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"holidays file {path}: cannot be read ({exc.strerror})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"holidays file {path}: not valid TOML ({exc})") from None
    unknown = set(document) - {"holiday"}
    if unknown:
        raise ValueError(f"holidays file {path}: unknown top-level keys {sorted(unknown)}; only [[holiday]] entries")
    entries = document.get("holiday", [])
    if not isinstance(entries, list):
        raise ValueError(f"holidays file {path}: 'holiday' must be a list of [[holiday]] tables")
    out = []
    for n, entry in enumerate(entries, start=1):
        where = f"holidays file {path}, holiday {n}"
        extra = set(entry) - _ENTRY_KEYS
        if extra:
            raise ValueError(f"{where}: unknown keys {sorted(extra)}; an entry has date, name and optional states")
        if "date" not in entry or "name" not in entry:
            raise ValueError(f"{where}: needs both date and name")
        day = check_day(entry["date"], f"{where}: date")
        name = check_name(entry["name"], f"{where}: name")
        states = entry.get("states")
        if states is None:
            out.append(Holiday(day, name, None))
            continue
        if not isinstance(states, list) or not states:
            raise ValueError(f"{where} ({day}): states must be a non-empty list of state names; "
                             "leave it out for a national holiday")
        out.extend(Holiday(day, name, check_name(s, f"{where} ({day}): state")) for s in states)
    return out


def combine(holidays: list[Holiday]) -> list[Holiday]:
    """One holiday per (day, state): a day named twice is refused, naming both."""
    seen: dict[tuple[date, str | None], Holiday] = {}
    for h in holidays:
        other = seen.setdefault((h.day, h.state), h)
        if other is not h:
            scope = h.state or "the whole country"
            raise ValueError(f"{h.day} is a holiday twice for {scope}: {other.name!r} and {h.name!r}; keep one")
    return sorted(seen.values(), key=lambda h: (h.day, h.state or ""))


def national(holidays: list[Holiday]) -> dict[date, str]:
    return {h.day: h.name for h in holidays if h.state is None}


def frame(national_days: dict[date, str], holidays: list[Holiday], batch_id: int) -> pl.DataFrame:
    """dim_holiday's rows: every national day of the calendar (``national_days``, the fixed
    ones included) and every state holiday."""
    rows = {(day, None): name for day, name in national_days.items()}
    rows.update({(h.day, h.state): h.name for h in holidays if h.state is not None})
    keys = sorted(rows, key=lambda k: (k[0], k[1] or ""))
    return pl.DataFrame(
        {
            "date_key": [int(d.strftime("%Y%m%d")) for d, _ in keys],
            "full_date": [d for d, _ in keys],
            "state": [s for _, s in keys],
            "holiday_name": [rows[k] for k in keys],
            "is_national": [s is None for _, s in keys],
            "etl_batch_id": [batch_id] * len(keys),
        },
        schema={"date_key": pl.Int32, "full_date": pl.Date, "state": pl.Utf8, "holiday_name": pl.Utf8,
                "is_national": pl.Boolean, "etl_batch_id": pl.Int64},
    )


COLUMNS = ["date_key", "full_date", "state", "holiday_name", "is_national", "etl_batch_id"]
