"""The ecm-bot command line, end to end in a subprocess (as a user runs it) and in-process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
import spawn
from click.testing import CliRunner

from bot.cli import cli

BIN = Path(sys.executable).parent / "ecm-bot"


def ecm(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "ECM_DATA_DIR": str(tmp_path)}
    return spawn.run([str(BIN), *args], capture_output=True, text=True, env=env, timeout=120)


def test_the_trace_puts_a_manager_run_before_its_field_work_in_the_same_second(triaged):
    """Times are stored to the second: a field agent's resolve in the second of the triage
    that assigned the ticket still comes under it, whatever order the rows are read in."""
    oid = triaged.tickets_of("sarah.ops@example.com")[0]["Order ID"]
    triaged.run("sarah.ops@example.com", "resolve-ticket", order_id=oid, notes="replayed")
    db = triaged.stores.db
    (manager,) = db.query("SELECT * FROM executions WHERE role = 'manager'")
    moment = manager["started_at"]
    db.execute("UPDATE executions SET started_at = ?", [moment])
    # ties are read in id order: make the field rows' ids sort first
    db.execute("UPDATE executions SET id = '0' || id WHERE role <> 'manager'")
    out = CliRunner().invoke(cli, ["trace", "--date", str(moment)[:10]])
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    top = next(i for i, ln in enumerate(lines) if "— Manager: triage-and-assign started" in ln)
    field = next(i for i, ln in enumerate(lines) if f"resolve-ticket ({oid})" in ln)
    assert top < field and lines[field].startswith("  "), out.output


def test_demo_shows_the_whole_flow_from_an_empty_data_dir(tmp_path):
    out = ecm(tmp_path, "demo")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "🎯 ECM Triage —" in text and "tickets assigned" in text
    assert "👤 @sarah.ops" in text
    assert "sarah.ops@example.com in a DM: my tickets" in text
    assert "in a DM: order" in text and "## Unstick it" in text
    assert "ecm-bot chat --as" in text


def test_a_field_agent_works_a_ticket_through_chat(tmp_path):
    assert ecm(tmp_path, "seed-demo", "--orders", "60").returncode == 0
    assert ecm(tmp_path, "chat", "--as", "maya.manager@example.com", "run triage").returncode == 0
    queue = json.loads(
        ecm(tmp_path, "chat", "--as", "sarah.ops@example.com", "--json", "my tickets").stdout
    )
    oid = queue["tickets"][0]["order_id"]
    detail = ecm(tmp_path, "chat", "--as", "sarah.ops@example.com", f"order {oid}")
    assert detail.returncode == 0 and oid in detail.stdout
    done = ecm(
        tmp_path,
        "chat",
        "--as",
        "sarah.ops@example.com",
        f"resolve {oid} replayed webhook, LULU confirmed",
    )
    assert done.returncode == 0 and " resolved — " in done.stdout
    trace = ecm(tmp_path, "trace").stdout.splitlines()
    # the design's timeline: the manager run, then the field work on its tickets under it
    manager = next(i for i, ln in enumerate(trace) if "— Manager: triage-and-assign started" in ln)
    assert (
        trace[manager].endswith("ms") and "(chat, " in trace[manager] and " ✅ " in trace[manager]
    )
    resolved = [ln for ln in trace if f"— Field (sarah.ops@): resolve-ticket ({oid}) ✅" in ln]
    assert len(resolved) == 1 and resolved[0].startswith("  ")
    assert trace.index(resolved[0]) > manager


def test_errors_are_one_line_with_a_non_zero_exit_and_no_traceback(tmp_path):
    ecm(tmp_path, "seed-demo", "--orders", "30")
    out = ecm(tmp_path, "chat", "--as", "sarah.ops@example.com", "run triage")
    assert out.returncode == 1
    assert "Field NEVER computes priority scores" in out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_commands_before_seeding_say_how_to_get_data(tmp_path):
    out = ecm(tmp_path, "triage")
    assert out.returncode == 1 and "seed-demo" in out.stderr and "Traceback" not in out.stderr


def test_seed_demo_is_idempotent(tmp_path):
    for _ in range(2):
        assert ecm(tmp_path, "seed-demo", "--orders", "40", "--seed", "5").returncode == 0
    out = json.loads(ecm(tmp_path, "seed-demo", "--orders", "40", "--seed", "5", "--json").stdout)
    assert out["stuck_orders"] == 40 and out["agents"] == 14
    from bot.stores.factory import open_stores

    assert len(open_stores(tmp_path, env={}).workbook.read("Agents")) == 14


def test_metrics_and_json_output(tmp_path):
    ecm(tmp_path, "seed-demo", "--orders", "30")
    ecm(tmp_path, "triage")
    ecm(tmp_path, "dashboard")
    data = json.loads(ecm(tmp_path, "metrics", "--json").stdout)
    assert data["all"]["executions"] == 2 and data["all"]["success_rate"] == 1.0
    assert "ecm/manager" in data["by_role"]
    assert "orders_triaged" in data["by_skill"]["triage-and-assign"]["custom"]
    patterns = json.loads(ecm(tmp_path, "patterns", "--json").stdout)
    assert "anomalies" in patterns


def _commands(group: click.Group, prefix=()):
    for name, cmd in group.commands.items():
        yield (*prefix, name), cmd
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, (*prefix, name))


def test_every_command_has_help_with_an_example():
    from bot.cli import load_commands

    load_commands()

    commands = list(_commands(cli))
    assert len(commands) >= 12
    for path, cmd in commands:
        assert cmd.help and "Example" in cmd.help, f"ecm-bot {' '.join(path)} lacks an example"


@pytest.mark.parametrize(
    "args",
    [["trace", "--date", "2026-13-40"], ["seed-demo", "--orders", "0"]],
    ids=["bad-date", "zero-orders"],
)
def test_bad_options_are_usage_errors(args, tmp_path, monkeypatch):
    from bot.cli import load_commands

    monkeypatch.setenv("ECM_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(load_commands(), args)  # every command, whatever ran before
    assert result.exit_code == 2 and "Invalid value" in result.output


def test_the_lazy_command_table_names_every_command_its_module_and_first_sentence():
    from bot.cli import COMMAND_MODULES, load_commands
    from bot.cli.lazy import COMMANDS

    group = load_commands()
    defined = {
        name: (cmd.callback.__module__.removeprefix("bot.cli."), cmd.help or "")
        for name, cmd in group.commands.items()
        if cmd.callback is not None
    }
    assert set(COMMANDS) == set(defined), "add (or drop) the command in bot/cli/lazy.py"
    for name, (module, sentence) in COMMANDS.items():
        assert module == defined[name][0], name
        words = " ".join(defined[name][1].split("\n\n")[0].split())
        assert words.startswith(sentence) and sentence.endswith("."), name
    assert {m for m, _ in COMMANDS.values()} == set(COMMAND_MODULES)


def test_help_lists_every_command_without_importing_them():
    code = (
        "import sys\n"
        "from bot.cli import main\n"
        "sys.argv = ['ecm-bot', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('LOADED', sorted(m for m in sys.modules if m.endswith('_cmd')))\n"
        "print('HEAVY', sorted({m.split('.')[0] for m in sys.modules} & "
        "{'pydantic', 'sqlite_utils', 'yaml', 'croniter', 'anthropic', 'openai', 'slack_bolt'}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    from bot.cli.lazy import COMMANDS

    for name in COMMANDS:
        assert f"\n  {name} " in out, name
    assert "LOADED []" in out and "HEAVY []" in out, out


def test_triage_text_is_bounded_and_json_lists_every_unassigned_order(tmp_path, monkeypatch):
    from bot.cli import load_commands
    from bot.demo.seed import seed_demo
    from bot.stores.factory import open_stores

    monkeypatch.setenv("ECM_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    seed_demo(tmp_path, open_stores(tmp_path, env={}).workbook, orders=1_500, seed=4)
    group = load_commands()
    text = CliRunner().invoke(group, ["triage", "--dry-run"])
    assert text.exit_code == 0, text.output
    as_json = CliRunner().invoke(group, ["triage", "--dry-run", "--json"])
    data = json.loads(as_json.stdout)
    total = data["counts"]["unassigned"]
    assert total > 1_000 and len(data["unassigned"]) == total  # --json: every order
    listed = [line for line in text.stdout.splitlines() if " | " in line and "needs " in line]
    assert 0 < len(listed) <= 50 and f"Unassigned — {total} " in text.stdout
    assert f"… and {total - len(listed)} more" in text.stdout
    assert "--json` lists them all" in text.stderr
    assert len(text.stdout) < len(as_json.stdout) / 10
