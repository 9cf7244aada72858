"""The ``ecm-bot`` command line. Each command group lives in its own module."""

from __future__ import annotations

import logging
import sys

import click

from bot.cli.lazy import LazyGroup
from bot.cli.output import terminal_safe
from bot.errors import EcmError
from bot.logs import configure as configure_logs

log = logging.getLogger("bot")


class EcmGroup(LazyGroup):
    """A click group that turns the bot's errors into one clear line and exit code 1,
    and any unexpected error into one line too (with the traceback only under --debug).
    Every error line is ``terminal_safe``: what a user typed is shown, never obeyed."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.Abort):
            raise
        except click.ClickException as exc:  # click prints it; its message may quote input
            shown = exc.format_message()
            if terminal_safe(shown) == shown:
                raise
            if isinstance(exc, click.UsageError):
                raise click.UsageError(terminal_safe(shown), exc.ctx) from None
            raise click.ClickException(terminal_safe(shown)) from None
        except EcmError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.secho(terminal_safe(f"Error: {exc}"), fg="red", err=True)
            sys.exit(1)
        except Exception as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            log.debug("unexpected error", exc_info=True)
            click.secho(
                terminal_safe(
                    f"Error: unexpected {type(exc).__name__}: {exc} (run with --debug for details)"
                ),
                fg="red",
                err=True,
            )
            sys.exit(1)


@click.group(cls=EcmGroup)
@click.option("--debug", is_flag=True, help="Show full tracebacks and debug logs.")
@click.version_option(package_name="ecm-bot")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """ECM agent bot: triage stuck remittance orders and work them, from Slack or here.

    Example: ecm-bot demo
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    configure_logs(logging.DEBUG if debug else logging.WARNING)  # serve etc. raise it to INFO
    from bot.observability import tracing

    if tracing.configure():  # OTEL_EXPORTER_OTLP_ENDPOINT set: send the spans before exiting
        ctx.call_on_close(tracing.shutdown)


COMMAND_MODULES = (
    "alerts_cmd",
    "canary_cmd",
    "chat_cmd",
    "context_cmd",
    "costs_cmd",
    "demo_cmd",
    "doctor_cmd",
    "mcp_cmd",
    "migrate_cmd",
    "monitoring_cmd",
    "observe_cmd",
    "ops_cmd",
    "scheduler_cmd",
    "serve_cmd",
    "sheets_cmd",
    "skills_cmd",
    "sla_cmd",
)


def load_commands() -> click.Group:
    """Import every command module (each registers its commands on ``cli``)."""
    import importlib

    for name in COMMAND_MODULES:
        importlib.import_module(f"bot.cli.{name}")
    return cli


def main() -> None:
    """Entry point of the ``ecm-bot`` script (commands are imported as they run)."""
    cli(prog_name="ecm-bot")
