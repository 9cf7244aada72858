"""Row rules: a field agent sees and changes only their own workbook rows; a manager is free."""

from __future__ import annotations

import copy

import pytest
from helpers_skills import RecordingSink

from bot.access.guard import Guard
from bot.access.rows import ScopedWorkbook
from bot.errors import AccessDenied
from bot.skills.registry import Registry
from bot.stores.workbook import TAB_COLUMNS, TAB_KEYS, AnyOf, RowUpdate

ALICE, BOB = "alice@aspora.com", "bob@aspora.com"


class MemoryWorkbook:
    """A Workbook kept in dicts: whole-tab reads, appends, and updates by key that apply only
    when the row still holds every expected value."""

    def __init__(self, tabs: dict[str, list[dict]]):
        self.tabs = {tab: [self._full(tab, r) for r in tabs.get(tab, [])] for tab in TAB_COLUMNS}

    @staticmethod
    def _full(tab: str, row: dict) -> dict:
        return {col: row.get(col, "") for col in TAB_COLUMNS[tab]}

    def read(self, tab: str, where: dict | None = None) -> list[dict]:
        def norm(value) -> str:
            return str(value or "").strip().lower()

        wanted = {
            k: {norm(x) for x in v} if isinstance(v, AnyOf) else {norm(v)}
            for k, v in (where or {}).items()
        }
        rows = [r for r in self.tabs[tab] if all(norm(r.get(k)) in vs for k, vs in wanted.items())]
        return copy.deepcopy(rows)

    def append(self, tab: str, rows: list[dict]) -> None:
        self.tabs[tab].extend(self._full(tab, r) for r in rows)

    def update(self, tab: str, updates: list[RowUpdate]) -> list[str]:
        key, failed = TAB_KEYS[tab], []
        for up in updates:
            row = next((r for r in self.tabs[tab] if str(r[key]) == str(up.key)), None)
            if row is None or any(str(row.get(k)) != str(v) for k, v in up.expect.items()):
                failed.append(up.key)
                continue
            row.update(up.changes)
        return failed


def _assignment(order_id: str, agent: str, status: str) -> dict:
    return {"Order ID": order_id, "Priority": "P2", "Assigned Agent": agent, "Status": status}


def sample_tabs() -> dict[str, list[dict]]:
    return {
        "Agents": [
            {"email": ALICE, "name": "Alice", "role": "field", "active": "TRUE"},
            {"email": BOB, "name": "Bob", "role": "field", "active": "TRUE"},
        ],
        "Assignments": [
            _assignment("AE10000001", ALICE, "ASSIGNED"),
            _assignment("AE10000002", ALICE, "IN_PROGRESS"),
            _assignment("GB20000001", BOB, "ASSIGNED"),
        ],
        "Resolutions": [{"Order ID": "GB20000009", "Agent": BOB, "Notes": "refunded"}],
        "Escalations": [
            {"Order ID": "AE10000003", "From": ALICE, "Reason": "partner down"},
            {"Order ID": "GB20000002", "From": BOB, "Reason": "compliance"},
        ],
    }


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry.load()


@pytest.fixture
def sink() -> RecordingSink:
    return RecordingSink()


@pytest.fixture
def book() -> MemoryWorkbook:
    return MemoryWorkbook(sample_tabs())


@pytest.fixture
def alice(registry, book, sink) -> ScopedWorkbook:
    guard = Guard(registry.get("order-details"), caller="U_ALICE", denials=sink)
    return ScopedWorkbook(book, guard, ALICE)


@pytest.fixture
def manager(registry, book, sink) -> ScopedWorkbook:
    guard = Guard(registry.get("triage-and-assign"), caller="U_MANAGER", denials=sink)
    return ScopedWorkbook(book, guard, "manager@aspora.com")


def _status(book: MemoryWorkbook, order_id: str) -> str:
    return next(r["Status"] for r in book.tabs["Assignments"] if r["Order ID"] == order_id)


# -- field: Assignments ---------------------------------------------------------------------


