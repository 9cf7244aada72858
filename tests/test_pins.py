"""Overrides stick: a manager's assignment is pinned in the system of record, survives
re-triage, counts toward the agent's capacity, and ends when the manager unpins it or the
ticket ends. An agent who doesn't fit is assigned only once the manager confirms. Through the
chat path (and the CLI), on both engines where the state matters."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import MANAGER, SARAH, Demo

from bot.db.migrations import MIGRATIONS
from bot.errors import InputError, NeedsConfirmation, NotFound
from bot.stores.factory import open_stores
from bot.stores.pins import Pins
from bot.stores.workbook import RowUpdate
from bot.yaml_safe import parse_yaml

JAMES = "james.ops@example.com"  # works ops only
REASONS = parse_yaml(
    (Path(__file__).resolve().parents[1] / "shared" / "config" / "stuck-reasons.yaml").read_text()
)["reasons"]


def team(row: dict) -> str:
    return REASONS[row["Stuck Reason"]]["team"]


def sarahs(demo: Demo, fits_james: bool) -> str:
    """One of Sarah's open tickets that James's specializations cover (or don't)."""
    return next(r["Order ID"] for r in demo.tickets_of(SARAH) if (team(r) == "ops") == fits_james)


def row_of(demo: Demo, oid: str) -> dict:
    return next(r for r in demo.rows("Assignments") if r["Order ID"] == oid)


def state(demo: Demo) -> tuple:
    """Everything an assignment may write: the rows, the pins and the audit log."""
    return demo.rows("Assignments"), Pins(demo.stores.db).all(), demo.stores.state.audit_entries()


def set_capacity(demo: Demo, email: str, capacity: int) -> None:
    demo.stores.workbook.update("Agents", [RowUpdate(email, {"capacity": str(capacity)})])


def triage(demo: Demo) -> dict:
    return demo.run(MANAGER, "triage-and-assign").data


# -- the migration and the store -------------------------------------------------------------
def test_the_pins_migration_comes_right_after_m014():
    names = [n for n, _ in MIGRATIONS]
    assert names[names.index("m014_open_tickets_index") + 1] == "m015_assignment_pins"
    numbers = [int(n[1:4]) for n in names]
    assert numbers == sorted(numbers)


def test_pins_round_trip_on_each_engine(engine_env, tmp_path):
    pins = Pins(open_stores(tmp_path, env=engine_env).db)
    pins.pin("AE1", "James@X", by=MANAGER, reason="backlog", at="2026-12-01 10:00:00")
    pins.pin("AE1", "sarah@x", by=MANAGER, reason="back", at="2026-12-01 11:00:00")  # replaces
    pins.pin("AE2", "james@x", by=MANAGER, reason="", at="2026-12-01 11:00:00")
    assert pins.get("AE1").agent == "sarah@x" and pins.get("AE1").reason == "back"
    assert sorted(pins.all()) == ["AE1", "AE2"]
    assert not pins.unpin("AE1", "james@x")  # not his pin any more
    assert pins.unpin("AE1") and pins.get("AE1") is None and not pins.unpin("AE1")
    pins.drop(["AE2", "AE9"])
    assert pins.all() == {}


# -- confirmation ------------------------------------------------------------------------------
def test_assigning_outside_the_agents_specializations_asks_to_confirm_and_writes_nothing(
    on_engine,
):
    demo = on_engine
    oid = sarahs(demo, fits_james=False)
    before = state(demo)
    with pytest.raises(NeedsConfirmation) as refused:
        demo.chat(MANAGER, f"assign {oid} @james.ops partner desk backlog")
    text = str(refused.value)
    assert "@james.ops works ops, not " in text and "nothing was changed" in text
    assert f"`assign {oid} @james.ops confirm partner desk backlog`" in text
    assert state(demo) == before  # no row, pin or audit entry

    done = demo.chat(MANAGER, f"assign {oid} @james.ops confirm partner desk backlog").result
    assert (
        done.data["to"] == JAMES
        and done.data["pinned"]
        and done.data["reason"] == ("partner desk backlog")
    )
    assert row_of(demo, oid)["Assigned Agent"] == JAMES
    pin = Pins(demo.stores.db).get(oid)
    assert pin is not None and pin.agent == JAMES and pin.pinned_by == MANAGER
    (audit,) = [a for a in demo.stores.state.audit_entries(oid) if a["action"] == "assign"]
    assert "works ops, not" in audit["after"] and '"pinned": true' in audit["after"]


def test_assigning_over_capacity_asks_to_confirm_and_then_assigns(on_engine):
    demo = on_engine
    oid = sarahs(demo, fits_james=True)
    set_capacity(demo, JAMES, len(demo.tickets_of(JAMES)))
    before = state(demo)
    with pytest.raises(NeedsConfirmation, match=r"already has \d+ open tickets \(capacity \d+\)"):
        demo.chat(MANAGER, f"assign {oid} @james.ops Sarah is out today")
    assert state(demo) == before
    demo.chat(MANAGER, f"assign {oid} @james.ops --confirm Sarah is out today")
    assert row_of(demo, oid)["Assigned Agent"] == JAMES


def test_an_agent_who_fits_and_has_room_is_assigned_at_once_and_pinned(on_engine):
    demo = on_engine
    oid = sarahs(demo, fits_james=True)
    result = demo.chat(MANAGER, f"assign {oid} @james.ops partner desk backlog").result
    assert result.data["confirmed"] == [] and Pins(demo.stores.db).get(oid).agent == JAMES


def test_a_confirm_without_a_reason_still_asks_for_one(triaged):
    oid = sarahs(triaged, fits_james=False)
    with pytest.raises(InputError, match="reason"):
        triaged.chat(MANAGER, f"assign {oid} @james.ops confirm")


# -- overrides stick -----------------------------------------------------------------------
def test_a_pinned_override_survives_every_re_triage(on_engine):
    demo = on_engine
    oid = sarahs(demo, fits_james=False)  # triage alone would give it back to a payments agent
    demo.chat(MANAGER, f"assign {oid} @james.ops confirm partner desk backlog")
    for _ in range(3):
        data = triage(demo)
        assert row_of(demo, oid)["Assigned Agent"] == JAMES
        (mine,) = [t for a in data["agents"] if a["agent"] == JAMES for t in a["tickets"]
                   if t["order_id"] == oid]  # fmt: skip
        assert mine["pinned"] and mine["change"] == "kept"
        assert data["counts"]["pinned"] == 1
    assert Pins(demo.stores.db).get(oid) is not None


def test_a_pinned_ticket_counts_toward_the_agents_capacity(on_engine):
    demo = on_engine
    oid = sarahs(demo, fits_james=False)
    demo.chat(MANAGER, f"assign {oid} @james.ops confirm partner desk backlog")
    set_capacity(demo, JAMES, 1)
    triage(demo)
    assert [r["Order ID"] for r in demo.tickets_of(JAMES)] == [oid]  # the pin took his one place


def test_unpin_lets_the_next_triage_place_the_ticket_again(on_engine):
    demo = on_engine
    oid = sarahs(demo, fits_james=False)
    demo.chat(MANAGER, f"assign {oid} @james.ops confirm partner desk backlog")
    reply = demo.chat(MANAGER, f"unpin {oid} Sarah is back")
    assert reply.result.data["unpinned"] and reply.result.data["agent"] == JAMES
    assert Pins(demo.stores.db).get(oid) is None
    audit = demo.stores.state.audit_entries(oid)[-1]
    assert audit["action"] == "unpin" and audit["actor"] == MANAGER and JAMES in audit["before"]
    triage(demo)
    assert row_of(demo, oid)["Assigned Agent"] != JAMES  # outside his specializations: moved


@pytest.mark.parametrize("verb", ["resolve", "escalate"])
def test_the_pin_ends_when_the_field_ends_the_ticket(on_engine, verb):
    demo = on_engine
    oid = sarahs(demo, fits_james=True)
    demo.chat(MANAGER, f"assign {oid} @james.ops partner desk backlog")
    demo.chat(JAMES, f"{verb} {oid} partner confirmed the payout by phone")
    with pytest.raises(NotFound, match="isn't pinned any more"):
        demo.chat(MANAGER, f"unpin {oid}")
    data = triage(demo)
    assert Pins(demo.stores.db).all() == {} and data["counts"]["pinned"] == 0
    last = [a for a in demo.stores.state.audit_entries() if a["action"] == "triage"][-1]
    assert oid in last["after"]  # the run that removed the pin says so


def test_the_pin_ends_when_the_order_is_no_longer_stuck(triaged):
    oid = sarahs(triaged, fits_james=True)
    triaged.chat(MANAGER, f"assign {oid} @james.ops partner desk backlog")
    import sqlite3

    with sqlite3.connect(triaged.path / "warehouse.db") as conn:
        conn.execute("DELETE FROM orders WHERE order_id = ?", [oid])
    triage(triaged)
    assert row_of(triaged, oid)["Status"] == "CLOSED" and Pins(triaged.stores.db).all() == {}


def test_a_dry_run_honours_pins_and_removes_none(triaged):
    oid = sarahs(triaged, fits_james=True)
    triaged.chat(MANAGER, f"assign {oid} @james.ops partner desk backlog")
    triaged.chat(JAMES, f"resolve {oid} partner confirmed the payout by phone")
    triaged.run(MANAGER, "triage-and-assign", dry_run=True)
    assert Pins(triaged.stores.db).get(oid) is not None  # only a real run removes it


# -- bad input -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "error", "says"),
    [
        ("unpin ZZ000XXX00", NotFound, "is not on the Assignments tab"),
        ("unpin {oid}", NotFound, "isn't pinned, so there is nothing to unpin"),
        ("unpin XX-123", InputError, "order ID"),
        ("assign ZZ000XXX00 @james.ops confirm backlog", NotFound, "Assignments tab"),
    ],
    ids=["unknown-order", "not-pinned", "bad-id", "assign-unknown-order"],
)
def test_bad_pin_requests_are_refused_politely_and_change_nothing(triaged, text, error, says):
    oid = triaged.tickets_of(SARAH)[0]["Order ID"]
    before = state(triaged)
    with pytest.raises(error) as refused:
        triaged.chat(MANAGER, text.format(oid=oid))
    assert says.lower() in str(refused.value).lower()
    assert "Traceback" not in str(refused.value)
    assert state(triaged) == before


