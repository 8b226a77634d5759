"""``smart-warehouse``: databases, demo data, the warehouse load and the UI from one command."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from smart_warehouse_assets import embedded, migrations
from smart_warehouse_assets.settings import DATABASES, redact


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


def db_up(urls: dict[str, str], log=click.echo) -> None:
    for key, url in urls.items():
        created = migrations.ensure_database(url)
        applied = migrations.migrate(url, migrations.SQL_ROOT / key)
        what = ", ".join(applied) if applied else "up to date"
        log(f"{DATABASES[key].name:16} {'created; ' if created else ''}{what}")


@db.command("up")
def db_up_command() -> None:
    """Create missing databases and apply pending migrations (safe to repeat)."""
    try:
        db_up(_urls())
    except migrations.MigrationError as exc:
        raise click.ClickException(str(exc)) from None


@db.command("status")
def db_status_command() -> None:
    """List applied, pending and changed migrations per database."""
    urls = _urls()
    problems = False
    for key, url in urls.items():
        try:
            st = migrations.status(url, migrations.SQL_ROOT / key)
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


if __name__ == "__main__":
    main()