def test_a_field_agent_reads_only_their_own_assignments(alice):
    assert [r["Order ID"] for r in alice.read("Assignments")] == ["AE10000001", "AE10000002"]


def test_own_rows_are_matched_whatever_the_email_case(registry, book):
    guard = Guard(registry.get("my-tickets"))
    shouting = ScopedWorkbook(book, guard, " Alice@Aspora.COM ")

    assert len(shouting.read("Assignments")) == 2


def test_an_agent_with_no_rows_sees_an_empty_queue(registry, book):
    nobody = ScopedWorkbook(book, Guard(registry.get("my-tickets")), "carol@aspora.com")

    assert nobody.read("Assignments") == []


@pytest.mark.parametrize("status", ["IN_PROGRESS", "RESOLVED", "ESCALATED"])
def test_a_field_agent_may_move_their_own_ticket_forward(alice, book, sink, status):
    failed = alice.update("Assignments", [RowUpdate("AE10000001", {"Status": status})])

    assert failed == []
    assert _status(book, "AE10000001") == status
    assert sink.records == []


@pytest.mark.parametrize(
    ("order_id", "status"),
    [
        pytest.param("AE10000002", "ASSIGNED", id="back-to-assigned"),
        pytest.param("AE10000001", "CLOSED", id="closed-is-for-triage"),
        pytest.param("AE10000001", "DONE", id="unknown-status"),
    ],
)
def test_a_field_agent_may_not_set_other_statuses_on_their_own_ticket(
    alice, book, sink, order_id, status
):
    before = copy.deepcopy(book.tabs)

    with pytest.raises(AccessDenied, match="status may only be set"):
        alice.update("Assignments", [RowUpdate(order_id, {"Status": status})])

    assert book.tabs == before
    assert len(sink.records) == 1


def test_a_field_agent_may_edit_other_cells_of_an_assigned_ticket(alice, book):
    alice.update("Assignments", [RowUpdate("AE10000001", {"Updated At": "2025-01-01 10:00"})])

    assert book.tabs["Assignments"][0]["Updated At"] == "2025-01-01 10:00"
    assert _status(book, "AE10000001") == "ASSIGNED"


def test_a_field_agent_may_not_update_another_agents_ticket(alice, book, sink):
    before = copy.deepcopy(book.tabs)

    with pytest.raises(AccessDenied, match="own rows"):
        alice.update("Assignments", [RowUpdate("GB20000001", {"Status": "IN_PROGRESS"})])

    assert book.tabs == before
    assert sink.records[0]["resource"] == "sheet:Assignments:GB20000001"


def test_a_field_agent_may_not_hand_their_ticket_to_someone_else(alice, book):
    before = copy.deepcopy(book.tabs)

    with pytest.raises(AccessDenied):
        alice.update("Assignments", [RowUpdate("AE10000001", {"Assigned Agent": BOB})])

    assert book.tabs == before


def test_a_batch_with_one_refused_update_changes_nothing(alice, book):
    before = copy.deepcopy(book.tabs)
    batch = [
        RowUpdate("AE10000001", {"Status": "IN_PROGRESS"}),
        RowUpdate("GB20000001", {"Status": "RESOLVED"}),
    ]

    with pytest.raises(AccessDenied):
        alice.update("Assignments", batch)

    assert book.tabs == before


def test_updating_a_row_that_does_not_exist_is_refused(alice, book):
    before = copy.deepcopy(book.tabs)

    with pytest.raises(AccessDenied, match="no such row"):
        alice.update("Assignments", [RowUpdate("XX99999999", {"Status": "RESOLVED"})])

    assert book.tabs == before


def test_a_stale_expectation_leaves_the_row_alone_and_is_reported(alice, book):
    update = RowUpdate("AE10000002", {"Status": "RESOLVED"}, expect={"Status": "ASSIGNED"})

    assert alice.update("Assignments", [update]) == ["AE10000002"]
    assert _status(book, "AE10000002") == "IN_PROGRESS"


# -- field: Resolutions, Escalations, Agents ------------------------------------------------


