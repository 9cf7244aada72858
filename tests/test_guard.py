"""The guard: DEC-011 hard rules, allow/block lists, escape attempts, tools, and the denial log."""

from __future__ import annotations

import os

import pytest
from helpers_skills import RecordingSink, copy_skill, edit_config, make_project

from bot.access.guard import Guard
from bot.errors import AccessDenied
from bot.paths import PROJECT_ROOT, QUERIES_DIR, RUNBOOKS_DIR, SKILLS_DIR
from bot.skills.loader import load_skill
from bot.skills.registry import Registry

RUNBOOK = RUNBOOKS_DIR / "LULU_NOT_CONFIRMED.md"
PENDING_LIST = QUERIES_DIR / "ecm-pending-list.sql"
UP = "../../.."  # from a skill folder to the project root


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry.load()


@pytest.fixture
def sink() -> RecordingSink:
    return RecordingSink()


def guard_for(registry, name, sink=None, caller="U_TEST") -> Guard:
    return Guard(registry.get(name), caller=caller, denials=sink)


# -- DEC-011 hard rules ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "ref",
    [
        pytest.param(str(RUNBOOK), id="absolute"),
        pytest.param(f"{UP}/shared/runbooks/LULU_NOT_CONFIRMED.md", id="relative-to-skill"),
    ],
)
def test_a_manager_skill_never_loads_a_runbook(registry, ref):
    with pytest.raises(AccessDenied) as caught:
        guard_for(registry, "triage-and-assign").read_text(ref)

    assert "Manager NEVER loads runbooks" in str(caught.value)


@pytest.mark.parametrize("name", ["triage-and-assign", "run-ecm", "pattern-intelligence"])
def test_no_manager_skill_loads_any_runbook(registry, name):
    guard = guard_for(registry, name)
    for runbook in sorted(RUNBOOKS_DIR.glob("*.md")):
        with pytest.raises(AccessDenied, match="DEC-011"):
            guard.check_resource(runbook)


def test_a_project_relative_runbook_path_never_gives_a_manager_runbook_text(registry):
    guard = guard_for(registry, "triage-and-assign")

    with pytest.raises(AccessDenied):
        guard.read_text("shared/runbooks/LULU_NOT_CONFIRMED.md")


def test_a_manager_skill_never_loads_a_field_skill(registry):
    with pytest.raises(AccessDenied) as caught:
        guard_for(registry, "triage-and-assign").read_text(SKILLS_DIR / "field/my-tickets/SKILL.md")

    assert "DEC-011" in str(caught.value)
    assert "field skill" in str(caught.value)


def test_a_field_skill_never_loads_the_pending_list_query(registry):
    with pytest.raises(AccessDenied) as caught:
        guard_for(registry, "my-tickets").read_text(PENDING_LIST)

    assert "DEC-011" in str(caught.value)
    assert "pending list" in str(caught.value)


def test_a_field_skill_never_loads_a_manager_skill(registry):
    with pytest.raises(AccessDenied) as caught:
        guard_for(registry, "order-details").read_text(
            SKILLS_DIR / "manager/triage-and-assign/SKILL.md"
        )

    assert "DEC-011" in str(caught.value)
    assert "manager skill" in str(caught.value)


def _loosen_manager(data: dict) -> None:
    data["permissions"]["shared_resources"] += ["../../../shared/runbooks/", "../../field/"]
    data["permissions"]["blocked_resources"] = []


def _loosen_field(data: dict) -> None:
    data["permissions"]["shared_resources"] += [
        "../../../shared/queries/ecm-pending-list.sql",
        "../../manager/",
    ]
    data["permissions"]["blocked_resources"] = []


@pytest.mark.parametrize(
    ("role", "name", "loosen", "target"),
    [
        pytest.param(
            "manager",
            "triage-and-assign",
            _loosen_manager,
            "shared/runbooks/LULU_NOT_CONFIRMED.md",
            id="manager-allow-listing-runbooks",
        ),
        pytest.param(
            "manager",
            "triage-and-assign",
            _loosen_manager,
            "skills/field/my-tickets/SKILL.md",
            id="manager-allow-listing-field-skills",
        ),
        pytest.param(
            "field",
            "order-details",
            _loosen_field,
            "shared/queries/ecm-pending-list.sql",
            id="field-allow-listing-pending-list",
        ),
        pytest.param(
            "field",
            "order-details",
            _loosen_field,
            "skills/manager/run-ecm/SKILL.md",
            id="field-allow-listing-manager-skills",
        ),
    ],
)
def test_a_config_cannot_loosen_the_hard_rules(tmp_path, role, name, loosen, target):
    root = make_project(tmp_path)
    folder = root / "skills" / role / name
    edit_config(folder, loosen)
    guard = Guard(load_skill(folder), root=root)

    with pytest.raises(AccessDenied, match="DEC-011"):
        guard.read_text(root / target)


