"""The deployment files stay consistent with the code."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_the_slack_manifest_declares_what_the_handlers_use():
    manifest = yaml.safe_load((ROOT / "deploy" / "slack-manifest.yaml").read_text())
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {
        "app_mentions:read",
        "chat:write",
        "commands",
        "im:history",
        "users:read",
        "users:read.email",
        "reactions:write",
        "im:write",
    } <= scopes
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert {"app_mention", "message.im", "app_home_opened"} <= events
    assert manifest["features"]["slash_commands"][0]["command"] == "/ecm"
    assert manifest["features"]["app_home"]["messages_tab_enabled"] is True
    assert manifest["settings"]["interactivity"]["is_enabled"] is True


def test_the_procfile_processes_are_real_commands():
    from click.testing import CliRunner

    from bot.cli import load_commands

    cli = load_commands()

    processes = dict(
        line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line.strip()
    )
    assert {"web", "worker", "release"} <= set(processes)
    for command in processes.values():
        args = command.split()[1:]
        result = CliRunner().invoke(cli, [*args, "--help"])
        assert result.exit_code == 0, f"{command}: {result.output}"