def test_a_field_agent_cannot_unpin(triaged):
    from bot.errors import AccessDenied

    with pytest.raises(AccessDenied):
        triaged.chat(SARAH, f"unpin {triaged.tickets_of(SARAH)[0]['Order ID']}")


# -- the command line --------------------------------------------------------------------------
def test_the_cli_refuses_an_unfitting_agent_says_how_to_confirm_then_confirms(triaged):
    from bot.cli import load_commands

    oid = sarahs(triaged, fits_james=False)
    group = load_commands()
    ask = ["chat", "--as", MANAGER, f"assign {oid} @james.ops partner desk backlog"]
    refused = CliRunner().invoke(group, ask)
    assert refused.exit_code != 0
    assert f"assign {oid} @james.ops confirm partner desk backlog" in refused.output
    assert row_of(triaged, oid)["Assigned Agent"] == SARAH

    yes = ["chat", "--as", MANAGER, f"assign {oid} @james.ops confirm partner desk backlog"]
    done = CliRunner().invoke(group, yes)
    assert done.exit_code == 0, done.output
    assert f"unpin {oid}" in done.output and "📌 Pinned" in done.output
    assert row_of(triaged, oid)["Assigned Agent"] == JAMES

    gone = CliRunner().invoke(group, ["chat", "--as", MANAGER, f"unpin {oid}"])
    assert gone.exit_code == 0 and "no longer pinned" in gone.output
    again = CliRunner().invoke(group, ["chat", "--as", MANAGER, f"unpin {oid}"])
    assert again.exit_code != 0 and "isn't pinned" in again.output
