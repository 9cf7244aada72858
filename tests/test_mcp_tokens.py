"""Personal MCP tokens on both engines: shown once and stored hashed, expiring, revocable,
created for others only by managers, following the roster; every refusal in the denial
log, every change in the audit log."""

from __future__ import annotations

from datetime import timedelta

import pytest
from click.testing import CliRunner
from conftest import MANAGER, SARAH

from bot.clock import now
from bot.errors import AccessDenied, InputError
from bot.mcp.tokens import PREFIX, TokenRefused, TokenStore, digest
from bot.runtime.roster import Roster
from bot.stores.workbook import RowUpdate


def member(demo, email):
    return Roster.load(demo.stores.workbook).resolve(email)


def denials(demo) -> list[dict]:
    return [d for d in demo.stores.state.denials() if d["skill"] == "mcp"]


def test_a_token_is_shown_once_stored_hashed_and_acts_as_its_member(on_engine):
    store = TokenStore(on_engine.stores)
    token, row = store.create(member(on_engine, MANAGER), SARAH)
    assert token.startswith(PREFIX) and len(token) > 40
    stored = on_engine.stores.db.query("SELECT * FROM mcp_tokens")
    assert len(stored) == 1 and stored[0]["token_hash"] == digest(token)
    assert token not in str(stored) and token not in str(on_engine.stores.state.audit_entries())
    assert (stored[0]["email"], stored[0]["role"], stored[0]["created_by"]) == (
        SARAH,
        "field",
        MANAGER,
    )
    assert stored[0]["expires_at"] > stored[0]["created_at"]
    who = store.check(token)
    assert who.member.email == SARAH and who.role == "field" and who.member.roles == ("field",)
    assert on_engine.stores.db.one("SELECT last_used_at FROM mcp_tokens")["last_used_at"]
    audit = [a for a in on_engine.stores.state.audit_entries() if a["action"] == "mcp_token_create"]
    assert len(audit) == 1 and audit[0]["actor"] == MANAGER and row["id"] in audit[0]["target"]


def test_bad_tokens_are_refused_clearly_and_recorded(on_engine):
    store = TokenStore(on_engine.stores)
    token, _ = store.create(member(on_engine, SARAH), SARAH)
    cases = {
        "": "no token was given",
        "not-a-token": "malformed",
        PREFIX + "x" * 43: "not known",
    }
    for given, why in cases.items():
        with pytest.raises(TokenRefused, match=why):
            store.check(given)
    assert [d["rule"] for d in denials(on_engine)] == [
        "no token was given",
        "the token is malformed",
        "the token is not known",
    ]
    # expired: the row's expiry is in the past (a given clock, no sleep)
    later = TokenStore(on_engine.stores, now=lambda: now() + timedelta(days=91))
    with pytest.raises(TokenRefused, match="expired"):
        later.check(token)
    assert denials(on_engine)[-1]["caller"] == SARAH
    assert store.check(token).member.email == SARAH  # still valid today


def test_revoked_tokens_and_deactivated_members_stop_working(on_engine):
    store = TokenStore(on_engine.stores)
    sarah, manager = member(on_engine, SARAH), member(on_engine, MANAGER)
    first, row = store.create(sarah, SARAH)
    second, _ = store.create(manager, SARAH)
    with pytest.raises(InputError):  # a field agent revokes only their own
        store.revoke(sarah, store.create(manager, MANAGER)[1]["id"])
    store.revoke(sarah, row["id"])
    with pytest.raises(TokenRefused, match="revoked"):
        store.check(first)
    with pytest.raises(InputError, match="already revoked"):
        store.revoke(manager, row["id"])
    assert store.check(second).member.email == SARAH
    on_engine.stores.workbook.update("Agents", [RowUpdate(SARAH, {"active": "FALSE"})])
    with pytest.raises(TokenRefused, match="no longer active"):
        store.check(second)
    on_engine.stores.workbook.update("Agents", [RowUpdate(SARAH, {"active": "TRUE"})])
    assert store.check(second).member.email == SARAH  # back on the roster, working again
    on_engine.stores.workbook.update("Agents", [RowUpdate(SARAH, {"role": "manager"})])
    with pytest.raises(TokenRefused, match="no longer on the ECM roster as field"):
        store.check(second)
    actions = [a["action"] for a in on_engine.stores.state.audit_entries()]
    assert actions.count("mcp_token_revoke") == 1


def test_only_managers_create_tokens_for_others(on_engine):
    store = TokenStore(on_engine.stores)
    with pytest.raises(AccessDenied, match="only ECM managers"):
        store.create(member(on_engine, SARAH), MANAGER)
    assert on_engine.stores.db.query("SELECT id FROM mcp_tokens") == []
    assert denials(on_engine)[-1]["resource"] == "mcp:create"
    with pytest.raises(Exception, match="not on the ECM roster"):
        store.create(member(on_engine, MANAGER), "nobody@example.com")
    listed = store.listing(member(on_engine, SARAH))
    assert listed == []
    store.create(member(on_engine, MANAGER), SARAH)
    store.create(member(on_engine, MANAGER), MANAGER)
    assert {r["email"] for r in store.listing(member(on_engine, SARAH))} == {SARAH}
    assert len(store.listing(member(on_engine, MANAGER))) == 2
    assert all("token_hash" not in r for r in store.listing(member(on_engine, MANAGER)))


