"""``smart-warehouse``: databases, demo data, the warehouse load and the UI from one command."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import click

from smart_warehouse_assets import embedded, migrations
from smart_warehouse_assets.paths import SQL_ROOT
from smart_warehouse_assets.resources import resource_for
from smart_warehouse_assets.settings import (
    DATABASES,
    PARTITION_START_ENV,
    all_urls,
    dbname_of,
    redact,
)

DEFAULT_SEED = 20260401
DEFAULT_BAD_RATE = 0.002


def _urls() -> dict[str, str]:
    try:
        return embedded.resolve_urls(log=click.echo)
    except embedded.ServerUnavailable as exc:
        raise click.ClickException(str(exc)) from None


@click.group()
def main() -> None:
    """SMART warehouse: portal databases -> Dagster assets -> star schema."""


@main.group()
def db() -> None:
    """Create and migrate the five databases."""


def db_up(urls: dict[str, str], log=click.echo, roles: bool = False) -> None:
    for key, url in urls.items():
        created = migrations.ensure_database(url)
        applied = migrations.migrate(url, SQL_ROOT / key)
        what = ", ".join(applied) if applied else "up to date"
        if roles:
            from smart_warehouse_assets import roles as role_grants

            what += "; grants from " + ", ".join(role_grants.apply(url, key))
        log(f"{dbname_of(url):16} {'created; ' if created else ''}{what}")


@db.command("up")
@click.option("--roles", is_flag=True,
              help="Also create the least-privilege roles if missing and apply sql/roles/ (no passwords).")
def db_up_command(roles) -> None:
    """Create missing databases and apply pending migrations (safe to repeat)."""
    try:
        db_up(_urls(), roles=roles)
    except migrations.MigrationError as exc:
        raise click.ClickException(str(exc)) from None


@db.command("status")
def db_status_command() -> None:
    """List applied, pending and changed migrations per database."""
    urls = _urls()
    problems = False
    for key, url in urls.items():
        try:
            st = migrations.status(url, SQL_ROOT / key)
        except migrations.MigrationError as exc:
            click.echo(f"{DATABASES[key].name:16} unreachable or missing: {exc}")
            problems = True
            continue
        click.echo(
            f"{DATABASES[key].name:16} applied {len(st.applied)}, pending {len(st.pending)}"
            + (f" ({', '.join(st.pending)})" if st.pending else "")
        )
        for name in st.changed:
            click.echo(f"{'':16} CHANGED after apply: {key}/{name}")
        for name in st.missing:
            click.echo(f"{'':16} applied but missing on disk: {key}/{name}")
        problems |= bool(st.changed or st.missing)
    sys.exit(1 if problems else 0)


def _portal_urls(urls: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in urls.items() if k != "warehouse"}


@main.command()
@click.option("--seed", "seed_value", type=int, default=DEFAULT_SEED, show_default=True, help="Random seed.")
@click.option("--scale", type=click.FloatRange(min=0.001, max=1000), default=1.0, show_default=True,
              help="1.0 is about 20,000 citizens and 60,000 applications.")
@click.option("--start", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="First day of activity (default: 90 days ending yesterday, IST).")
@click.option("--days", type=click.IntRange(min=1, max=3660), default=90, show_default=True)
@click.option("--bad-rate", type=click.FloatRange(min=0, max=0.2), default=DEFAULT_BAD_RATE, show_default=True,
              help="Fraction of rows made dirty the way real portals are.")
@click.option("--replace", is_flag=True, help="Empty the portal tables first.")
def seed(seed_value, scale, start, days, bad_rate, replace) -> None:
    """Fill the four portal databases with one consistent, reproducible world."""
    from smart_warehouse_assets import synthetic
    from smart_warehouse_assets.paths import MANIFEST_PATH

    urls = _urls()
    try:
        manifest = synthetic.seed(
            _portal_urls(urls), seed=seed_value, scale=scale, start=start.date() if start else None,
            days=days, bad_rate=bad_rate, manifest_path=MANIFEST_PATH, replace=replace, log=click.echo,
        )
    except synthetic.SyntheticDataError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"manifest: {MANIFEST_PATH} (start {manifest['start']}, {manifest['days']} days)")


@main.command()
@click.option("--days", type=click.IntRange(min=1, max=366), default=1, show_default=True)
@click.option("--seed", "seed_value", type=int, default=DEFAULT_SEED, show_default=True)
def simulate(days, seed_value) -> None:
    """Advance the portals' world by N days past its latest day."""
    from smart_warehouse_assets import synthetic

    try:
        summary = synthetic.simulate(_portal_urls(_urls()), days=days, seed=seed_value, log=click.echo)
    except synthetic.SyntheticDataError as exc:
        raise click.ClickException(str(exc)) from None
    changed = summary.get("changed_days", [])
    click.echo(f"changed submission days: {len(changed)} ({changed[0] if changed else '-'} ... {changed[-1] if changed else '-'})")


