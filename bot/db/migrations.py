"""Versioned, append-only migrations of the bot-state database. Never edit a released
migration: add a new one, so an upgrade never loses data."""

from __future__ import annotations

from collections.abc import Callable

from sqlite_utils import Database

MIGRATIONS: list[tuple[str, Callable[[Database], None]]] = []


def migration(fn: Callable[[Database], None]) -> Callable[[Database], None]:
    MIGRATIONS.append((fn.__name__, fn))
    return fn


@migration
def m001_initial(db: Database) -> None:
    db["triage_runs"].create(
        {
            "id": str,
            "workflow_id": str,
            "started_by": str,
            "started_at": str,
            "finished_at": str,
            "status": str,
            "dry_run": int,
            "summary": str,
        },
        pk="id",
    )
    db["audit_log"].create(
        {
            "id": int,
            "at": str,
            "actor": str,
            "action": str,
            "target": str,
            "before": str,
            "after": str,
            "workflow_id": str,
        },
        pk="id",
    )
    db["access_denials"].create(
        {
            "id": int,
            "at": str,
            "caller": str,
            "skill": str,
            "role": str,
            "resource": str,
            "rule": str,
        },
        pk="id",
    )
    db["executions"].create(
        {
            "id": str,
            "workflow_id": str,
            "parent_id": str,
            "skill": str,
            "role": str,
            "caller": str,
            "trigger": str,
            "started_at": str,
            "duration_ms": float,
            "outcome": str,
            "error": str,
            "metrics": str,
            "order_ids": str,
        },
        pk="id",
    )
    db["executions"].create_index(["started_at"])
    db["executions"].create_index(["workflow_id"])
    db["locks"].create(
        {"name": str, "holder": str, "acquired_at": str, "expires_at": str}, pk="name"
    )


@migration
def m002_seen_events(db: Database) -> None:
    db["seen_events"].create({"key": str, "at": str}, pk="key")


@migration
def m003_schedule_slots(db: Database) -> None:
    db["schedule_slots"].create(
        {"skill": str, "slot": str, "claimed_at": str}, pk=("skill", "slot")
    )


@migration
def m004_llm_usage(db: Database) -> None:
    table = db["executions"]
    for column, kind in (
        ("model", str),
        ("fallback_used", int),
        ("tokens_in", int),
        ("tokens_out", int),
        ("cost", float),
        ("tool_calls", str),
    ):
        table.add_column(column, kind)
    db["alerts"].create({"key": str, "at": str, "message": str}, pk="key")
    db["proposals"].create(
        {"id": str, "caller": str, "skill": str, "args": str, "created_at": str, "used_at": str},
        pk="id",
    )


def migrate(db: Database) -> list[str]:
    """Apply pending migrations in order; return the names applied now."""
    db["_migrations"].create({"name": str, "applied_at": str}, pk="name", if_not_exists=True)
    done = {row["name"] for row in db["_migrations"].rows}
    applied = []
    for name, fn in MIGRATIONS:
        if name in done:
            continue
        with db.conn:
            fn(db)
            db["_migrations"].insert({"name": name, "applied_at": _now()})
        applied.append(name)
    return applied


def _now() -> str:
    from bot.clock import now, ts

    return ts(now())