def test_a_copied_project_still_allows_what_the_config_allows(tmp_path):
    # Control for the test above: the throwaway project itself is not what refuses.
    root = make_project(tmp_path)
    guard = Guard(load_skill(root / "skills/field/order-details"), root=root)

    assert "LULU" in guard.read_text(root / "shared/runbooks/LULU_NOT_CONFIRMED.md")


# -- allow-list and block-list --------------------------------------------------------------


def test_order_details_may_load_a_runbook(registry):
    assert guard_for(registry, "order-details").read_text(RUNBOOK) == RUNBOOK.read_text("utf-8")


def test_my_tickets_may_not_load_a_runbook_it_does_not_list(registry):
    with pytest.raises(AccessDenied, match="allow-list"):
        guard_for(registry, "my-tickets").read_text(RUNBOOK)


@pytest.mark.parametrize(
    ("name", "ref"),
    [
        pytest.param("my-tickets", QUERIES_DIR / "ecm-orders-live-status.sql", id="listed-query"),
        pytest.param("my-tickets", SKILLS_DIR / "field/my-tickets/SKILL.md", id="own-skill-md"),
        pytest.param("my-tickets", SKILLS_DIR / "field/CHARTER.md", id="own-role-charter"),
        pytest.param("run-ecm", PROJECT_ROOT / "shared/guardrails.md", id="guardrails"),
        pytest.param("triage-and-assign", "DECISIONS.md", id="own-folder-relative-file"),
    ],
)
def test_a_skill_may_load_its_listed_and_always_allowed_files(registry, name, ref):
    path = guard_for(registry, name).check_resource(ref)

    assert path.is_file()


@pytest.mark.parametrize(
    ("name", "ref"),
    [
        pytest.param("my-tickets", QUERIES_DIR / "ecm-order-timeline.sql", id="unlisted-query"),
        pytest.param("run-ecm", PROJECT_ROOT / "pyproject.toml", id="project-file"),
        pytest.param("run-ecm", PROJECT_ROOT / "bot/paths.py", id="source-code"),
        pytest.param(
            "order-details",
            SKILLS_DIR / "field/my-tickets/SKILL.md",
            id="sibling-skill-of-same-role",
        ),
    ],
)
def test_a_skill_may_not_load_anything_else(registry, name, ref):
    with pytest.raises(AccessDenied, match="allow-list"):
        guard_for(registry, name).check_resource(ref)


@pytest.mark.parametrize(
    ("name", "ref"),
    [
        pytest.param("my-tickets", SKILLS_DIR / "manager/CHARTER.md", id="field-reads-manager"),
        pytest.param("run-ecm", SKILLS_DIR / "field/CHARTER.md", id="manager-reads-field"),
    ],
)
def test_a_skill_may_not_load_the_other_roles_charter(registry, name, ref):
    with pytest.raises(AccessDenied, match="DEC-011"):
        guard_for(registry, name).check_resource(ref)


def test_blocked_resources_win_over_the_allow_list(tmp_path):
    root = make_project(tmp_path)
    folder = root / "skills/field/order-details"
    edit_config(
        folder,
        lambda d: d["permissions"]["blocked_resources"].append(
            "../../../shared/runbooks/LULU_NOT_CONFIRMED.md"
        ),
    )
    guard = Guard(load_skill(folder), root=root)

    with pytest.raises(AccessDenied, match="blocked_resources"):
        guard.read_text(root / "shared/runbooks/LULU_NOT_CONFIRMED.md")
    assert guard.read_text(root / "shared/runbooks/FALCON_REJECTED.md")


# -- escape attempts ------------------------------------------------------------------------

OUTSIDE, DEC, CONTROL = "outside the project", "DEC-011", "control characters"

