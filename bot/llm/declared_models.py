"""The model ids an installed LLM SDK declares, read from its source without importing it.

Importing the Anthropic SDK takes about a second (its pydantic types), and ``ecm-bot skills
validate`` needs only the ``Literal`` of model ids that one of its files declares. This module
parses that file with ``ast``. When the SDK has moved or reshaped it, the answer is None and the
caller imports the SDK instead (``bot.model_health.sdk_models``)."""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
from pathlib import Path

# provider -> (its distribution and top-level package, the file declaring the ids, the alias)
SOURCES = {
    "anthropic": ("anthropic", "types/model.py", "Model"),
    "openai": ("openai", "types/shared/chat_model.py", "ChatModel"),
}


def declared_models(provider: str) -> tuple[frozenset[str], str] | None:
    """``(model ids, "<sdk> SDK <version>")`` as the installed SDK declares them, or None."""
    package, relpath, alias = SOURCES[provider]
    ids = declared_literals(package, relpath, alias)
    if not ids:
        return None
    try:
        version = importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None
    return ids, f"{package} SDK {version}"


def declared_literals(package: str, relpath: str, alias: str) -> frozenset[str]:
    """The strings inside the ``Literal[...]`` parts of ``alias = ...`` in ``relpath`` of the
    installed ``package`` (found, not imported); empty when any of that is missing."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return frozenset()
    if spec is None or not spec.submodule_search_locations:
        return frozenset()
    path = Path(next(iter(spec.submodule_search_locations))) / relpath
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return frozenset()
    for node in tree.body:
        targets: list[ast.expr]
        if isinstance(node, ast.AnnAssign):
            targets, value = [node.target], node.value
        elif isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        else:
            continue
        if value is not None and any(isinstance(t, ast.Name) and t.id == alias for t in targets):
            return frozenset(_literal_strings(value))
    return frozenset()


def _literal_strings(node: ast.AST) -> list[str]:
    found: list[str] = []
    for sub in ast.walk(node):
        if isinstance(sub, ast.Subscript) and _is_literal(sub.value):
            found += [
                c.value
                for c in ast.walk(sub.slice)
                if isinstance(c, ast.Constant) and isinstance(c.value, str)
            ]
    return found


def _is_literal(node: ast.AST) -> bool:
    return (isinstance(node, ast.Name) and node.id == "Literal") or (
        isinstance(node, ast.Attribute) and node.attr == "Literal"
    )
