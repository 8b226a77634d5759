"""The nightly backup as a Dagster job: ``warehouse_backup``, daily at 02:30 IST.

It runs :func:`.backup.backup` for the warehouse (and, configured so, each portal) into the
backup folder, then applies the retention rule (:mod:`.retention`) to each database it has
just backed up — only once every dump of the run is written and has its manifest. The run's
output metadata lists each file written with its size and SHA-256, and what retention
deleted; any failure (no pg_dump, an unwritable folder, an unreachable database) fails the
run with the reason. 02:30 is after the nightly load (01:30); a load still running then does
not matter, since the dump reads one snapshot and loads commit whole partitions.
Off unless ``SMART_ENVIRONMENT=production``, like the loads (:mod:`.environment`).
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from pydantic import Field, model_validator

from smart_warehouse_assets import paths
from smart_warehouse_assets.operations import backup as dumps
from smart_warehouse_assets.operations.environment import schedule_status
from smart_warehouse_assets.operations.retention import prune
from smart_warehouse_assets.partitions import TIMEZONE
from smart_warehouse_assets.resources import PostgresResource
from smart_warehouse_assets.settings import PORTALS

BACKUP_CRON = "30 2 * * *"


class BackupSettings(dg.ConfigurableResource):
    """Where the scheduled backups go, which databases, and how many are kept."""

    folder: str = Field(default="", description="Absolute path of the backup folder; empty: <state dir>/dumps.")
    portals: bool = Field(default=False, description="Also back up the four portal databases.")
    keep_daily: int = Field(default=7, description="Newest daily backups kept per database (at least 1).")
    keep_weekly: int = Field(default=4, description="Newest weekly backups (newest of an ISO week) kept per database.")

    @model_validator(mode="after")
    def _sensible(self):
        if self.folder and not Path(self.folder).expanduser().is_absolute():
            raise ValueError(f"backups: folder must be an absolute path, not {self.folder!r} "
                             "(a relative one would depend on where the daemon was started)")
        if self.keep_daily < 1:
            raise ValueError(f"backups: keep_daily must be at least 1 (got {self.keep_daily}): "
                             "the newest backup is always kept")
        if self.keep_weekly < 0:
            raise ValueError(f"backups: keep_weekly must be 0 or more (got {self.keep_weekly})")
        return self

    def target(self) -> Path:
        return Path(self.folder).expanduser() if self.folder else paths.BACKUP_DIR


@dg.op(description="pg_dump the warehouse (and the portals if configured), then apply retention.")
def back_up_databases(
    context,
    backups: BackupSettings,
    warehouse: PostgresResource,
    citizen_db: PostgresResource,
    dept_db: PostgresResource,
    aiml_db: PostgresResource,
    monitor_db: PostgresResource,
) -> dg.Output[list[str]]:
    settings = backups
    folder = settings.target()
    databases = {"warehouse": warehouse, "citizen": citizen_db, "dept": dept_db, "aiml": aiml_db,
                 "monitor": monitor_db}
    keys = ["warehouse", *(PORTALS if settings.portals else ())]
    written: list[dumps.Backup] = []
    try:
        dumps.writable_folder(folder)
        for key in keys:
            written.append(dumps.backup(databases[key].url, folder, key=key, log=context.log.info))
    except dumps.BackupError as exc:
        raise dg.Failure(description=f"backup into {folder} failed: {exc}",
                         metadata={"written_before_failure": [str(b.dump) for b in written]}) from None
    deleted = []
    for b in written:
        gone = prune(folder, b.database, settings.keep_daily, settings.keep_weekly, protect=[b.dump])
        deleted += [g.dump.name for g in gone]
    for name in deleted:
        context.log.info(f"retention deleted {name} and its manifest")
    metadata: dict[str, dg.RawMetadataValue] = {"folder": dg.MetadataValue.path(str(folder))}
    rows = ["| database | dump | bytes | sha256 | tables |", "|---|---|---:|---|---:|"]
    for key, b in zip(keys, written):
        manifest = dumps.read_manifest(b.dump) or {}
        metadata[f"{key}_dump"] = dg.MetadataValue.path(str(b.dump))
        metadata[f"{key}_manifest"] = dg.MetadataValue.path(str(b.manifest))
        metadata[f"{key}_bytes"] = dg.MetadataValue.int(b.dump.stat().st_size)
        metadata[f"{key}_sha256"] = dg.MetadataValue.text(manifest.get("sha256", ""))
        rows.append(f"| {b.database} | {b.dump.name} | {b.dump.stat().st_size:,} | "
                    f"{manifest.get('sha256', '')[:16]}… | {len(b.tables)} |")
    metadata["written"] = dg.MetadataValue.md("\n".join(rows))
    metadata["retention_deleted"] = dg.MetadataValue.json(deleted)
    metadata["retention"] = dg.MetadataValue.text(f"keep {settings.keep_daily} daily, {settings.keep_weekly} weekly")
    return dg.Output([str(b.dump) for b in written], metadata=metadata)


@dg.job(name="warehouse_backup", description="pg_dump of the warehouse (and the portals, if configured) with a "
        "checksum manifest, then retention: the newest N daily and M weekly backups kept.")
def warehouse_backup_job():
    back_up_databases()


daily_backup = dg.ScheduleDefinition(
    name="daily_backup", job=warehouse_backup_job, cron_schedule=BACKUP_CRON,
    execution_timezone=TIMEZONE, default_status=schedule_status(),
    description="02:30 IST, after the nightly load: back up, then prune to the configured retention.",
)
