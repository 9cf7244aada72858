"""Versioned, append-only migrations of the system of record, the same on both engines.

Never edit a released migration: add a new one, so an upgrade never loses data. ``migrate``
runs every pending migration in one write transaction that concurrent starters wait for
(``BEGIN IMMEDIATE`` on SQLite, an advisory transaction lock on PostgreSQL), so replicas
starting at once apply each migration exactly once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from bot.db.base import Database

log = logging.getLogger(__name__)
MIGRATIONS: list[tuple[str, Callable[[Database], None]]] = []


def migration(fn: Callable[[Database], None]) -> Callable[[Database], None]:
    MIGRATIONS.append((fn.__name__, fn))
    return fn


def _table(db: Database, name: str, columns: str) -> None:
    """CREATE TABLE with ``{serial}`` standing for the engine's auto-numbered primary key."""
    db.execute(f"CREATE TABLE {name} ({columns.format(serial=db.serial_pk)})")


@migration
def m001_initial(db: Database) -> None:
    _table(
        db,
        "triage_runs",
        "id TEXT PRIMARY KEY, workflow_id TEXT, started_by TEXT, started_at TEXT, "
        "finished_at TEXT, status TEXT, dry_run BIGINT, summary TEXT",
    )
    _table(
        db,
        "audit_log",
        "id {serial}, at TEXT, actor TEXT, action TEXT, target TEXT, before TEXT, "
        "after TEXT, workflow_id TEXT",
    )
    _table(
        db,
        "access_denials",
        "id {serial}, at TEXT, caller TEXT, skill TEXT, role TEXT, resource TEXT, rule TEXT",
    )
    _table(
        db,
        "executions",
        "id TEXT PRIMARY KEY, workflow_id TEXT, parent_id TEXT, skill TEXT, role TEXT, "
        "caller TEXT, trigger TEXT, started_at TEXT, duration_ms DOUBLE PRECISION, "
        "outcome TEXT, error TEXT, metrics TEXT, order_ids TEXT",
    )
    db.execute("CREATE INDEX idx_executions_started_at ON executions (started_at)")
    db.execute("CREATE INDEX idx_executions_workflow_id ON executions (workflow_id)")
    _table(db, "locks", "name TEXT PRIMARY KEY, holder TEXT, acquired_at TEXT, expires_at TEXT")


@migration
def m002_seen_events(db: Database) -> None:
    _table(db, "seen_events", "key TEXT PRIMARY KEY, at TEXT")


@migration
def m003_schedule_slots(db: Database) -> None:
    _table(
        db, "schedule_slots", "skill TEXT, slot TEXT, claimed_at TEXT, PRIMARY KEY (skill, slot)"
    )


@migration
def m004_llm_usage(db: Database) -> None:
    for column, kind in (
        ("model", "TEXT"),
        ("fallback_used", "BIGINT"),
        ("tokens_in", "BIGINT"),
        ("tokens_out", "BIGINT"),
        ("cost", "DOUBLE PRECISION"),
        ("tool_calls", "TEXT"),
    ):
        db.execute(f"ALTER TABLE executions ADD COLUMN {column} {kind}")
    _table(db, "alerts", "key TEXT PRIMARY KEY, at TEXT, message TEXT")
    _table(
        db,
        "proposals",
        "id TEXT PRIMARY KEY, caller TEXT, skill TEXT, args TEXT, created_at TEXT, used_at TEXT",
    )


# The team's tabs as tables (m005). Frozen here: later changes go in new migrations.
M005_TABS = {
    "agents": (
        "Agents",
        ["email", "name", "Slack user ID", "role", "specializations", "capacity", "active"],
        "email",
    ),
    "assignments": (
        "Assignments",
        [
            "Order ID", "Priority", "Score", "Why", "Stuck Reason", "Amount", "Currency",
            "Hours Stuck at triage", "Assigned Agent", "Assigned At", "Status", "Updated At",
            "Triage Run",
        ],
        "Order ID",
    ),
    "resolutions": (
        "Resolutions",
        ["Order ID", "Agent", "Resolved At", "Notes", "Time To Resolve", "SLA Met"],
        None,
    ),
    "escalations": ("Escalations", ["Order ID", "From", "Reason", "At", "Target"], None),
}  # fmt: skip


