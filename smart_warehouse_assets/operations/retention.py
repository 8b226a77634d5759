"""Which backups to keep: the newest N daily and M weekly backups of each database.

A backup is ours only as a pair: ``<database>-<UTC time>.dump`` (the name ``backup``
gives it) with its ``.json`` manifest beside it naming that dump and that database. Any
other file in the folder — a dump without its manifest, a copy under another name, notes —
is never counted and never deleted.

The time of a backup is the one in its name (a copy or ``touch`` changes a file's mtime, not
its name), grouped by IST day and ISO week (the schedule's clock). The daily backup of a day
is its newest backup, the weekly backup of a week its newest; the newest ``keep_daily`` days
and the newest ``keep_weekly`` weeks keep theirs, and everything else of that database is
deleted, dump and manifest together. The caller names the backups that must survive
whatever their time (the one just written).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from smart_warehouse_assets.partitions import IST

STAMP_FORMAT = "%Y%m%dT%H%M%S%fZ"
_NAME = re.compile(r"^(?P<database>.+)-(?P<stamp>\d{8}T\d{12}Z)\.dump$")


@dataclass(frozen=True, order=True)
class StoredBackup:
    taken_at: datetime  # UTC, from the name
    database: str
    dump: Path
    manifest: Path

    @property
    def day(self):
        return self.taken_at.astimezone(IST).date()

    @property
    def week(self) -> tuple[int, int]:
        iso = self.day.isocalendar()
        return iso.year, iso.week


def _manifest_names(manifest: Path, dump: Path, database: str) -> bool:
    try:
        text = json.loads(manifest.read_text())
    except (OSError, ValueError):
        return False
    return isinstance(text, dict) and text.get("dump") == dump.name and text.get("database") == database


def stored_backups(folder: Path, database: str | None = None) -> list[StoredBackup]:
    """Our backups in ``folder`` (of ``database`` only, if given), oldest first."""
    found = []
    for dump in folder.glob("*.dump") if folder.is_dir() else ():
        m = _NAME.match(dump.name)
        if not m or not dump.is_file() or (database is not None and m["database"] != database):
            continue
        manifest = dump.with_suffix(".json")
        if not manifest.is_file() or not _manifest_names(manifest, dump, m["database"]):
            continue
        taken = datetime.strptime(m["stamp"], STAMP_FORMAT).replace(tzinfo=timezone.utc)
        found.append(StoredBackup(taken, m["database"], dump, manifest))
    return sorted(found)


def to_keep(backups: Iterable[StoredBackup], keep_daily: int, keep_weekly: int) -> set[StoredBackup]:
    """The newest backup of each of the newest ``keep_daily`` days and ``keep_weekly`` ISO weeks,
    per database."""
    if keep_daily < 1 or keep_weekly < 0:
        raise ValueError(f"keep_daily must be at least 1 and keep_weekly at least 0 (got {keep_daily}, {keep_weekly})")
    newest_of_day: dict[tuple, StoredBackup] = {}
    newest_of_week: dict[tuple, StoredBackup] = {}
    for b in sorted(backups):  # oldest first: the last one seen of a day or week is its newest
        newest_of_day[b.database, b.day] = b
        newest_of_week[b.database, b.week] = b
    keep: set[StoredBackup] = set()
    for newest, n in ((newest_of_day, keep_daily), (newest_of_week, keep_weekly)):
        by_database: dict[str, list[StoredBackup]] = {}
        for (database, _), b in newest.items():
            by_database.setdefault(database, []).append(b)
        for series in by_database.values():
            keep.update(sorted(series, reverse=True)[:n])
    return keep


def prune(folder: Path, database: str, keep_daily: int, keep_weekly: int,
          protect: Iterable[Path] = ()) -> list[StoredBackup]:
    """Delete ``database``'s backups in ``folder`` that :func:`to_keep` does not keep, except
    those whose dump is in ``protect``; return what was deleted."""
    backups = stored_backups(folder, database)
    keep = to_keep(backups, keep_daily, keep_weekly)
    protected = {Path(p).resolve() for p in protect}
    gone = [b for b in backups if b not in keep and b.dump.resolve() not in protected]
    for b in gone:
        b.manifest.unlink()  # the manifest first: a dump without one is no longer a backup of ours
        b.dump.unlink()
    return gone