# (skill, reference, words of the rule that must refuse it)
ESCAPES = [
    pytest.param(
        "triage-and-assign", "../../../../etc/passwd", OUTSIDE, id="dotdot-out-of-the-project"
    ),
    pytest.param("order-details", "/etc/passwd", OUTSIDE, id="absolute-outside-the-project"),
    pytest.param(
        "triage-and-assign",
        "%2e%2e/%2e%2e/%2e%2e/shared/runbooks/LULU_NOT_CONFIRMED.md",
        DEC,
        id="url-encoded-dots-to-a-runbook",
    ),
    pytest.param(
        "triage-and-assign",
        "%2e%2e%2f%2e%2e%2f%2e%2e%2fshared%2frunbooks%2fLULU_NOT_CONFIRMED.md",
        DEC,
        id="url-encoded-slashes-to-a-runbook",
    ),
    pytest.param(
        "triage-and-assign",
        "%252e%252e%252f%252e%252e%252f%252e%252e%252fshared/runbooks/LULU_NOT_CONFIRMED.md",
        DEC,
        id="double-encoded-to-a-runbook",
    ),
    pytest.param(
        "order-details",
        "%25252525252e%25252525252e%25252525252fetc/passwd",
        "encoded more",
        id="encoded-too-many-times",
    ),
    pytest.param(
        "triage-and-assign",
        "..\\..\\..\\shared\\runbooks\\LULU_NOT_CONFIRMED.md",
        DEC,
        id="backslashes-to-a-runbook",
    ),
    pytest.param(
        "my-tickets",
        "..\\..\\..\\shared\\queries\\ecm-pending-list.sql",
        DEC,
        id="backslashes-to-the-pending-list",
    ),
    pytest.param(
        "order-details",
        "../../../shared/runbooks/LULU_NOT_CONFIRMED.md\x00.sql",
        CONTROL,
        id="nul-byte",
    ),
    pytest.param(
        "order-details",
        "../../../shared/runbooks/LULU_NOT_CONFIRMED.md%00.sql",
        CONTROL,
        id="url-encoded-nul-byte",
    ),
    pytest.param(
        "order-details", "../../../shared/runbooks/\nLULU_NOT_CONFIRMED.md", CONTROL, id="newline"
    ),
    pytest.param("order-details", "", "empty", id="empty-string"),
    pytest.param(
        "triage-and-assign",
        "../../../shared/runbooks/../runbooks/LULU_NOT_CONFIRMED.md",
        DEC,
        id="dotdot-back-into-runbooks",
    ),
    pytest.param(
        "triage-and-assign",
        "../../../shared/queries/../runbooks/LULU_NOT_CONFIRMED.md",
        DEC,
        id="through-an-allowed-folder-into-runbooks",
    ),
    pytest.param(
        "triage-and-assign",
        f"{SKILLS_DIR}/manager/triage-and-assign/../../../shared/runbooks/LULU_NOT_CONFIRMED.md",
        DEC,
        id="absolute-through-own-folder-into-runbooks",
    ),
    pytest.param(
        "my-tickets",
        "./../../../shared/./queries//ecm-pending-list.sql",
        DEC,
        id="dot-segments-to-the-pending-list",
    ),
    pytest.param(
        "my-tickets",
        "../../manager/../manager/run-ecm/SKILL.md",
        DEC,
        id="dotdot-into-a-manager-skill",
    ),
]


@pytest.mark.parametrize(("name", "ref", "why"), ESCAPES)
def test_every_escape_attempt_is_refused_and_logged(registry, sink, name, ref, why):
    with pytest.raises(AccessDenied) as caught:
        guard_for(registry, name, sink).read_text(ref)

    assert why in caught.value.rule
    assert len(sink.records) == 1
    assert sink.records[0]["resource"] == ref


def test_an_outside_path_is_refused_as_outside_the_project(registry):
    with pytest.raises(AccessDenied, match="outside the project"):
        guard_for(registry, "order-details").check_resource("../../../../etc/passwd")


@pytest.mark.parametrize(
    ("role", "name", "target"),
    [
        pytest.param(
            "manager",
            "triage-and-assign",
            "shared/runbooks/LULU_NOT_CONFIRMED.md",
            id="manager-symlink-to-a-runbook",
        ),
        pytest.param(
            "field",
            "my-tickets",
            "shared/queries/ecm-pending-list.sql",
            id="field-symlink-to-the-pending-list",
        ),
        pytest.param(
            "field",
            "my-tickets",
            "shared/runbooks/LULU_NOT_CONFIRMED.md",
            id="field-symlink-to-an-unlisted-runbook",
        ),
        pytest.param(
            "field",
            "order-details",
            "skills/manager/run-ecm",
            id="field-symlinked-folder-to-a-manager-skill",
        ),
    ],
)
def test_a_symlink_inside_the_skill_folder_is_judged_by_its_target(tmp_path, role, name, target):
    root = make_project(tmp_path)
    folder = root / "skills" / role / name
    (folder / "innocent").symlink_to(root / target)
    guard = Guard(load_skill(folder), root=root)
    ref = "innocent/SKILL.md" if target.startswith("skills/") else "innocent"

    with pytest.raises(AccessDenied):
        guard.read_text(ref)


