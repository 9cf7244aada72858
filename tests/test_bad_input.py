"""Every bad input gets a clear message and changes no data."""

from __future__ import annotations

import pytest
from conftest import DINESH, MANAGER, SARAH

from bot.errors import AccessDenied, EcmError, InputError, NotOnRoster, UnsafeQuery
from bot.stores.warehouse import check_params, check_read_only


def snapshot(demo):
    tabs = {t: demo.rows(t) for t in ("Agents", "Assignments", "Resolutions", "Escalations")}
    return tabs, len(demo.stores.state.audit_entries())


def test_an_unknown_caller_is_told_they_are_not_on_the_roster(triaged):
    before = snapshot(triaged)
    with pytest.raises(NotOnRoster, match="not on the ECM roster"):
        triaged.chat("mallory@example.com", "run triage")
    assert snapshot(triaged) == before


def test_a_field_agent_asking_for_triage_is_refused_with_the_role_rule(demo):
    with pytest.raises(AccessDenied, match="Field NEVER computes priority scores"):
        demo.chat(SARAH, "run triage")
    assert demo.rows("Assignments") == []
    denial = demo.stores.state.denials()[-1]
    assert denial["caller"] == SARAH and denial["skill"] == "triage-and-assign"


def test_a_manager_asking_for_an_order_runbook_is_refused_with_the_role_rule(triaged):
    oid = triaged.tickets_of(SARAH)[0]["Order ID"]
    before = snapshot(triaged)
    with pytest.raises(AccessDenied, match="Manager NEVER loads runbooks"):
        triaged.chat(MANAGER, f"order {oid}")
    assert snapshot(triaged) == before


@pytest.mark.parametrize(
    "text",
    ["order AE136", "order ZZ!!", "order '; DROP TABLE orders; --", "order AE136ABC00' OR '1'='1"],
    ids=["short-id", "symbols", "sql-drop", "sql-or"],
)
def test_malformed_order_ids_and_sql_looking_text_are_refused(triaged, text):
    before = snapshot(triaged)
    with pytest.raises(EcmError):
        triaged.chat(DINESH, text)
    assert snapshot(triaged) == before


def test_an_unknown_but_well_formed_order_id_is_refused(triaged):
    before = snapshot(triaged)
    with pytest.raises(EcmError, match="not in your queue"):
        triaged.chat(SARAH, "order ZZ00000000")
    assert snapshot(triaged) == before


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM orders",
        "SELECT 1; DROP TABLE orders",
        "WITH x AS (SELECT 1) INSERT INTO orders SELECT * FROM x",
        "UPDATE orders SET status = 'COMPLETED'",
        "ATTACH DATABASE 'x.db' AS x",
        "PRAGMA writable_schema = 1",
    ],
    ids=["delete", "two-statements", "with-insert", "update", "attach", "pragma"],
)
def test_the_warehouse_runs_only_a_single_select(sql):
    with pytest.raises(UnsafeQuery):
        check_read_only(sql)


def test_a_select_with_comments_and_strings_passes_the_read_only_check():
    check_read_only(
        "-- header: DELETE in a comment\nSELECT 'DROP' AS word FROM orders WHERE a = :a"
    )


def test_query_parameters_must_match_exactly():
    with pytest.raises(InputError, match="takes parameters"):
        check_params(
            "SELECT * FROM orders WHERE order_id = :order_id", {"order_id": "x", "y": 1}, "q"
        )
