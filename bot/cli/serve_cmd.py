"""``ecm-bot serve``: run the Slack app (Socket Mode with SLACK_APP_TOKEN, else HTTP)."""

from __future__ import annotations

import os

import click

from bot.cli import cli
from bot.errors import NotConfigured


@cli.command()
@click.option("--socket", "mode", flag_value="socket", help="Force Socket Mode.")
@click.option("--http", "mode", flag_value="http", help="Force HTTP mode.")
@click.option(
    "--port",
    type=int,
    default=lambda: int(os.environ.get("PORT", "3000")),
    show_default="$PORT or 3000",
    help="HTTP port.",
)
def serve(mode: str | None, port: int) -> None:
    """Run the Slack app. With SLACK_APP_TOKEN set it uses Socket Mode (no public URL);
    otherwise HTTP on $PORT, answering at /slack/events with /healthz for health checks.

    Example: SLACK_BOT_TOKEN=xoxb-… SLACK_APP_TOKEN=xapp-… ecm-bot serve
    """
    from bot.slack.app import build_app
    from bot.slack.server import serve_http, serve_socket
    from bot.slack.settings import SlackSettings

    settings = SlackSettings.from_env()
    socket_mode = mode == "socket" or (mode is None and bool(settings.app_token))
    missing = settings.missing(socket_mode)
    if missing:
        raise NotConfigured(
            f"Set {', '.join(missing)} to serve in {'Socket Mode' if socket_mode else 'HTTP mode'}"
            " (see .env.example and the README's Slack setup)."
        )
    from bot.cli.common import service_logging

    service_logging()
    app, _ = build_app(settings)
    if socket_mode:
        click.echo("ECM bot connecting to Slack in Socket Mode…", err=True)
        serve_socket(app, settings.app_token)
    else:
        click.echo(f"ECM bot serving HTTP on port {port} (/slack/events, /healthz)…", err=True)
        serve_http(app, port)
