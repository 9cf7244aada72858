"""Boundaries that must stay visible: the core imports no vendor SDK, field code never imports
triage, and no vendor database driver leaks into the core."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

BOT = Path(__file__).resolve().parent.parent / "bot"
VENDORS = (
    "slack_bolt", "slack_sdk", "anthropic", "openai", "gspread", "redshift_connector", "psycopg",
    "psycopg_pool", "sqlite3", "prometheus_client", "opentelemetry", "mcp", "mcp_types",
    "starlette", "uvicorn",
)  # fmt: skip
CORE = ("skills", "access", "triage", "runtime", "skill_code", "briefing", "present", "agents")


def _tree(path: Path) -> ast.Module:
    """A module's syntax tree. Not kept: only its imports are (``_import_nodes``), so the
    worker does not carry some 200,000 syntax nodes through every later garbage collection."""
    return ast.parse(path.read_text(encoding="utf-8"))


@functools.cache
def _import_nodes(path: Path) -> tuple[tuple[ast.Import | ast.ImportFrom, bool], ...]:
    """The module's import statements in ``ast.walk`` order, each with whether it sits in an
    ``if TYPE_CHECKING:`` block (imports for annotations only): one walk of the tree, cached,
    for every test that reads the imports."""
    found: list[ast.Import | ast.ImportFrom] = []
    guarded: list[ast.If] = []
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        elif _type_checking(node):
            guarded.append(node)  # type: ignore[arg-type]
    skipped = {id(n) for block in guarded for stmt in block.body for n in ast.walk(stmt)}
    return tuple((node, id(node) in skipped) for node in found)


@functools.cache
def _imports(path: Path) -> frozenset[str]:
    names = set()
    for node, _ in _import_nodes(path):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif node.module:
            names.add(node.module)
    return frozenset(names)


def imports(path: Path) -> set[str]:
    return set(_imports(path))


def test_the_core_imports_no_vendor_sdk():
    for package in CORE:
        for path in (BOT / package).rglob("*.py"):
            bad = {m for m in imports(path) if m.split(".")[0] in VENDORS}
            assert not bad, f"{path} imports {bad}"


def test_only_the_observability_adapters_import_prometheus_and_opentelemetry():
    adapters = {
        "prometheus_client": {"bot/observability/prometheus.py"},
        "opentelemetry": {"bot/observability/otel.py"},
    }
    for vendor, allowed in adapters.items():
        found = {
            str(path.relative_to(BOT.parent))
            for path in BOT.rglob("*.py")
            if any(m.split(".")[0] == vendor for m in imports(path))
        }
        assert found == allowed, f"{vendor} imported outside its adapter: {found - allowed}"


def test_only_the_mcp_adapter_imports_the_mcp_sdk_and_help_loads_none_of_it():
    import subprocess
    import sys

    allowed = {"bot/mcp/server.py", "bot/mcp/verifier.py"}
    for vendor in ("mcp", "mcp_types", "starlette", "uvicorn"):
        found = {
            str(path.relative_to(BOT.parent))
            for path in BOT.rglob("*.py")
            if any(m.split(".")[0] == vendor for m in imports(path))
        }
        assert found <= allowed, f"{vendor} imported outside bot/mcp: {found - allowed}"
        assert found or vendor != "mcp", "the MCP server no longer uses the SDK?"
    code = (
        "import sys\nfrom bot.cli import main\nsys.argv = ['ecm-bot', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('MCP', sorted({m.split('.')[0] for m in sys.modules} & {'mcp', 'uvicorn'}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "\n  mcp " in out.stdout and "MCP []" in out.stdout, out.stdout


def test_field_skill_code_never_imports_triage_or_manager_code():
    files = list((BOT / "skill_code" / "field").glob("*.py"))
    assert len(files) >= 5
    for path in files:
        bad = {m for m in imports(path) if m.startswith(("bot.triage", "bot.skill_code.manager"))}
        assert not bad, f"{path} imports {bad}"


def test_each_roles_catalog_never_names_a_skill_of_the_other_role():
    from bot.briefing.builder import catalog_text
    from bot.skills.registry import Registry

    registry = Registry.load()
    for role, other in (("manager", "field"), ("field", "manager")):
        text = catalog_text(registry, role)
        charter = (BOT.parent / "skills" / role / "CHARTER.md").read_text(encoding="utf-8")
        for skill in registry.for_role(other):
            assert skill.name not in text, f"{role} catalog names {skill.name}"
            assert skill.name not in charter, f"{role} charter names {skill.name}"


def test_running_a_field_skill_loads_no_triage_module(tmp_path):
    import subprocess
    import sys

    code = (
        "import sys, bot.runtime.dispatch, bot.skill_code.field.my_tickets, "
        "bot.skill_code.field.order_details, bot.skill_code.field.resolve_ticket, "
        "bot.skill_code.field.escalate_ticket\n"
        "bad = [m for m in sys.modules if m.startswith(('bot.triage', 'bot.skill_code.manager'))]\n"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def _unit(module: str) -> str | None:
    """The node a module belongs to: ``bot.<package>`` or ``bot.<module>`` (bot/ids.py,
    bot/errors.py, ... are nodes of their own); None outside bot."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "bot" and len(parts) > 1 else None