def column_name(header: str) -> str:
    """A tab header as a SQL column: lower case, words joined by underscores."""
    return "_".join("".join(c if c.isalnum() else " " for c in header.lower()).split())


@migration
def m005_team_tables(db: Database) -> None:
    """Tickets and the roster move into the system of record; an embedded data directory's
    workbook.db (the old tabs) is copied in, row for row, in sheet order."""
    for table, (_tab, headers, key) in M005_TABS.items():
        cols = ", ".join(
            f'"{column_name(h)}" TEXT' + (" NOT NULL UNIQUE" if h == key else "") for h in headers
        )
        _table(db, table, "id {serial}, " + cols)
    db.execute("CREATE INDEX idx_assignments_agent ON assignments (LOWER(TRIM(assigned_agent)))")
    db.execute("CREATE INDEX idx_resolutions_order ON resolutions (order_id)")
    db.execute("CREATE INDEX idx_escalations_order ON escalations (order_id)")
    legacy = (
        Path(getattr(db, "path", "")).with_name("workbook.db") if db.engine == "sqlite" else None
    )
    if legacy is not None and legacy.exists():
        _import_legacy_workbook(db, legacy)


def _import_legacy_workbook(db: Database, legacy: Path) -> None:
    import sqlite3

    source = sqlite3.connect(f"file:{legacy}?mode=ro", uri=True)
    try:
        present = {r[0] for r in source.execute("SELECT name FROM sqlite_master")}
        for table, (tab, headers, _key) in M005_TABS.items():
            if tab not in present:
                continue
            quoted = ", ".join('"' + h.replace('"', '""') + '"' for h in headers)
            rows = source.execute(f'SELECT {quoted} FROM "{tab}" ORDER BY rowid').fetchall()
            cols = ", ".join(f'"{column_name(h)}"' for h in headers)
            marks = ", ".join("?" * len(headers))
            for row in rows:
                db.execute(f"INSERT INTO {table} ({cols}) VALUES ({marks})", row)
            log.info("imported %d %s rows from %s", len(rows), tab, legacy)
    finally:
        source.close()


@migration
def m006_lock_leases(db: Database) -> None:
    """Locks say where their holder runs and when it last showed it is alive."""
    for column, kind in (("host", "TEXT"), ("pid", "BIGINT"), ("heartbeat_at", "TEXT")):
        db.execute(f"ALTER TABLE locks ADD COLUMN {column} {kind}")


@migration
def m007_retention(db: Database) -> None:
    """Daily roll-ups of executions (kept when old executions are pruned) and the indexes
    that let reports and pruning answer without scanning."""
    _table(
        db,
        "execution_days",
        "day TEXT, skill TEXT, outcome TEXT, runs BIGINT, total_ms DOUBLE PRECISION, "
        "max_ms DOUBLE PRECISION, cost DOUBLE PRECISION, tokens_in BIGINT, "
        "tokens_out BIGINT, PRIMARY KEY (day, skill, outcome)",
    )
    db.execute("CREATE INDEX idx_executions_skill_started ON executions (skill, started_at)")
    db.execute("CREATE INDEX idx_seen_events_at ON seen_events (at)")
    db.execute("CREATE INDEX idx_audit_log_target ON audit_log (target)")


