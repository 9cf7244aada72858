"""The warehouse interface (read-only orders) and the checks every named query passes.

Implementations: ``SqliteWarehouse`` (embedded default). The query text always comes from
``shared/queries/`` through the guard; parameters are always bound, never formatted in.
"""

from __future__ import annotations

import re
from typing import Protocol

from bot.errors import InputError, UnsafeQuery

_WRITE_WORDS = re.compile(
    r"\b(INSERT|UPDATE|DELETE|MERGE|DROP|ALTER|CREATE|GRANT|REVOKE|TRUNCATE|COPY|UNLOAD|"
    r"ATTACH|DETACH|PRAGMA|VACUUM|REPLACE|CALL|EXECUTE|SET)\b",
    re.IGNORECASE,
)
_PARAM = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


class Warehouse(Protocol):
    """Runs one read-only SQL statement with bound named parameters."""

    def run(self, sql: str, params: dict[str, object]) -> list[dict]:
        """Rows as dicts keyed by column name."""
        ...


def strip_sql(sql: str) -> str:
    """SQL without comments and string literals (for the safety checks only)."""
    no_block = re.sub(r"/\*.*?\*/", " ", sql, flags=re.S)
    no_line = re.sub(r"--[^\n]*", " ", no_block)
    return re.sub(r"'(?:[^']|'')*'", "''", no_line)


def check_read_only(sql: str, name: str = "") -> None:
    """Refuse anything but a single SELECT or WITH statement."""
    bare = strip_sql(sql).strip().rstrip(";").strip()
    if ";" in bare:
        raise UnsafeQuery(name, "only a single statement may run on the warehouse")
    first = bare.split(None, 1)[0].upper() if bare else ""
    if first not in ("SELECT", "WITH"):
        raise UnsafeQuery(name, "only SELECT or WITH statements may run on the warehouse")
    bad = _WRITE_WORDS.search(bare)
    if bad:
        raise UnsafeQuery(
            name, f"'{bad.group(1).upper()}' is not allowed on the read-only warehouse"
        )


def query_params(sql: str) -> set[str]:
    """The named parameters (``:name``) a query uses."""
    return set(_PARAM.findall(strip_sql(sql)))


def expand_lists(sql: str, params: dict[str, object]) -> tuple[str, dict[str, object]]:
    """A list or tuple parameter (``IN (:ids)``) becomes one bound parameter per value
    (``:ids_0, :ids_1, …``; an empty list matches nothing), so an index answers the IN list
    on every engine. Every value is still bound, never formatted in."""
    lists = {k: v for k, v in params.items() if isinstance(v, list | tuple)}
    if not lists:
        return sql, params
    out = {k: v for k, v in params.items() if k not in lists}
    for name, values in lists.items():
        names = [f"{name}_{i}" for i in range(len(values))]
        if set(names) & set(params):
            raise InputError(f"Parameter names {sorted(set(names) & set(params))} collide.")
        marks = ", ".join(f":{n}" for n in names) or "NULL"
        sql = re.sub(rf"(?<![:\w]):{name}\b", marks, sql)
        out.update(zip(names, values, strict=True))
    return sql, out


def check_params(sql: str, params: dict[str, object], name: str) -> None:
    """The parameters given must be exactly those the query uses."""
    wanted, given = query_params(sql), set(params)
    if wanted != given:
        raise InputError(
            f"Query {name} takes parameters {sorted(wanted) or 'none'}, "
            f"got {sorted(given) or 'none'}."
        )