def test_the_token_commands(triaged):
    from bot.cli import load_commands

    run = CliRunner().invoke
    cli = load_commands()
    made = run(cli, ["mcp", "token", "create", "--for", SARAH, "--days", "7", "--json"])
    assert made.exit_code == 0, made.output
    import json

    shown = json.loads(made.output)
    assert shown["token"].startswith(PREFIX) and "token_hash" not in shown
    refused = run(cli, ["mcp", "token", "create", "--for", MANAGER, "--as", SARAH])
    assert refused.exit_code == 1 and "only ECM managers" in refused.output
    assert "Traceback" not in refused.output
    listed = run(cli, ["mcp", "token", "list"])
    assert shown["id"] in listed.output and shown["token"] not in listed.output
    assert run(cli, ["mcp", "token", "revoke", shown["id"]]).exit_code == 0
    assert "revoked" in run(cli, ["mcp", "token", "list", "--for", SARAH]).output


def test_a_member_with_both_roles_gets_a_token_for_one_of_them(triaged):
    omar = "omar.lead@example.com"
    store = TokenStore(triaged.stores)
    manager = member(triaged, MANAGER)
    assert set(member(triaged, omar).roles) == {"manager", "field"}
    with pytest.raises(InputError, match="--role manager or --role field"):
        store.create(manager, omar)
    token, row = store.create(manager, omar, role="field")
    who = store.check(token)
    assert (who.role, who.member.roles, row["role"]) == ("field", ("field",), "field")


def test_the_doctor_lists_the_tokens_that_expire_soon_or_can_no_longer_be_used(
    on_engine, engine_env
):
    from bot.doctor import check_mcp

    assert check_mcp(engine_env) is None  # no token was ever made: nothing to say
    store = TokenStore(on_engine.stores)
    manager = member(on_engine, MANAGER)
    store.create(manager, MANAGER)
    ok = check_mcp(engine_env)
    assert ok is not None and ok.status == "ok" and ok.detail == "1 active token(s); writes off"
    _, soon = store.create(manager, SARAH, days=3)
    on_engine.stores.workbook.update("Agents", [RowUpdate(SARAH, {"active": "FALSE"})])
    warned = check_mcp({**engine_env, "ECM_MCP_ALLOW_WRITES": "1"})
    assert warned is not None and warned.status == "warning"
    assert "2 active token(s); writes on" in warned.detail
    assert f"expiring within 7 days: {soon['id']} ({SARAH})" in warned.detail
    assert f"refused on use: {soon['id']} ({SARAH} is no longer an active field)" in warned.detail
    assert "ecm-bot mcp token revoke" in warned.fix


def test_malformed_mcp_settings_are_named():
    from bot.settings_check import problems

    found = problems(
        {"ECM_MCP_TOKEN_DAYS": "999", "ECM_MCP_ALLOW_WRITES": "sure", "ECM_MCP_PUBLIC_URL": "x"}
    )
    assert "ECM_MCP_TOKEN_DAYS=999 is outside 1-366" in found
    assert "ECM_MCP_ALLOW_WRITES='sure' is not true or false" in found
    assert "ECM_MCP_PUBLIC_URL must be a https/http:// URL with a host" in found


def test_a_flood_of_junk_tokens_is_refused_but_recorded_at_most_so_many_a_minute(on_engine):
    from bot.mcp.tokens import DenialLimiter

    at = [now()]
    limiter = DenialLimiter(per_minute=3)
    store = TokenStore(on_engine.stores, now=lambda: at[0], limiter=limiter)
    good, _ = store.create(member(on_engine, MANAGER), SARAH)
    before = len(denials(on_engine))
    for _ in range(10):
        with pytest.raises(TokenRefused, match="not known"):
            store.check(PREFIX + "x" * 43)
    assert len(denials(on_engine)) == before + 3 and limiter.suppressed == 7
    on_engine.stores.workbook.update("Agents", [RowUpdate(SARAH, {"active": "FALSE"})])
    with pytest.raises(TokenRefused, match="no longer active"):
        store.check(good)  # a known token's holder: always recorded
    assert denials(on_engine)[-1]["caller"] == SARAH
    at[0] += timedelta(seconds=61)
    with pytest.raises(TokenRefused, match="malformed"):
        store.check("junk")
    summary, latest = denials(on_engine)[-2:]
    assert summary["rule"].startswith("7 more refusals of unknown or malformed tokens")
    assert latest["rule"] == "the token is malformed" and limiter.suppressed == 0