@migration
def m008_sheet_sync(db: Database) -> None:
    """What the sheet sync last wrote to (or accepted from) each sheet row, and its status."""
    _table(
        db,
        "sheet_rows",
        "tab TEXT, key TEXT, sheet_row BIGINT, row_values TEXT, PRIMARY KEY (tab, key)",
    )
    _table(
        db,
        "sync_status",
        "name TEXT PRIMARY KEY, last_ok_at TEXT, last_try_at TEXT, last_error TEXT, "
        "pending BIGINT, requests BIGINT",
    )


@migration
def m009_report_indexes_and_order_workflows(db: Database) -> None:
    """Indexes that let metrics, trace and costs answer from the index at a million
    executions, and the manager run that last assigned each order (so field work joins its
    workflow with one primary-key look-up instead of scanning executions)."""
    db.execute("CREATE INDEX idx_executions_duration ON executions (duration_ms)")
    db.execute("CREATE INDEX idx_executions_role_duration ON executions (role, duration_ms)")
    db.execute(
        "CREATE INDEX idx_executions_skill_duration ON executions "
        "(skill, duration_ms, outcome, role)"
    )
    db.execute(
        "CREATE INDEX idx_executions_model_runs ON executions "
        "(started_at, skill, cost, tokens_in, tokens_out) WHERE cost <> 0 OR tokens_in <> 0"
    )
    _table(
        db,
        "order_workflows",
        "order_id TEXT PRIMARY KEY, workflow_id TEXT, execution_id TEXT, at TEXT",
    )
    rows = db.query(
        "SELECT id, workflow_id, order_ids, started_at FROM executions WHERE skill IN "
        "('triage-and-assign', 'assign-tickets') AND outcome = 'ok' ORDER BY started_at, id"
    )
    latest: dict[str, tuple] = {}
    for r in rows:
        for oid in (r["order_ids"] or "").split(","):
            if oid:
                latest[oid] = (oid, r["workflow_id"], r["id"], r["started_at"])
    if latest:
        db.executemany(
            "INSERT INTO order_workflows (order_id, workflow_id, execution_id, at) "
            "VALUES (?, ?, ?, ?)",
            list(latest.values()),
        )


@migration
def m010_alerts(db: Database) -> None:
    """Alerts from the skills' monitoring thresholds, missed cron slots and sheet-sync lag
    (``bot/alerts``): one row per subject and rule (its status and incarnation, ``seq``),
    one row per delivery of an incarnation to a channel (its primary key is what makes a
    delivery happen once across replicas), and the append-only history. Cron slots record
    how their run ended (older claims: 'unknown'), and executions the moment they were
    recorded (microseconds), which orders runs that started in the same second."""
    _table(
        db,
        "alert_states",
        "key TEXT PRIMARY KEY, subject TEXT, rule TEXT, status TEXT, seq BIGINT, "
        "severity TEXT, summary TEXT, details TEXT, channels TEXT, opened_at TEXT, "
        "updated_at TEXT, resolved_at TEXT",
    )
    _table(
        db,
        "alert_deliveries",
        "key TEXT, seq BIGINT, channel TEXT, action TEXT, status TEXT, attempts BIGINT, "
        "ref TEXT, claimed_by TEXT, claimed_until TEXT, last_error TEXT, created_at TEXT, "
        "sent_at TEXT, PRIMARY KEY (key, seq, channel, action)",
    )
    db.execute("CREATE INDEX idx_alert_deliveries_status ON alert_deliveries (status)")
    _table(
        db,
        "alert_events",
        "id {serial}, at TEXT, key TEXT, seq BIGINT, event TEXT, channel TEXT, "
        "severity TEXT, summary TEXT, detail TEXT",
    )
    for column in ("outcome", "finished_at", "error", "execution_id"):
        db.execute(f"ALTER TABLE schedule_slots ADD COLUMN {column} TEXT")
    db.execute("UPDATE schedule_slots SET outcome = 'unknown'")
    db.execute("ALTER TABLE executions ADD COLUMN recorded_at TEXT")


