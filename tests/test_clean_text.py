"""Clean text: NUL and bidirectional controls never reach the system of record or Slack,
terminal control characters in anything the CLI prints are shown as escapes, and CSV exports
open as text in a spreadsheet."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import spawn
from conftest import SARAH

SARAH_ID = "U0SARAH003"
HIDDEN = "\x00\u202e\u2066\u200f\u061c\x1b[2J"  # NUL, RLO, LRI, RLM, ALM, a terminal escape
BIN = Path(sys.executable).parent / "ecm-bot"


def has_hidden(text: str) -> bool:
    return any(c in text for c in HIDDEN[:5]) or "\x1b" in text


def test_an_escalation_reason_is_stored_and_announced_without_hidden_characters(slack):
    oid = slack.demo.tickets_of(SARAH)[0]["Order ID"]
    reason = f"partner{HIDDEN} portal down \u202egnp.exe"
    slack.submit(
        SARAH_ID,
        "escalate_submit",
        {"reason": {"reason": {"type": "plain_text_input", "value": reason}}},
        {"channel": f"D{SARAH_ID}", "order_id": oid},
    )
    post = slack.fake.wait_for(
        lambda f: [p for p in f.of("chat.postMessage") if p["channel"] == "CESC"]
    )[0]
    stored = [r for r in slack.demo.rows("Escalations") if r["Order ID"] == oid][-1]["Reason"]
    assert stored == "partner[2J portal down gnp.exe"
    assert not has_hidden(json.dumps(post, ensure_ascii=False))
    assert not has_hidden(slack.fake.all_text())


def test_a_resolution_note_typed_in_a_slash_command_is_stored_clean(slack):
    oid = slack.demo.tickets_of(SARAH)[0]["Order ID"]
    reply = slack.command(SARAH_ID, f"resolve {oid} replayed\u202e the webhook\x00")
    assert not reply.body  # nothing is echoed before the role check
    slack.fake.wait_for(lambda f: f.answers())
    assert not has_hidden(slack.fake.of("response_url")[0]["text"])  # "Working on" echoes it
    note = [r for r in slack.demo.rows("Resolutions") if r["Order ID"] == oid][-1]["Notes"]
    assert note == "replayed the webhook"


def test_a_note_of_nothing_but_hidden_characters_is_refused_with_the_usage(triaged):
    from bot.errors import InputError

    oid = triaged.tickets_of(SARAH)[0]["Order ID"]
    with pytest.raises(InputError, match="Please add a resolution note"):
        triaged.run(SARAH, "resolve-ticket", order_id=oid, notes="\u202e\x00\u200f")
    assert not [r for r in triaged.rows("Resolutions") if r["Order ID"] == oid]


def ecm(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "ECM_DATA_DIR": str(data_dir)}
    env.pop("ECM_DATABASE_URL", None)
    return spawn.run([str(BIN), *args], capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.parametrize(
    "args",
    [
        ("chat", "--as", SARAH, "order \x1b]0;owned\x07"),
        ("chat", "--as", "\x1b]0;owned\x07@example.com", "my tickets"),
        ("context", "--role", "field", "--skill", "order-details", "--reason", "\x1b]0;x\x07"),
        ("context", "--role", "\x1b[2J\u202e", "--skill", "order-details"),
        ("chat", "--as", SARAH, "resolve ZZ\x9b31m000000 done"),
    ],
    ids=["order-id", "caller", "reason-code", "click-choice", "c1-csi"],
)
def test_the_cli_shows_terminal_control_characters_as_escapes(triaged, args):
    out = ecm(triaged.path, *args)
    assert out.returncode != 0
    for stream in (out.stdout, out.stderr):
        assert not any(c in stream for c in "\x1b\x07\x9b\u202e"), repr(stream)
    assert "Error" in out.stderr and "Traceback" not in out.stderr


def test_partner_text_with_escapes_is_shown_escaped_and_kept_as_json_escapes(triaged):
    import sqlite3

    oid = triaged.tickets_of(SARAH)[0]["Order ID"]
    hostile = "partner says \x1b]0;x\x07\u202e"  # warehouse data: the partner's own text
    con = sqlite3.connect(triaged.path / "warehouse.db")
    with con:
        con.execute(
            "INSERT INTO order_events (order_id, event_at, system, event_type, detail) "
            "VALUES (?, '2026-01-01T00:00:00Z', 'PARTNER', 'NOTE', ?)",
            [oid, hostile],
        )
    con.close()
    out = ecm(triaged.path, "chat", "--as", SARAH, "--json", f"order {oid}")
    assert out.returncode == 0, out.stderr
    assert not any(c in out.stdout for c in "\x1b\x07\u202e")
    details = [e["detail"] for e in json.loads(out.stdout)["timeline"]]
    assert hostile in details  # the same value, as JSON escapes
    plain = ecm(triaged.path, "chat", "--as", SARAH, f"order {oid}")
    assert not any(c in plain.stdout for c in "\x1b\x07\u202e")
    assert "partner says \\x1b]0;x\\x07\\u202e" in plain.stdout


def test_csv_export_neutralises_formulas_however_they_are_dressed(triaged, tmp_path):
    cells = {
        "plain@example.com": "=HYPERLINK(1)",
        "space@example.com": "  =1+2",
        "fullwidth@example.com": "\uff1dcmd|' /C calc'!A0",
        "newline@example.com": "\n=1+2",
        "nul@example.com": "ok\x00",
    }
    triaged.stores.workbook.append(
        "Agents", [{"email": email, "name": name} for email, name in cells.items()]
    )
    out = ecm(triaged.path, "sheets", "export", str(tmp_path / "export"))
    assert out.returncode == 0, out.stderr
    with (tmp_path / "export" / "Agents.csv").open(newline="", encoding="utf-8") as f:
        names = {r["email"]: r["name"] for r in csv.DictReader(f)}
    assert names["plain@example.com"] == "'=HYPERLINK(1)"
    assert names["space@example.com"] == "'  =1+2"
    assert names["fullwidth@example.com"].startswith("'\uff1d")
    assert names["newline@example.com"] == "'\n=1+2"
    assert names["nul@example.com"] == "ok"


def test_a_roster_name_edited_in_the_sheet_is_stored_without_hidden_characters(triaged):
    from fake_sheets import FakeSheets

    from bot.stores.sheets_grid import SheetsGrid
    from bot.stores.workbook import TAB_COLUMNS
    from bot.sync.sheets_sync import SheetSync

    with FakeSheets() as sheet:
        sheet.add_workbook_tabs()
        sync = SheetSync(triaged.stores, SheetsGrid.from_env(sheet.env(), backoff_factor=0.01))
        sync.run_once()
        row = sheet.find_row("Agents", "email", SARAH)
        name = TAB_COLUMNS["Agents"].index("name") + 1
        sheet.set_cell("Agents", row, name, "Sarah \u202eevil\u202c Thomas\x00")
        assert sync.run_once().pulled
    assert triaged.stores.workbook.find("Agents", SARAH)["name"] == "Sarah evil Thomas"
