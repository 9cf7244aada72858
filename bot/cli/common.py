"""What most commands need: the registry, the stores, and printing a skill result."""

from __future__ import annotations

import click

from bot.cli.output import emit_json, terminal_safe
from bot.runtime.executor import SkillResult
from bot.runtime.roster import Member, Roster
from bot.skills.registry import Registry
from bot.stores.factory import Stores, open_stores


def load() -> tuple[Registry, Stores]:
    return Registry.load(), open_stores()


def assistant():
    """The language-model assistant when a key is configured (alerts go to stderr), else None."""
    from bot.agents.assistant import Assistant

    return Assistant.from_env(notify=lambda message: click.secho(message, fg="yellow", err=True))


def operator(stores: Stores, as_email: str | None) -> Member:
    """The roster member a command acts as; without --as, the CLI operator as a manager."""
    if as_email:
        return Roster.load(stores.workbook).resolve(as_email)
    return Member(
        "cli@ecm.local", "ECM command line", "", ("manager",), frozenset(), 0, True, system=True
    )


def show(result: SkillResult, as_json: bool) -> None:
    """Print a result, or its data with --json; a view's charts are written to files in
    ``$ECM_DATA_DIR/charts/`` and each path is printed."""
    if as_json:
        emit_json(result.data)
        return
    from bot.present import present_result
    from bot.present.text import figures, to_text

    view = present_result(result)
    click.echo(terminal_safe(to_text(view)))
    for figure in figures(view):
        click.echo(f"📊 Chart written to {write_chart(figure.filename, figure.draw())}")


def write_chart(filename: str, png: bytes):
    """Write a chart's PNG into ``$ECM_DATA_DIR/charts/``; return its path."""
    from bot.paths import data_dir

    folder = data_dir() / "charts"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / filename
    path.write_bytes(png)
    return path


def service_logging() -> None:
    """Logging for long-running processes (serve, scheduler, sheets sync): INFO, or DEBUG
    under --debug, in ECM_LOG_FORMAT (text or json; bot/logs.py). Replaces the handler and
    level the CLI group set for the quiet commands (WARNING), so INFO lines are printed."""
    import logging

    from bot.logs import configure

    ctx = click.get_current_context(silent=True)
    debug = bool(ctx and (ctx.find_root().obj or {}).get("debug"))
    configure(logging.DEBUG if debug else logging.INFO)
