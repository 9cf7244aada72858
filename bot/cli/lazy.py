"""Commands imported when they run: ``ecm-bot --help`` lists every command from the table
below (name, module, the first sentence of its help) without importing one, and ``ecm-bot
NAME`` imports only NAME's module, so no command pays for another's imports (the skills
schema, the database drivers, a vendor SDK). ``tests/test_cli.py`` keeps the table equal to
the commands the modules define: a new command is a row here."""

from __future__ import annotations

import importlib

import click

COMMANDS: dict[str, tuple[str, str]] = {
    "alerts": (
        "alerts_cmd",
        "The open alerts (each skill's monitoring thresholds, missed cron "
        "slots, sheet-sync lag), where each was delivered, and the history of "
        "openings, resolutions and sends.",
    ),
    "canary": (
        "canary_cmd",
        "Candidate versions of skills: shadow runs and their diffs, traffic splits, "
        "promotion and rollback.",
    ),
    "chat": (
        "chat_cmd",
        "Send TEXT to the bot as a roster member: role resolution, trigger "
        "matching, the role's agent, the skill and the rendered reply.",
    ),
    "context": (
        "context_cmd",
        "Print the parts of an agent's context for one request, and their token"
        ' counts, beside the "monolith" that would load every skill and '
        "resource.",
    ),
    "costs": (
        "costs_cmd",
        "Model spend per skill today and this month against each skill's "
        "monthly_limit and max_per_execution, plus spend per day.",
    ),
    "dashboard": (
        "ops_cmd",
        "The ECM dashboard (run-ecm): open tickets, SLA breaches, resolved today.",
    ),
    "demo": (
        "demo_cmd",
        "Seed the demo data if absent, run triage, and show what Slack would: "
        "the summary, each agent's thread, one field agent's queue and one "
        "order's details.",
    ),
    "doctor": (
        "doctor_cmd",
        "Check the settings (half-configured systems, malformed values), Slack "
        "(auth.test), the database, the warehouse (connect, SELECT 1), the "
        "sheet (open, headers) and its sync lag, the LLM keys, and each "
        "configured model (known to the SDK, not retired or retiring within 60 "
        "days, served by the provider when its key is set); print what is OK, "
        "missing, a warning or failing, with the fix.",
    ),
    "metrics": (
        "observe_cmd",
        "Execution metrics in three tiers: everything, per domain and role, per"
        " skill (with each skill's custom metrics, last value and total, over "
        "the last 7 days or --days).",
    ),
    "mcp": (
        "mcp_cmd",
        "Serve the bot's skills over MCP to one roster member per token: only their role's "
        "tools, each call through the guard, the row rules and the audit log.",
    ),
    "migrate": ("migrate_cmd", "Apply pending database migrations and say where the database is."),
    "monitoring": (
        "monitoring_cmd",
        "Prometheus alert rules and the Grafana dashboard, from the skills' monitoring blocks.",
    ),
    "patterns": (
        "ops_cmd",
        "Anomalies: reasons, corridors and partners stuck far above their baseline.",
    ),
    "scheduler": (
        "scheduler_cmd",
        "Run the manager skills' cron triggers (triage at 07:00, 14:00 and "
        "20:00 Asia/Dubai), posting to ECM_TRIAGE_CHANNEL when Slack is "
        "configured.",
    ),
    "seed-demo": ("ops_cmd", "Write the demo roster and warehouse, relative to now (idempotent)."),
    "serve": ("serve_cmd", "Run the Slack app."),
    "sheets": ("sheets_cmd", "Set up and check the team's Google Sheet."),
    "skills": ("skills_cmd", "Inspect the skills registry."),
    "sla-watch": (
        "sla_cmd",
        "Warn assignees before their tickets' SLA deadlines, remind about "
        "breached P1/P2 tickets that have not moved, then escalate them "
        "(shared/config/sla-policy.yaml).",
    ),
    "trace": (
        "observe_cmd",
        "The day's executions as a timeline: each manager run, then the field work on its tickets.",
    ),
    "triage": ("ops_cmd", "Score every stuck order and assign it to a field agent."),
}
"""Command name -> (module in bot.cli, the first sentence of its help)."""


class LazyGroup(click.Group):
    """A click group whose commands are imported on first use (click's lazy-loading
    pattern), with ``--help`` written from ``COMMANDS``."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(COMMANDS) | set(self.commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            importlib.import_module(f"bot.cli.{COMMANDS[cmd_name][0]}")  # it registers itself
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """As click writes the command list, with commands not yet imported described by
        their first sentence (click shortens help to it anyway)."""
        listed: list[tuple[str, click.Command]] = []
        for name in self.list_commands(ctx):
            cmd = self.commands.get(name) or click.Command(name, help=COMMANDS[name][1])
            if not cmd.hidden:
                listed.append((name, cmd))
        if listed:
            limit = formatter.width - 6 - max(len(name) for name, _ in listed)
            with formatter.section("Commands"):
                formatter.write_dl([(name, cmd.get_short_help_str(limit)) for name, cmd in listed])

    def load_all(self) -> None:
        """Import every command module (what a test of all the commands needs)."""
        for module in sorted({m for m, _ in COMMANDS.values()}):
            importlib.import_module(f"bot.cli.{module}")
