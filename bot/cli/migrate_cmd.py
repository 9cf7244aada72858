"""``ecm-bot migrate``: bring the system of record to the current schema (a release step)."""

from __future__ import annotations

import click

from bot.cli import cli


@cli.command()
def migrate() -> None:
    """Apply pending database migrations and say where the database is. Safe to run from many
    processes at once; every process also migrates on start, so this is for release steps
    (Heroku release:, a Kubernetes Job) that should fail before the new code serves.

    Example: ECM_DATABASE_URL=postgresql://… ecm-bot migrate
    """
    from bot.db import open_database
    from bot.db.migrations import MIGRATIONS
    from bot.paths import data_dir

    db = open_database(data_dir())
    done = {r["name"] for r in db.query("SELECT name FROM _migrations")}
    missing = [name for name, _ in MIGRATIONS if name not in done]
    if missing:  # opening migrates, so this means another process failed half-way
        raise click.ClickException(f"migrations not applied: {', '.join(missing)}")
    click.echo(f"{db.describe()}: schema at {MIGRATIONS[-1][0]} ({len(done)} migrations).")