@main.command()
@click.option("--start", "first", help="First IST day (YYYY-MM-DD); default: first partition.")
@click.option("--end", "last", help="Last IST day (YYYY-MM-DD); default: yesterday.")
def load(first, last) -> None:
    """Materialize the warehouse for a range of days in one Dagster run."""
    _urls()
    _load(first, last)


def _load(first: str | None, last: str | None) -> bool:
    try:
        from smart_warehouse_assets import jobs, partitions
    except ValueError as exc:  # SMART_PARTITION_START is not a day (partitions.InvalidPartition)
        raise click.ClickException(str(exc)) from None

    jobs.ensure_dagster_home()
    from smart_warehouse_assets.definitions import defs

    keys = partitions.daily_partitions.get_partition_keys()
    if not keys:
        raise click.ClickException("no partitions yet: the partition start lies in the future")
    try:
        first_day = partitions.parse_day(first or keys[0], "--start")
        last_day = partitions.parse_day(last or keys[-1], "--end")
    except partitions.InvalidPartition as exc:
        raise click.BadParameter(str(exc)) from None
    import dagster as dg

    from smart_warehouse_assets.operations import changes

    # A load of every partition also moves the change watermarks, so the refresh sensor
    # afterwards reloads only what changes from now on (a partial range must not).
    everything = (first_day.isoformat(), last_day.isoformat()) == (keys[0], keys[-1])
    # Resolved URLs, not the definitions' resources: those may hold an EnvVar, which only a
    # run resolves. These connections are made here and stored with no run.
    direct = {key: resource_for(key, url) for key, url in all_urls().items()}
    window = None
    if everything:
        portals = {p: direct[p] for p in ("citizen", "dept", "aiml")}
        window = changes.plan(portals, direct["warehouse"], full=True).window
    click.echo(f"materializing the warehouse for {first_day} ... {last_day} in one run")
    started = time.perf_counter()
    with dg.DagsterInstance.get() as instance:
        result = jobs.run_load(defs, first_day, last_day, instance=instance, raise_on_error=False)
    seconds = time.perf_counter() - started
    if not result.success:
        for event in result.all_events:
            if event.is_step_failure:
                # After retries the error reads "Exceeded max_retries"; its causes say why.
                error, reasons = event.step_failure_data.error, []
                while error is not None:
                    reasons.append(redact(error.message.strip()))
                    error = error.cause
                click.echo(f"FAILED {event.step_key}: {' <- '.join(reasons)}", err=True)
        raise click.ClickException(f"the load failed after {seconds:.1f}s (run {result.run_id}); see above")
    if window is not None:
        changes.advance(direct["warehouse"], window, result.run_id)
    click.echo(f"run {result.run_id} succeeded in {seconds:.1f}s")
    return True


