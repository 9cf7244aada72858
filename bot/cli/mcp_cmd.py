"""``ecm-bot mcp``: serve the bot's skills over the Model Context Protocol (stdio, or
Streamable HTTP with --http), and manage the personal tokens that MCP clients use."""

from __future__ import annotations

import os

import click

from bot.cli import cli
from bot.cli.output import emit_json, terminal_safe

WRITES_ENV = "ECM_MCP_ALLOW_WRITES"


def _writes_default() -> bool:
    return str(os.environ.get(WRITES_ENV, "")).strip().lower() in ("1", "true", "yes")


@cli.group(invoke_without_command=True)
@click.option(
    "--http", "http", is_flag=True, help="Serve Streamable HTTP at /mcp (default: stdio)."
)
@click.option("--host", default="127.0.0.1", show_default=True, help="HTTP address to bind.")
@click.option(
    "--port",
    type=int,
    default=lambda: int(os.environ.get("PORT", "8765")),
    show_default="$PORT or 8765",
    help="HTTP port.",
)
@click.option(
    "--public-url",
    default=lambda: os.environ.get("ECM_MCP_PUBLIC_URL", ""),
    help="The URL clients use (ECM_MCP_PUBLIC_URL; default http://HOST:PORT/mcp).",
)
@click.option(
    "--allow-writes",
    is_flag=True,
    default=_writes_default,
    help="Offer the tools that change tickets (or ECM_MCP_ALLOW_WRITES=1). Default: read-only.",
)
@click.pass_context
def mcp(
    ctx: click.Context, http: bool, host: str, port: int, public_url: str, allow_writes: bool
) -> None:
    """Serve the bot's skills over MCP to one roster member per token: only their role's
    tools, each call through the guard, the row rules and the audit log.

    Over stdio (for a local client) the token is ECM_MCP_TOKEN; over HTTP it is the bearer
    token of each request. Write tools appear only with --allow-writes.

    Examples:

      ECM_MCP_TOKEN=ecm_mcp_… ecm-bot mcp

      ecm-bot mcp --http --port 8765 --allow-writes

      ecm-bot mcp token create --for sarah.ops@example.com
    """
    if ctx.invoked_subcommand is not None:
        return
    calls = _calls(allow_writes)
    if not http:
        from bot.mcp.server import stdio_server

        stdio_server(calls).run()
        return
    from bot.cli.common import service_logging
    from bot.mcp.server import serve_http

    service_logging()
    mode = "read and write" if allow_writes else "read-only"
    click.echo(f"ECM MCP server on http://{host}:{port}/mcp ({mode})…", err=True)
    serve_http(calls, host, port, public_url or f"http://{host}:{port}/mcp")


def _calls(allow_writes: bool):
    """The MCP surface over the registry, the stores and the tool catalog; with Slack
    configured, a write's follow-ups update Slack in place as from Slack itself."""
    from bot.cli.common import load
    from bot.mcp.calls import McpCalls
    from bot.mcp.catalog import Catalog

    registry, stores = load()
    after = None
    if os.environ.get("SLACK_BOT_TOKEN"):
        from bot.mcp.slack_updates import slack_follow_ups

        after = slack_follow_ups(registry)
    return McpCalls(registry, stores, Catalog.load(registry), allow_writes, after)


@mcp.group()
def token() -> None:
    """Create, list and revoke personal MCP tokens (stored hashed; shown once).

    Example: ecm-bot mcp token list --for sarah.ops@example.com
    """


AS_OPTION = click.option(
    "--as",
    "as_email",
    metavar="EMAIL",
    help="Act as this roster member (only managers manage others' tokens). Default: the "
    "CLI operator, as a manager.",
)


@token.command("create")
@click.option("--for", "for_email", required=True, metavar="EMAIL", help="The member it acts as.")
@click.option("--role", type=click.Choice(["manager", "field"]), help="For a member with both.")
@click.option("--days", type=int, help="Days until it expires (default ECM_MCP_TOKEN_DAYS or 90).")
@AS_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def create(
    for_email: str, role: str | None, days: int | None, as_email: str | None, as_json: bool
) -> None:
    """Create a token for a roster member and print it once.

    Example: ecm-bot mcp token create --for sarah.ops@example.com
    """
    from bot.cli.common import operator
    from bot.mcp.tokens import TokenStore
    from bot.stores.factory import open_stores

    stores = open_stores()
    made, row = TokenStore(stores).create(operator(stores, as_email), for_email, role, days)
    shown = {k: v for k, v in row.items() if k != "token_hash"}
    if as_json:
        emit_json({**shown, "token": made})
        return
    click.echo(
        terminal_safe(
            f"Token {row['id']} for {row['email']} ({row['role']}), expires {row['expires_at']} "
            "UTC. It is shown only now; keep it secret:"
        )
    )
    click.echo(made)


@token.command("list")
@click.option("--for", "for_email", metavar="EMAIL", help="Only this member's tokens.")
@AS_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_tokens(for_email: str | None, as_email: str | None, as_json: bool) -> None:
    """List tokens (never the tokens themselves): id, member, role, state, dates.

    Example: ecm-bot mcp token list --json
    """
    from bot.cli.common import operator
    from bot.mcp.tokens import TokenStore
    from bot.stores.factory import open_stores

    stores = open_stores()
    rows = TokenStore(stores).listing(operator(stores, as_email), for_email)
    if as_json:
        emit_json(rows)
        return
    if not rows:
        click.echo("No MCP tokens.")
        return
    for r in rows:
        used = r.get("last_used_at") or "never"
        click.echo(
            terminal_safe(
                f"{r['id']}  {r['email']} ({r['role']})  {r['state']}  created "
                f"{r['created_at']} by {r['created_by']}  expires {r['expires_at']}  "
                f"last used {used}"
            )
        )


@token.command("revoke")
@click.argument("token_id")
@AS_OPTION
def revoke(token_id: str, as_email: str | None) -> None:
    """Revoke the token TOKEN_ID (from `ecm-bot mcp token list`); it stops at once.

    Example: ecm-bot mcp token revoke 3f2a9c1b7d40
    """
    from bot.cli.common import operator
    from bot.mcp.tokens import TokenStore
    from bot.stores.factory import open_stores

    stores = open_stores()
    row = TokenStore(stores).revoke(operator(stores, as_email), token_id)
    click.echo(terminal_safe(f"Revoked token {row['id']} of {row['email']}."))
