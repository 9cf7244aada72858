"""`ecm-bot sheets` against the fake Sheets server (through the settings), and without
configuration."""

from __future__ import annotations

from click.testing import CliRunner
from fake_sheets import FakeSheets

from bot.cli import load_commands
from bot.stores.workbook import TAB_COLUMNS


def test_sheets_init_without_configuration_says_what_to_set(monkeypatch):
    monkeypatch.delenv("GOOGLE_SHEETS_CREDENTIALS", raising=False)
    monkeypatch.delenv("ECM_SPREADSHEET_ID", raising=False)
    result = CliRunner().invoke(load_commands(), ["sheets", "init"])
    assert result.exit_code == 1
    assert "GOOGLE_SHEETS_CREDENTIALS" in result.output and "Traceback" not in result.output


def test_a_malformed_credentials_value_is_one_clear_line(monkeypatch):
    monkeypatch.setenv("GOOGLE_SHEETS_CREDENTIALS", "{not json")
    monkeypatch.setenv("ECM_SPREADSHEET_ID", "sheet123")
    result = CliRunner().invoke(load_commands(), ["sheets", "check"])
    assert result.exit_code == 1
    assert "GOOGLE_SHEETS_CREDENTIALS" in result.output and "Traceback" not in result.output


def test_sheets_check_and_init_through_the_settings(monkeypatch):
    with FakeSheets() as fake:
        fake.add_sheet("Agents", [list(TAB_COLUMNS["Agents"])])
        for name, value in fake.env().items():  # a key whose token_uri is the fake's
            monkeypatch.setenv(name, value)
        runner = CliRunner()
        result = runner.invoke(load_commands(), ["sheets", "check"])
        assert result.exit_code == 1 and "'Assignments' is missing" in result.output
        result = runner.invoke(load_commands(), ["sheets", "init"])
        assert result.exit_code == 0, result.output
        assert "Created tab 'Escalations'" in result.output
        result = runner.invoke(load_commands(), ["sheets", "check"])
        assert result.exit_code == 0 and "OK" in result.output
        assert fake.requests and all(r.account for r in fake.requests)  # every one authorised