def test_a_symlink_pointing_outside_the_project_is_refused(tmp_path):
    root = make_project(tmp_path)
    outside = tmp_path / "secret.txt"
    outside.write_text("top secret", encoding="utf-8")
    folder = root / "skills/field/order-details"
    (folder / "notes.md").symlink_to(outside)
    guard = Guard(load_skill(folder), root=root)

    with pytest.raises(AccessDenied, match="outside the project"):
        guard.read_text("notes.md")


def test_a_symlinked_skill_folder_keeps_its_own_files_allowed(tmp_path):
    # The guard compares real paths; a legitimately symlinked project must keep working.
    root = make_project(tmp_path)
    link = tmp_path / "linked-project"
    os.symlink(root, link)
    guard = Guard(load_skill(link / "skills/field/order-details"), root=link)

    assert guard.read_text("SKILL.md").startswith("---")
    assert guard.read_text(link / "shared/runbooks/LULU_NOT_CONFIRMED.md")


# -- tools and apis -------------------------------------------------------------------------


@pytest.mark.parametrize("tool", ["score_orders", "assign_orders", "read_pending_list"])
def test_a_field_skill_may_not_call_manager_tools(registry, tool):
    with pytest.raises(AccessDenied) as caught:
        guard_for(registry, "order-details").check_tool(tool)

    assert "Field NEVER computes priority scores" in str(caught.value)


def test_a_manager_skill_may_not_call_load_runbook(registry):
    with pytest.raises(AccessDenied) as caught:
        guard_for(registry, "triage-and-assign").check_tool("load_runbook")

    assert "Manager NEVER loads runbooks" in str(caught.value)


def test_a_tool_of_the_right_role_but_not_granted_is_refused(registry):
    with pytest.raises(AccessDenied, match="not granted"):
        guard_for(registry, "my-tickets").check_tool("write_resolution")


@pytest.mark.parametrize(
    ("name", "tool"),
    [
        pytest.param("my-tickets", "read_my_queue", id="field-own-tool"),
        pytest.param("order-details", "load_runbook", id="field-runbook-tool"),
        pytest.param("triage-and-assign", "score_orders", id="manager-scoring-tool"),
        pytest.param("triage-and-assign", "run_query", id="shared-tool"),
    ],
)
def test_a_granted_tool_is_allowed(registry, sink, name, tool):
    assert guard_for(registry, name, sink).check_tool(tool) is None
    assert sink.records == []


def test_an_api_the_config_does_not_list_is_refused(registry):
    guard = guard_for(registry, "pattern-intelligence")

    guard.check_api("warehouse")
    with pytest.raises(AccessDenied, match="permissions.apis"):
        guard.check_api("workbook")


# -- the denial log -------------------------------------------------------------------------


def test_a_refused_load_is_recorded_with_caller_skill_role_resource_and_rule(registry, sink):
    guard = guard_for(registry, "triage-and-assign", sink, caller="U_MANAGER")

    with pytest.raises(AccessDenied) as caught:
        guard.read_text(str(RUNBOOK))

    assert sink.records == [
        {
            "caller": "U_MANAGER",
            "skill": "triage-and-assign",
            "role": "manager",
            "resource": str(RUNBOOK),
            "rule": caught.value.rule,
        }
    ]
    assert "Manager NEVER loads runbooks" in sink.records[0]["rule"]


def test_a_refused_tool_call_is_recorded(registry, sink):
    guard = guard_for(registry, "my-tickets", sink, caller="U_FIELD")

    with pytest.raises(AccessDenied):
        guard.check_tool("score_orders")

    assert len(sink.records) == 1
    record = sink.records[0]
    assert (record["caller"], record["skill"], record["role"]) == ("U_FIELD", "my-tickets", "field")
    assert "score_orders" in record["resource"]
    assert "DEC-011" in record["rule"]


def test_allowed_loads_record_nothing(registry, sink):
    guard = guard_for(registry, "order-details", sink)

    guard.read_text(RUNBOOK)
    guard.check_tool("load_runbook")

    assert sink.records == []


def test_the_access_denied_error_carries_the_decision(registry):
    with pytest.raises(AccessDenied) as caught:
        guard_for(registry, "my-tickets").check_resource(PENDING_LIST)

    error = caught.value
    assert (error.skill, error.role, error.resource) == ("my-tickets", "field", str(PENDING_LIST))
    assert error.rule in str(error)


@pytest.mark.parametrize(
    "ref", [pytest.param("SKILL.md", id="relative"), pytest.param(RUNBOOK, id="absolute")]
)
def test_a_skill_folder_outside_the_guards_root_may_load_nothing(tmp_path, sink, ref):
    folder = copy_skill(tmp_path, "field", "order-details")
    guard = Guard(load_skill(folder), denials=sink)

    with pytest.raises(AccessDenied, match="outside the project"):
        guard.read_text(ref)
    assert len(sink.records) == 1
