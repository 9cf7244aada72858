"""`ecm-bot sheets` against the fake Sheets server, and without configuration."""

from __future__ import annotations

from click.testing import CliRunner

from bot.cli import load_commands


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