def test_a_field_agent_reads_every_resolution(alice):
    assert [r["Agent"] for r in alice.read("Resolutions")] == [BOB]


def test_a_field_agent_may_record_their_own_resolution(alice, book):
    alice.append("Resolutions", [{"Order ID": "AE10000001", "Agent": ALICE, "Notes": "replayed"}])

    assert [r["Agent"] for r in book.tabs["Resolutions"]] == [BOB, ALICE]


@pytest.mark.parametrize(
    "rows",
    [
        pytest.param([{"Order ID": "AE10000001", "Agent": BOB, "Notes": "x"}], id="as-bob"),
        pytest.param([{"Order ID": "AE10000001", "Notes": "x"}], id="without-agent"),
        pytest.param(
            [
                {"Order ID": "AE10000001", "Agent": ALICE, "Notes": "x"},
                {"Order ID": "GB20000001", "Agent": BOB, "Notes": "y"},
            ],
            id="own-row-then-bobs-row",
        ),
    ],
)
def test_a_field_agent_may_not_record_a_resolution_for_someone_else(alice, book, sink, rows):
    before = copy.deepcopy(book.tabs)

    with pytest.raises(AccessDenied, match="own rows"):
        alice.append("Resolutions", rows)

    assert book.tabs == before
    assert len(sink.records) == 1


def test_a_field_agent_reads_only_their_own_escalations(alice):
    assert [r["Order ID"] for r in alice.read("Escalations")] == ["AE10000003"]


def test_a_field_agent_reads_the_whole_roster(alice):
    assert [r["email"] for r in alice.read("Agents")] == [ALICE, BOB]


@pytest.mark.parametrize(
    "write",
    [
        pytest.param(
            lambda wb: wb.append("Agents", [{"email": ALICE, "capacity": "99"}]), id="append"
        ),
        pytest.param(
            lambda wb: wb.update("Agents", [RowUpdate(ALICE, {"capacity": "99"})]),
            id="update-own-row",
        ),
        pytest.param(
            lambda wb: wb.update("Agents", [RowUpdate(BOB, {"active": "FALSE"})]),
            id="update-other-row",
        ),
    ],
)
def test_a_field_agent_may_not_write_the_roster(alice, book, sink, write):
    before = copy.deepcopy(book.tabs)

    with pytest.raises(AccessDenied, match="may not write"):
        write(alice)

    assert book.tabs == before
    assert sink.records[0]["resource"].startswith("sheet:Agents")


def test_a_row_refusal_is_recorded_with_caller_skill_and_role(alice, sink):
    with pytest.raises(AccessDenied):
        alice.update("Assignments", [RowUpdate("GB20000001", {"Status": "RESOLVED"})])

    assert len(sink.records) == 1
    record = sink.records[0]
    assert (record["caller"], record["skill"], record["role"]) == (
        "U_ALICE",
        "order-details",
        "field",
    )
    assert record["rule"]


# -- manager --------------------------------------------------------------------------------


def test_a_manager_reads_every_row(manager):
    assert len(manager.read("Assignments")) == 3
    assert len(manager.read("Escalations")) == 2


def test_a_manager_may_update_any_agents_ticket_to_any_status(manager, book, sink):
    manager.update(
        "Assignments",
        [
            RowUpdate("GB20000001", {"Status": "CLOSED"}),
            RowUpdate("AE10000001", {"Assigned Agent": BOB, "Status": "ASSIGNED"}),
        ],
    )

    assert _status(book, "GB20000001") == "CLOSED"
    assert book.tabs["Assignments"][0]["Assigned Agent"] == BOB
    assert sink.records == []


def test_a_manager_may_append_assignments_and_escalations_for_anyone(manager, book):
    manager.append("Assignments", [_assignment("IN30000001", BOB, "ASSIGNED")])
    manager.append("Escalations", [{"Order ID": "IN30000001", "From": BOB, "Reason": "P1 > 24h"}])

    assert book.tabs["Assignments"][-1]["Order ID"] == "IN30000001"
    assert book.tabs["Escalations"][-1]["From"] == BOB
