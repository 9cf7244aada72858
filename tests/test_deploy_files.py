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


def test_the_kubernetes_cronjob_matches_the_triage_trigger():
    job = yaml.safe_load((ROOT / "deploy" / "kubernetes" / "triage-cronjob.yaml").read_text())
    config = yaml.safe_load(
        (ROOT / "skills" / "manager" / "triage-and-assign" / "aspora.config.yaml").read_text()
    )
    cron = next(t["cron"] for t in config["triggers"] if "cron" in t)
    assert job["kind"] == "CronJob" and job["spec"]["concurrencyPolicy"] == "Forbid"
    assert job["spec"]["schedule"] == cron["schedule"]
    assert job["spec"]["timeZone"] == cron["timezone"]
    container = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    assert container["command"][:2] == ["ecm-bot", "triage"]


def test_env_example_lists_every_variable_the_code_reads():
    import re

    documented = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    used = set()
    for path in (ROOT / "bot").rglob("*.py"):
        used |= set(
            re.findall(r"""env(?:iron)?\.get\(\s*["']([A-Z][A-Z0-9_]+)["']""", path.read_text())
        )
        used |= set(re.findall(r"""os\.environ\[["']([A-Z][A-Z0-9_]+)["']\]""", path.read_text()))
    used -= {"ECM_PROJECT_ROOT", "PATH_INFO"}  # a test seam; a WSGI key
    missing = sorted(used - documented)
    assert not missing, f".env.example lacks {missing}"