@main.command()
@click.option("--start", "first", help="First IST day judged (YYYY-MM-DD); default: every loaded day.")
@click.option("--end", "last", help="Last IST day judged (YYYY-MM-DD).")
def check(first, last) -> None:
    """Evaluate every data-quality check on the current tables, without loading."""
    from smart_warehouse_assets import jobs, partitions

    _urls()
    jobs.ensure_dagster_home()
    from smart_warehouse_assets.definitions import defs

    if bool(first) != bool(last):
        raise click.BadParameter("give both --start and --end, or neither")
    try:
        days = [partitions.parse_day(first, "--start"), partitions.parse_day(last, "--end")] if first else [None, None]
    except partitions.InvalidPartition as exc:
        raise click.BadParameter(str(exc)) from None
    import dagster as dg

    with dg.DagsterInstance.get() as instance:
        result = jobs.run_checks(defs, *days, instance=instance)
    verdicts = [e.event_specific_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    failed = [v for v in verdicts if not v.passed]
    for v in failed:
        click.echo(f"{v.severity.value:5} {v.asset_key.to_user_string()} {v.check_name}: {v.description}")
    click.echo(f"{len(verdicts)} checks evaluated, {len(failed)} failed (run {result.run_id})")
    if any(v.severity == dg.AssetCheckSeverity.ERROR for v in failed) or not result.success:
        sys.exit(1)


@main.command()
@click.option("--check", "only_check", is_flag=True, help="Only report whether the page is up to date.")
def docs(only_check) -> None:
    """Regenerate docs/data-dictionary.md from the warehouse DDL comments."""
    from smart_warehouse_assets import docs as dictionary

    sys.exit(dictionary.main(["--check"] if only_check else []))


@main.command()
def summary() -> None:
    """Rows per warehouse table, batches, quarantined rows and check verdicts."""
    from smart_warehouse_assets.reporting import print_summary

    print_summary(_urls()["warehouse"], click.echo)


@main.command()
@click.option("--scale", type=click.FloatRange(min=0.001, max=1000), default=1.0, show_default=True)
@click.option("--days", type=click.IntRange(min=1, max=3660), default=90, show_default=True)
def demo(scale, days) -> None:
    """The main job: databases, demo data, the whole warehouse, and where to look."""
    import psycopg

    from smart_warehouse_assets.reporting import print_summary
    from smart_warehouse_assets.synthetic import SyntheticDataError

    urls = _urls()
    try:
        db_up(urls)
        manifest = _demo_world(urls, scale, days)
    except (migrations.MigrationError, SyntheticDataError) as exc:
        raise click.ClickException(str(exc)) from None
    except psycopg.Error as exc:  # a server gone mid-way: one line, no traceback, no password
        raise click.ClickException(f"the demo stopped: {redact(str(exc)).strip()}") from None
    # Set before anything imports the partitions: they are defined once, from this setting.
    start = manifest["start"]
    if os.environ.get(PARTITION_START_ENV, start) != start:
        click.echo(f"{PARTITION_START_ENV}={os.environ[PARTITION_START_ENV]} ignored: "
                   f"the demo's partitions start on its first seeded day, {start}")
    os.environ[PARTITION_START_ENV] = start
    from smart_warehouse_assets.partitions import daily_partitions

    if daily_partitions.get_first_partition_key() != start:
        raise click.ClickException(f"the partitions were defined before the demo set their start: "
                                   f"they begin {daily_partitions.get_first_partition_key()}, the world {start}")
    _load(None, None)
    print_summary(urls["warehouse"], click.echo)
    click.echo(
        "\nOpen the UI:  smart-warehouse ui   (Dagster on http://127.0.0.1:3000)\n"
        "Query it:     psql " + redact(urls["warehouse"])
    )


def _demo_world(urls: dict[str, str], scale: float, days: int) -> dict:
    """Seed the demo world, or keep it when the portals already hold exactly that world."""
    from smart_warehouse_assets.paths import MANIFEST_PATH
    from smart_warehouse_assets.synthetic import PortalsHoldData, seed, world_mismatch

    portals = _portal_urls(urls)
    try:
        return seed(portals, seed=DEFAULT_SEED, scale=scale, days=days, bad_rate=DEFAULT_BAD_RATE,
                    manifest_path=MANIFEST_PATH, log=click.echo)
    except PortalsHoldData:
        try:
            manifest = json.loads(MANIFEST_PATH.read_text())
        except (OSError, ValueError):
            manifest = None
    mismatch = world_mismatch(portals, manifest, seed=DEFAULT_SEED, scale=scale, days=days,
                              bad_rate=DEFAULT_BAD_RATE)
    if mismatch:
        raise click.ClickException(
            f"the portals already hold data that is not this demo's world: {mismatch}. Load what is "
            "there with `smart-warehouse load`, or start over with `smart-warehouse seed --replace`.")
    click.echo(f"portals already hold the demo world (seed {DEFAULT_SEED}, scale {scale}, {days} days "
               f"from {manifest['start']}); keeping them")
    return manifest


@main.command()
@click.option("--port", type=click.IntRange(1, 65535), default=3000, show_default=True)
def ui(port) -> None:
    """Start the Dagster UI (dagster dev) on this code location with the same settings."""
    from smart_warehouse_assets import jobs, paths

    _urls()  # starts the embedded server when that is what the demo used
    jobs.ensure_dagster_home()
    # A checkout has workspace.yaml; an installed package is found by its module name.
    where = [] if paths.IN_CHECKOUT else ["-m", "smart_warehouse_assets.definitions"]
    os.chdir(paths.PROJECT_ROOT)
    os.execv(sys.executable, [sys.executable, "-m", "dagster", "dev", *where, "-h", "127.0.0.1", "-p", str(port)])


def _default_backup_folder():
    from smart_warehouse_assets.paths import BACKUP_DIR

    return BACKUP_DIR


@main.command()
@click.option("--to", "folder", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="Folder for the dumps (default: .smart-warehouse/backups).")
@click.option("--portals", is_flag=True, help="Also back up each portal database (citizen, dept, aiml, monitor).")
def backup(folder, portals) -> None:
    """Dump the warehouse (and the portals) with pg_dump, custom format, plus a checksum manifest."""
    from smart_warehouse_assets.operations import backup as backups
    from smart_warehouse_assets.settings import PORTALS

    urls = _urls()
    folder = folder or _default_backup_folder()
    for key in ("warehouse", *(PORTALS if portals else ())):
        try:
            backups.backup(urls[key], folder, key=key, log=click.echo)
        except backups.BackupError as exc:
            raise click.ClickException(str(exc)) from None


@main.command()
@click.argument("dump", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--into", "target", required=True,
              help="Database to restore into: a name on the backed-up database's server, or a libpq URL.")
@click.option("--clean", is_flag=True, help="Drop the dump's objects from a non-empty target first.")
@click.option("--jobs", type=click.IntRange(1, 32), default=1, show_default=True,
              help="Parallel restore jobs (1 restores in a single transaction).")
@click.option("--no-verify", is_flag=True, help="Skip comparing table checksums with the manifest.")
def restore(dump, target, clean, jobs, no_verify) -> None:
    """Restore a dump made by `backup` into a new (or --clean) database and verify it."""
    from smart_warehouse_assets.operations import backup as backups
    from smart_warehouse_assets.settings import with_dbname

    manifest = backups.read_manifest(dump) or {}
    if "://" in target or "=" in target:
        url = target
    else:
        key = manifest.get("key") if manifest.get("key") in DATABASES else "warehouse"
        url = with_dbname(_urls()[key], target)
    try:
        backups.restore(dump, url, clean=clean, jobs=jobs, verify=not no_verify, log=click.echo)
    except backups.BackupError as exc:
        raise click.ClickException(str(exc)) from None


@main.group()
def cdc() -> None:
    """Change data capture from the portals' write-ahead log (publication + slot per portal)."""


def _cdc_each(action) -> None:
    from smart_warehouse_assets.cdc import publications

    urls = _urls()
    for portal in publications.PORTALS:
        try:
            for line in action(urls[portal], portal):
                click.echo(f"{dbname_of(urls[portal]):16} {line}")
        except publications.CdcUnavailable as exc:
            raise click.ClickException(str(exc)) from None


@cdc.command("setup")
def cdc_setup() -> None:
    """Create the publication and the logical replication slot in each source portal (safe to repeat)."""
    from smart_warehouse_assets.cdc import publications

    _cdc_each(publications.setup)


@cdc.command("status")
def cdc_status() -> None:
    """Each portal's publication and slot: active, wal_status, lag, and the LSN the warehouse applied."""
    from smart_warehouse_assets.cdc import publications

    import psycopg

    urls = _urls()
    with psycopg.connect(urls["warehouse"]) as wh:
        applied = {db: (lsn, at) for db, lsn, at in wh.execute(
            "SELECT source_database, lsn::text, applied_at FROM public.etl_cdc_progress")}

    def line(url, portal):
        st = publications.status(url)
        lsn, at = applied.get(st.database, (None, None))
        done = f"; warehouse applied to {lsn} at {at:%Y-%m-%d %H:%M:%S %Z}" if lsn else "; warehouse applied nothing yet"
        return [st.line()[17:] + done]

    _cdc_each(line)


@cdc.command("drop")
def cdc_drop() -> None:
    """Drop each portal's slot and publication (the portal then keeps no WAL for the warehouse)."""
    from smart_warehouse_assets.cdc import publications

    _cdc_each(lambda url, portal: publications.drop(url))


@cdc.command("consume")
@click.option("--follow", is_flag=True, help="Keep reading every --every seconds until interrupted.")
@click.option("--every", type=click.FloatRange(0.5, 60), default=5.0, show_default=True)
def cdc_consume(follow, every) -> None:
    """Apply each portal's captured changes to the warehouse once (or --follow)."""
    from smart_warehouse_assets.cdc import consumer, publications

    urls = _urls()
    while True:
        for portal in publications.PORTALS:
            try:
                r = consumer.consume(portal, urls[portal], urls["warehouse"])
            except consumer.SlotLost as exc:
                raise click.ClickException(str(exc)) from None
            click.echo(f"{r.database:16} {r.transactions} transactions, {r.changes} changes "
                       f"applied ({r.skipped} already applied), LSN {r.lsn}, {r.seconds:.2f} s")
        if not follow:
            return
        time.sleep(every)


if __name__ == "__main__":
    main()