@migration
def m011_roster_version(db: Database) -> None:
    """A counter the database itself bumps on every change to the roster (``agents``), by
    triggers, whoever makes it: the bot, the sheet sync, or someone with SQL. Each replica
    compares it with the version its cached Slack identities were read at (one primary-key
    read a request), so a role or active-flag change counts from the next request on."""
    _table(db, "roster_version", "id BIGINT PRIMARY KEY, version BIGINT NOT NULL")
    db.execute("INSERT INTO roster_version (id, version) VALUES (1, 1)")
    bump = "UPDATE roster_version SET version = version + 1 WHERE id = 1;"
    if db.engine == "postgres":
        db.execute(
            "CREATE FUNCTION bump_roster_version() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN {bump} RETURN NULL; END $$"
        )
        db.execute(
            "CREATE TRIGGER agents_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            "ON agents FOR EACH STATEMENT EXECUTE FUNCTION bump_roster_version()"
        )
        return
    for event in ("INSERT", "UPDATE", "DELETE"):
        db.execute(
            f"CREATE TRIGGER agents_{event.lower()} AFTER {event} ON agents BEGIN {bump} END"
        )


@migration
def m012_slack_messages(db: Database) -> None:
    """Every Slack message the bot may later edit in place (``bot/stores/slack_messages.py``):
    its channel and ts, what it shows (``kind``: the triage summary of ``run_id``, ``agent``'s
    thread reply in it, its unassigned or escalated list, ``agent``'s DM queue, the escalation
    post of ``order_id``), the blocks
    as posted (edits start from them) and a digest of its content; and which orders each one
    shows, so a change to a ticket finds every message to update."""
    _table(
        db,
        "slack_messages",
        "channel TEXT, ts TEXT, kind TEXT, run_id TEXT, agent TEXT, order_id TEXT, "
        "thread_ts TEXT, text TEXT, blocks TEXT, digest TEXT, posted_at TEXT, updated_at TEXT, "
        "PRIMARY KEY (channel, ts)",
    )
    db.execute("CREATE INDEX idx_slack_messages_run ON slack_messages (kind, run_id)")
    db.execute("CREATE INDEX idx_slack_messages_agent ON slack_messages (kind, agent)")
    _table(
        db,
        "slack_message_orders",
        "channel TEXT, ts TEXT, order_id TEXT, PRIMARY KEY (channel, ts, order_id)",
    )
    db.execute("CREATE INDEX idx_slack_message_orders ON slack_message_orders (order_id)")


@migration
def m013_sla_notices(db: Database) -> None:
    """SLA watch notices (``bot/sla``): one row per order, owner and kind (warn:60, warn:0,
    renotify:1, escalate) ever claimed; the primary key makes each notice happen once across
    replicas."""
    _table(
        db,
        "sla_notices",
        "order_id TEXT, agent TEXT, kind TEXT, at TEXT, PRIMARY KEY (order_id, agent, kind)",
    )


@migration
def m014_open_tickets_index(db: Database) -> None:
    """An agent's open tickets from the index alone, however many closed ones their history
    holds (my tickets, the count after a resolve): owner and status, compared as the row
    rules compare them. It starts with the owner, so it also answers what the owner-only
    index did, which goes."""
    db.execute(
        "CREATE INDEX idx_assignments_agent_status ON assignments "
        "(LOWER(TRIM(assigned_agent)), LOWER(TRIM(status)))"
    )
    db.execute("DROP INDEX idx_assignments_agent")


@migration
def m015_assignment_pins(db: Database) -> None:
    """A manager's assignment that re-triage keeps (``bot/stores/pins.py``): one row per
    order, the agent it is pinned to, who pinned it, when and why. A pin holds while the
    order's Assignments row is open and still that agent's; the manager's ``unpin``, or the
    ticket ending (resolved, escalated, closed), removes it."""
    _table(
        db,
        "assignment_pins",
        "order_id TEXT PRIMARY KEY, agent TEXT NOT NULL, pinned_by TEXT, pinned_at TEXT, "
        "reason TEXT",
    )
    db.execute("CREATE INDEX idx_assignment_pins_agent ON assignment_pins (agent)")


