"""The Slack app against an attacker or a clumsy client, over real HTTP (the real Bolt app on
127.0.0.1 and a fake Slack Web API): malformed requests never get a 500 or a traceback,
replays act once, and identity follows the roster from the next request on."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
from urllib.parse import quote

import pytest
from conftest import MANAGER, SARAH
from fake_slack import FakeSlack
from slack_harness import SECRET, serve_bot

from bot.stores.workbook import RowUpdate

MAYA, SARAH_ID, OMAR = "U0MAYA0001", "U0SARAH003", "U0OMAR0002"
FORM, JSON = "application/x-www-form-urlencoded", "application/json"


def signature(body: bytes, timestamp: str, secret: str = SECRET) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def post_raw(served, body: bytes, content_type: str, *, signed: bool, timestamp: str = ""):
    """POST raw bytes to /slack/events, signed like Slack (or with a wrong signature)."""
    ts = timestamp or str(int(time.time()))
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature(body, ts) if signed else signature(body, ts, "guess"),
    }
    request = urllib.request.Request(
        served.base + "/slack/events", data=body, method="POST", headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def no_traceback(capfd, caplog) -> None:
    err = capfd.readouterr().err
    assert "Traceback" not in err, err
    assert not [r for r in caplog.records if r.exc_info], [r.getMessage() for r in caplog.records]


def changes(demo) -> tuple:
    tabs = {t: demo.rows(t) for t in ("Agents", "Assignments", "Resolutions", "Escalations")}
    return tabs, len(demo.stores.state.audit_entries()), len(demo.stores.state.executions())


MALFORMED = {
    "bad-json": (b"payload=" + quote("{not json").encode(), FORM),
    "array": (b"payload=" + quote("[1, 2]").encode(), FORM),
    "null": (b"payload=null", FORM),
    "empty": (b"payload=", FORM),
    "binary": (b"payload=\xff\xfe\x00\x81{", FORM),
    "encoded-binary": (b"payload=%FF%FE%00", FORM),
    "json-array": (b"[1]", JSON),
    "json-null": (b"null", JSON),
    "json-bad": (b"{nope", JSON),
    "actions-not-a-list": (
        b"payload=" + quote(json.dumps({"type": "block_actions", "user": {"id": "U1"}})).encode(),
        FORM,
    ),
    "event-not-an-object": (
        json.dumps({"type": "event_callback", "event_id": "Ev1", "event": "x"}).encode(),
        JSON,
    ),
}


# -- never a 500 for a client's mistake ----------------------------------------------------
@pytest.mark.parametrize("signed", [True, False], ids=["signed", "unsigned"])
@pytest.mark.parametrize("shape", list(MALFORMED))
def test_a_malformed_body_is_a_4xx_with_one_log_line_and_no_traceback(
    slack, shape, signed, capfd, caplog
):
    caplog.set_level(logging.INFO)
    before = changes(slack.demo)
    body, content_type = MALFORMED[shape]
    status, _ = post_raw(slack, body, content_type, signed=signed)
    assert status == (400 if signed else 401)
    refused = [r for r in caplog.records if "refused a request" in r.getMessage()]
    assert len(refused) == 1 and refused[0].levelno == logging.WARNING
    no_traceback(capfd, caplog)
    assert changes(slack.demo) == before
    assert [m for m, _ in slack.fake.calls if m != "auth.test"] == []


@pytest.mark.parametrize(
    "timestamp", ["abc", "1e9", "-5", "\u00b2"], ids=["word", "float", "negative", "superscript"]
)
def test_a_non_numeric_timestamp_header_is_a_401_without_a_traceback(
    slack, timestamp, capfd, caplog
):
    status, _ = post_raw(slack, b"command=%2Fecm&text=help", FORM, signed=True, timestamp=timestamp)
    assert status == 401
    no_traceback(capfd, caplog)


def test_a_wrong_content_length_is_a_4xx_without_a_traceback(slack, capfd, caplog):
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", slack.httpd.server_port, timeout=10)
    conn.putrequest("POST", "/slack/events")
    conn.putheader("Content-Type", FORM)
    conn.putheader("Content-Length", "many")
    conn.endheaders()
    assert conn.getresponse().status in (400, 401)
    conn.close()
    no_traceback(capfd, caplog)


def test_slacks_unsigned_ssl_check_probe_still_gets_its_200_and_runs_nothing(slack, caplog):
    before = changes(slack.demo)
    status, _ = post_raw(slack, b"ssl_check=1&token=x", FORM, signed=False)
    assert status == 200 and changes(slack.demo) == before
    assert [m for m, _ in slack.fake.calls if m != "auth.test"] == []


def submit(served, user: str, view: dict):
    payload = {
        "type": "view_submission",
        "user": {"id": user},
        "team": {"id": "T1"},
        "api_app_id": "A1",
        "trigger_id": "trig-view",
        "view": {"id": f"V{time.time_ns()}", "hash": "h1", "type": "modal", **view},
    }
    return served.interact(payload)


@pytest.mark.parametrize(
    "view",
    [
        {"callback_id": "resolve_submit", "private_metadata": "{}"},
        {"callback_id": "escalate_submit", "private_metadata": "not json", "state": {}},
        {"callback_id": "override_submit", "private_metadata": "[1]", "state": {"values": 3}},
        {
            "callback_id": "resolve_submit",
            "private_metadata": "{{{",
            "state": {"values": {"notes": {"notes": {"value": "replayed the webhook"}}}},
        },
    ],
    ids=["no-state", "bad-metadata", "override-broken", "notes-but-bad-metadata"],
)
def test_a_view_with_no_state_or_foreign_metadata_gets_a_polite_form_error(
    slack, view, capfd, caplog
):
    user = MAYA if view["callback_id"] == "override_submit" else SARAH_ID
    before = changes(slack.demo)
    reply = submit(slack, user, view)
    assert reply.status == 200
    assert reply.json()["response_action"] == "errors"
    assert tuple(changes(slack.demo)[:2]) == before[:2]  # no ticket or audit change
    no_traceback(capfd, caplog)


# -- acts once -----------------------------------------------------------------------------
def test_a_signed_slash_command_replayed_within_the_window_runs_once(slack):
    from urllib.parse import urlencode

    form = urlencode(
        {
            "token": "x",
            "team_id": "T1",
            "channel_id": "COPS",
            "user_id": MAYA,
            "command": "/ecm",
            "text": "triage",
            "trigger_id": "trig-replayed",
            "response_url": slack.fake.response_url("replayed"),
        }
    )
    ts = int(time.time())
    first = slack.post(form, FORM, timestamp=ts)
    again = slack.post(form, FORM, timestamp=ts)  # the same signed bytes, a moment later
    assert first.status == again.status == 200
    slack.fake.wait_for(lambda f: f.answers())
    slack.command(SARAH_ID, "my-tickets")  # a later command proves the replay was processed
    slack.fake.wait_for(lambda f: len(f.answers()) >= 2)
    working = [p for p in slack.fake.of("response_url") if p["text"].startswith("⏳")]
    assert len(working) == 2  # the triage once, then my-tickets
    runs = [e for e in slack.demo.stores.state.executions() if e["skill"] == "triage-and-assign"]
    assert len(runs) == 2  # the fixture's triage and one from Slack


# -- identity follows the roster -----------------------------------------------------------
def set_member(demo, email: str, **cells) -> None:
    demo.stores.workbook.update("Agents", [RowUpdate(email, cells)])


def test_a_deactivated_field_agent_cannot_resolve_from_a_modal_opened_before(slack):
    demo = slack.demo
    oid = demo.tickets_of(SARAH)[0]["Order ID"]
    slack.dm(SARAH_ID, "my tickets")  # the identity is cached now
    slack.fake.wait_for(lambda f: f.of("chat.postMessage"))
    set_member(demo, SARAH, active="FALSE")
    before = changes(demo)[:2]
    reply = slack.submit(
        SARAH_ID,
        "resolve_submit",
        {"notes": {"notes": {"type": "plain_text_input", "value": "replayed the webhook"}}},
        {"channel": f"D{SARAH_ID}", "order_id": oid},
    )
    assert reply.json()["response_action"] == "errors"
    assert "not on the ECM roster" in json.dumps(reply.json())
    assert changes(demo)[:2] == before


def test_a_manager_demoted_to_field_cannot_run_triage_on_the_next_request(slack):
    demo = slack.demo
    slack.dm(MAYA, "dashboard")  # cached as a manager
    slack.fake.wait_for(lambda f: f.of("chat.postMessage"))
    set_member(demo, MANAGER, role="field")
    slack.mention(MAYA, "triage")
    post = slack.fake.wait_for(lambda f: f.of("chat.postEphemeral"))[0]
    assert post["text"].startswith("🙅 Triage is for ECM managers.")
    runs = [e for e in demo.stores.state.executions() if e["skill"] == "triage-and-assign"]
    assert len(runs) == 1  # only the fixture's


def test_a_roster_change_from_the_sheet_sync_counts_on_the_next_request(slack):
    from fake_sheets import FakeSheets

    from bot.stores.sheets_grid import SheetsGrid
    from bot.stores.workbook import TAB_COLUMNS
    from bot.sync.sheets_sync import SheetSync

    demo = slack.demo
    slack.dm(MAYA, "dashboard")  # cached as an active manager
    slack.fake.wait_for(lambda f: f.of("chat.postMessage"))
    with FakeSheets() as sheet:
        sheet.add_workbook_tabs()
        sync = SheetSync(demo.stores, SheetsGrid.from_env(sheet.env(), backoff_factor=0.01))
        sync.run_once()
        row = sheet.find_row("Agents", "email", MANAGER)
        sheet.set_cell("Agents", row, TAB_COLUMNS["Agents"].index("active") + 1, "FALSE")
        assert sync.run_once().pulled  # a manager's edit of the Agents tab, taken back
    slack.dm(MAYA, "dashboard")
    slack.fake.wait_for(
        lambda f: [p for p in f.of("chat.postMessage") if "not on the ECM roster" in p["text"]]
    )


def test_a_profile_email_never_outranks_a_pinned_slack_id(triaged, monkeypatch):
    for var in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET"):
        monkeypatch.delenv(var, raising=False)
    fake = FakeSlack(users={"UEVIL99": MANAGER}).start()  # a full member with Maya's email
    served = serve_bot(triaged.registry, triaged.path, fake)
    try:
        served.mention("UEVIL99", "triage")
        post = fake.wait_for(lambda f: f.of("chat.postEphemeral"))[0]
        assert "not on the ECM roster" in post["text"]
        runs = [e for e in triaged.stores.state.executions() if e["skill"] == "triage-and-assign"]
        assert len(runs) == 1
        assert triaged.stores.workbook.find("Agents", MANAGER)["Slack user ID"] == MAYA
    finally:
        served.stop()
        fake.stop()


OUTSIDERS = {
    "guest": {"is_restricted": True},
    "single-channel-guest": {"is_ultra_restricted": True},
    "stranger": {"is_stranger": True},
    "slack-connect": {"team_id": "TOTHERORG"},
    "unconfirmed-email": {"is_email_confirmed": False},
    "bot": {"is_bot": True},
}


@pytest.mark.parametrize("kind", list(OUTSIDERS))
def test_the_email_fallback_refuses_anyone_but_a_full_workspace_member(triaged, monkeypatch, kind):
    for var in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET"):
        monkeypatch.delenv(var, raising=False)
    set_member(triaged, SARAH, **{"Slack user ID": ""})
    user = {"profile": {"email": SARAH}, **OUTSIDERS[kind]}
    fake = FakeSlack(users={"UOUTSIDE1": user}).start()
    served = serve_bot(triaged.registry, triaged.path, fake)
    try:
        served.dm("UOUTSIDE1", "my tickets")
        post = fake.wait_for(lambda f: f.of("chat.postMessage"))[0]
        assert "not on the ECM roster" in post["text"]
        assert not triaged.stores.workbook.find("Agents", SARAH)["Slack user ID"]
    finally:
        served.stop()
        fake.stop()


def test_a_first_match_by_email_records_the_slack_id_with_an_audit_row(triaged, monkeypatch):
    for var in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET"):
        monkeypatch.delenv(var, raising=False)
    set_member(triaged, SARAH, **{"Slack user ID": ""})
    fake = FakeSlack(users={"UNEWSARAH": SARAH}).start()
    served = serve_bot(triaged.registry, triaged.path, fake)
    try:
        served.dm("UNEWSARAH", "my tickets")
        post = fake.wait_for(lambda f: f.of("chat.postMessage"))[0]
        assert "ticket_resolve" in json.dumps(post["blocks"])
        assert triaged.stores.workbook.find("Agents", SARAH)["Slack user ID"] == "UNEWSARAH"
        audit = triaged.stores.state.audit_entries(f"agents:{SARAH}")[-1]
        assert audit["action"] == "slack_id_linked" and "UNEWSARAH" in audit["after"]
        served.sc.identity._cache.clear()  # a fresh replica: found by ID, no users.info
        asked = len(fake.of("users.info"))
        served.dm("UNEWSARAH", "my tickets")
        fake.wait_for(lambda f: len(f.of("chat.postMessage")) >= 2)
        assert len(fake.of("users.info")) == asked
    finally:
        served.stop()
        fake.stop()
