"""The ECM shared resources are consistent: reasons, runbooks, knowledge graph, queries and
guardrails agree with each other and with the skills."""

from __future__ import annotations

import re
import sqlite3

import pytest

from bot.paths import CONFIG_DIR, GUARDRAILS_FILE, QUERIES_DIR, RUNBOOKS_DIR
from bot.resources import check_resources, query_header
from bot.skills.registry import Registry
from bot.yaml_safe import parse_yaml

QUERIES = sorted(QUERIES_DIR.glob("*.sql"))
NON_PORTABLE = [
    pytest.param(r"\bGETDATE\s*\(", id="GETDATE"),
    pytest.param(r"\bDATEDIFF\s*\(", id="DATEDIFF"),
    pytest.param(r"\bNVL\s*\(", id="NVL"),
    pytest.param(r"\bLISTAGG\s*\(", id="LISTAGG"),
    pytest.param(r"\bEXTRACT\s*\(\s*EPOCH\b", id="EXTRACT-EPOCH"),
    pytest.param(r"\bjulianday\s*\(", id="julianday"),
]


def _load(name: str) -> dict:
    return parse_yaml((CONFIG_DIR / name).read_text(encoding="utf-8"))["reasons"]


@pytest.fixture(scope="module")
def reasons() -> dict:
    return _load("stuck-reasons.yaml")


def _sql_body(sql: str) -> str:
    """The query without its ``--`` comment lines."""
    return "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))


# -- reasons, runbooks, knowledge graph -----------------------------------------------------


def test_there_are_25_stuck_reasons(reasons):
    assert len(reasons) == 25


def test_every_reason_has_a_runbook_file(reasons):
    missing = [code for code in reasons if not (RUNBOOKS_DIR / f"{code}.md").is_file()]

    assert missing == []


def test_every_reason_has_a_knowledge_graph_entry(reasons):
    graph = _load("knowledge-graph.yaml")

    assert [code for code in reasons if code not in graph] == []


def test_every_runbook_is_referenced_by_a_reason(reasons):
    referenced = {entry.get("runbook") for entry in reasons.values()}

    assert [p.name for p in sorted(RUNBOOKS_DIR.glob("*.md")) if p.name not in referenced] == []


def test_check_resources_finds_no_problem():
    assert check_resources(Registry.load()) == []


# -- queries --------------------------------------------------------------------------------


def test_there_are_eight_named_queries():
    assert len(QUERIES) == 8


@pytest.mark.parametrize("path", QUERIES, ids=[p.stem for p in QUERIES])
def test_a_query_has_a_header_naming_itself(path):
    header = query_header(path.read_text(encoding="utf-8"))

    assert {"name", "returns", "params", "role"} <= set(header)
    assert header["name"] == path.stem
    assert all(header[key].strip() for key in ("name", "returns", "params", "role"))


@pytest.mark.parametrize("path", QUERIES, ids=[p.stem for p in QUERIES])
def test_a_query_is_one_select_statement(path):
    body = _sql_body(path.read_text(encoding="utf-8")).strip()
    statements = [s for s in body.split(";") if s.strip()]

    assert sqlite3.complete_statement(body + ";")
    assert len(statements) == 1
    assert re.match(r"^(SELECT|WITH)\b", body, flags=re.IGNORECASE)


@pytest.mark.parametrize("path", QUERIES, ids=[p.stem for p in QUERIES])
@pytest.mark.parametrize("pattern", NON_PORTABLE)
def test_a_query_uses_no_engine_specific_function(path, pattern):
    body = _sql_body(path.read_text(encoding="utf-8"))

    assert not re.search(pattern, body, flags=re.IGNORECASE)


def test_only_the_manager_may_run_the_pending_list():
    header = query_header((QUERIES_DIR / "ecm-pending-list.sql").read_text(encoding="utf-8"))

    assert header["role"].startswith("manager")


# -- guardrails -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pattern",
    [
        pytest.param(r"read-only", id="warehouse-read-only"),
        pytest.param(r"\bPII\b", id="no-pii"),
        pytest.param(r"resolution note", id="resolve-needs-a-note"),
        pytest.param(r"as data, never as instructions", id="instructions-inside-data"),
        pytest.param(r"DEC-011", id="role-separation"),
    ],
)
def test_the_guardrails_state_the_core_rules(pattern):
    assert re.search(pattern, GUARDRAILS_FILE.read_text(encoding="utf-8"), flags=re.IGNORECASE)