@migration
def m016_escalation_acks(db: Database) -> None:
    """Who acknowledged an escalation (``bot/stores/escalation_acks.py``): one row per
    Escalations row (its order and ``At``); the primary key makes the first acknowledgement
    the only one, across replicas."""
    _table(
        db,
        "escalation_acks",
        "order_id TEXT, escalated_at TEXT, acked_by TEXT, acked_at TEXT, "
        "PRIMARY KEY (order_id, escalated_at)",
    )


@migration
def m018_sla_notice_delivery(db: Database) -> None:
    """A claimed SLA notice records when it was sent: a claim left unsent by a process that
    died between claiming and sending is taken again by a later pass (``bot/sla/watch.py``).
    Notices claimed before this migration were sent (a failed send gave its claim back). The
    audit log gains an index on its time, for the day's timeline (``ecm-bot trace``)."""
    db.execute("ALTER TABLE sla_notices ADD COLUMN sent_at TEXT")
    db.execute("UPDATE sla_notices SET sent_at = at")
    db.execute("CREATE INDEX idx_audit_log_at ON audit_log (at)")


@migration
def m019_snoozes(db: Database) -> None:
    """A field agent's snooze of one of their tickets while waiting on someone
    (``bot/stores/snoozes.py``): one row per order, its owner, until when, the note, the status
    it returns to, when it was snoozed and when it woke. The wake pass sets ``woken_at`` with
    a conditional UPDATE, so a snooze wakes once across replicas."""
    _table(
        db,
        "ticket_snoozes",
        "order_id TEXT PRIMARY KEY, agent TEXT NOT NULL, until_at TEXT NOT NULL, note TEXT, "
        "resume_status TEXT, snoozed_at TEXT, woken_at TEXT",
    )
    db.execute("CREATE INDEX idx_ticket_snoozes_until ON ticket_snoozes (until_at)")


@migration
def m020_agent_hours(db: Database) -> None:
    """The roster gains each agent's time zone and working hours (the Agents tab's
    ``Timezone`` and ``Working Hours``; blank: UTC, always on shift), read by
    ``bot/runtime/shift.py``."""
    for header in ("Timezone", "Working Hours"):
        db.execute(f'ALTER TABLE agents ADD COLUMN "{column_name(header)}" TEXT')


@migration
def m021_agent_away(db: Database) -> None:
    """Away and handover (``bot/stores/away.py``): one row per agent marked away (until when,
    who set it, when they came back); one row per ticket handed over (from whom, to whom or
    to the managers, when, the away it came from); one row per agent and shift end whose
    digest was claimed and sent (the primary key makes one replica win, like sla_notices)."""
    _table(
        db,
        "agent_away",
        "agent TEXT PRIMARY KEY, until_at TEXT NOT NULL, since_at TEXT NOT NULL, "
        "set_by TEXT, back_at TEXT",
    )
    _table(
        db,
        "ticket_handovers",
        "id {serial}, order_id TEXT NOT NULL, from_agent TEXT NOT NULL, to_agent TEXT, "
        "at TEXT NOT NULL, away_since TEXT, kind TEXT NOT NULL",
    )
    db.execute("CREATE INDEX idx_ticket_handovers_to ON ticket_handovers (to_agent, at)")
    _table(
        db,
        "shift_digests",
        "agent TEXT, shift_end TEXT, at TEXT, sent_at TEXT, tickets TEXT, "
        "PRIMARY KEY (agent, shift_end)",
    )