def _type_checking(node: ast.AST) -> bool:
    """Whether the node is an ``if TYPE_CHECKING:`` block (imports for annotations only)."""
    if not isinstance(node, ast.If):
        return False
    test = node.test
    name = test.id if isinstance(test, ast.Name) else getattr(test, "attr", None)
    return name == "TYPE_CHECKING"


@functools.cache
def _package_imports() -> dict[str, dict[str, list[str]]]:
    """unit → imported unit → where (``path:line module``), over every module in bot,
    imports inside functions included, ``if TYPE_CHECKING:`` imports excluded."""
    graph: dict[str, dict[str, list[str]]] = {}
    for path in sorted(BOT.rglob("*.py")):
        rel = path.relative_to(BOT.parent)
        parts = rel.with_suffix("").parts
        src = "bot" if parts[1:] == ("__init__",) else f"bot.{parts[1]}"
        package = ".".join(parts[:-1])  # what a relative import is relative to
        for node, type_checking_only in _import_nodes(path):
            if type_checking_only:
                continue
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                base = node.module or ""
                if node.level:  # relative: resolve against this module's package
                    up = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join(up + ([base] if base else []))
                # ``from bot import ids`` imports the module bot.ids
                targets = [f"{base}.{a.name}" for a in node.names] if base == "bot" else [base]
            for target in targets:
                dst = _unit(target)
                if dst and dst != src:
                    where = f"{rel}:{node.lineno} {target}"
                    graph.setdefault(src, {}).setdefault(dst, []).append(where)
    return graph


def package_imports() -> dict[str, dict[str, list[str]]]:
    """``_package_imports`` (built once per run), as a copy the caller may change."""
    return {src: {dst: list(w) for dst, w in d.items()} for src, d in _package_imports().items()}


def _cycles(graph: dict[str, dict[str, list[str]]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_import_graph_finds_a_cycle():
    graph = {"bot.a": {"bot.b": ["x"]}, "bot.b": {"bot.c": ["y"]}, "bot.c": {"bot.a": ["z"]}}
    assert _cycles(graph) == [["bot.a", "bot.b", "bot.c"]]
    assert _cycles({"bot.a": {"bot.b": ["x"]}}) == []


def test_no_import_cycle_between_bots_packages():
    graph = package_imports()
    assert graph["bot.agents"].get("bot.runtime")  # the graph is read: agents use the runtime
    problems = []
    for component in _cycles(graph):
        edges = [
            f"  {a} -> {b}: {', '.join(graph[a][b])}"
            for a in component
            for b in component
            if b in graph.get(a, {})
        ]
        problems.append(" <-> ".join(component) + "\n" + "\n".join(edges))
    assert not problems, "import cycles between bot's packages:\n" + "\n".join(problems)


def test_the_runtime_never_imports_the_agents():
    bad = package_imports().get("bot.runtime", {}).get("bot.agents", [])
    assert not bad, f"bot.runtime imports bot.agents: {bad}"


def test_only_the_executor_writes_execution_records():
    writers = {
        str(path.relative_to(BOT.parent))
        for path in BOT.rglob("*.py")
        if "record_execution(" in path.read_text(encoding="utf-8")
    }
    assert writers == {"bot/runtime/executor.py", "bot/stores/state.py"}  # caller, definition