@migration
def m022_mcp_tokens(db: Database) -> None:
    """Personal tokens of the MCP server (``bot/mcp/tokens.py``): only the sha256 of each
    token is kept, with the roster member it acts as and the role it carries, who created it
    and when, when it expires, is revoked and was last used."""
    _table(
        db,
        "mcp_tokens",
        "id TEXT PRIMARY KEY, token_hash TEXT NOT NULL UNIQUE, email TEXT NOT NULL, "
        "role TEXT NOT NULL, created_by TEXT NOT NULL, created_at TEXT NOT NULL, "
        "expires_at TEXT NOT NULL, revoked_at TEXT, revoked_by TEXT, last_used_at TEXT",
    )
    db.execute("CREATE INDEX idx_mcp_tokens_email ON mcp_tokens (email)")


@migration
def m023_canary(db: Database) -> None:
    """Canary releases of skills (``bot/canary``, ``bot/stores/releases.py``): which version
    of a skill is live (``skill_releases``, one row per skill and candidate version, so every
    replica agrees), each execution's version where a skill has a candidate
    (``skill_versions``), each shadow run's diff against the live run it shadowed, linked by
    workflow id (``canary_runs``; kind ``shadow``, or ``try`` beside a dry run), and the
    latest shadow plan per skill and version (``assignments_canary``, the Assignments_canary
    tab)."""
    _table(
        db,
        "skill_releases",
        "skill TEXT NOT NULL, version TEXT NOT NULL, state TEXT NOT NULL, strategy TEXT, "
        "base_version TEXT, changed_at TEXT, changed_by TEXT, reason TEXT, "
        "PRIMARY KEY (skill, version)",
    )
    _table(
        db,
        "skill_versions",
        "execution_id TEXT PRIMARY KEY, skill TEXT NOT NULL, version TEXT NOT NULL, "
        "track TEXT NOT NULL, started_at TEXT NOT NULL, outcome TEXT, "
        "duration_ms DOUBLE PRECISION",
    )
    db.execute("CREATE INDEX idx_skill_versions ON skill_versions (skill, version, started_at)")
    _table(
        db,
        "canary_runs",
        "id TEXT PRIMARY KEY, skill TEXT NOT NULL, version TEXT NOT NULL, kind TEXT NOT NULL, "
        "live_execution_id TEXT, workflow_id TEXT, at TEXT NOT NULL, outcome TEXT, error TEXT, "
        "duration_ms DOUBLE PRECISION, orders BIGINT, agent_differs BIGINT, "
        "priority_differs BIGINT, either_differs BIGINT, diff DOUBLE PRECISION, "
        "only_live TEXT, only_candidate TEXT",
    )
    db.execute("CREATE INDEX idx_canary_runs ON canary_runs (skill, version, at)")
    _table(
        db,
        "assignments_canary",
        "id {serial}, skill TEXT NOT NULL, order_id TEXT NOT NULL, priority TEXT, "
        "score DOUBLE PRECISION, why TEXT, assigned_agent TEXT, live_priority TEXT, "
        "live_agent TEXT, differs TEXT, version TEXT, canary_run TEXT, live_run TEXT, "
        "workflow_id TEXT, updated_at TEXT",
    )
    db.execute(
        "CREATE UNIQUE INDEX idx_assignments_canary ON assignments_canary "
        "(skill, version, order_id)"
    )


def migrate(db: Database) -> list[str]:
    """Apply pending migrations in order, all in one transaction; return the names applied."""
    applied: list[str] = []
    with db.transaction():
        db.lock_for_migrations()
        db.execute(
            "CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT)"
        )
        done = {row["name"] for row in db.query("SELECT name FROM _migrations")}
        for name, fn in MIGRATIONS:
            if name in done:
                continue
            fn(db)
            db.execute("INSERT INTO _migrations (name, applied_at) VALUES (?, ?)", [name, _now()])
            applied.append(name)
    if applied:
        log.info("migrated %s to %s", db.describe(), applied[-1])
    return applied


def _now() -> str:
    from bot.clock import now, ts

    return ts(now())
