"""``ecm-bot doctor``: check each configured system and say how to fix what fails."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from bot.errors import EcmError
from bot.llm.catalog import Finding
from bot.paths import data_dir

OK, MISSING, FAILING, EMBEDDED, WARNING = "ok", "missing", "failing", "embedded", "warning"


@dataclass(frozen=True)
class Check:
    system: str
    status: str
    detail: str
    fix: str = ""


def check_slack(env: Mapping[str, str]) -> Check:
    from bot.slack.settings import SlackSettings

    settings = SlackSettings.from_env(env)
    if not settings.bot_token:
        return Check(
            "slack",
            MISSING,
            "SLACK_BOT_TOKEN is not set",
            "Create the app from deploy/slack-manifest.yaml and set SLACK_BOT_TOKEN "
            "(plus SLACK_APP_TOKEN for Socket Mode or SLACK_SIGNING_SECRET for HTTP).",
        )
    from slack_sdk.errors import SlackApiError

    from bot.slack.app import web_client

    try:
        auth = web_client(settings).auth_test()
    except SlackApiError as exc:
        return Check(
            "slack",
            FAILING,
            f"auth.test: {exc.response.get('error')}",
            "Check SLACK_BOT_TOKEN (reinstall the app to get a fresh xoxb- token).",
        )
    except Exception as exc:
        return Check(
            "slack",
            FAILING,
            f"auth.test failed: {exc}",
            f"Check network access to {settings.api_url} (or SLACK_API_URL).",
        )
    mode = (
        "Socket Mode"
        if settings.app_token
        else ("HTTP" if settings.signing_secret else "no SLACK_APP_TOKEN or SLACK_SIGNING_SECRET")
    )
    return Check("slack", OK, f"bot {auth.get('user_id')} in team {auth.get('team')} ({mode})")


def check_warehouse(env: Mapping[str, str]) -> Check:
    from bot.stores.factory import configured_warehouse

    try:
        warehouse = configured_warehouse(env)
        if warehouse is not None:
            warehouse.ping()
            return Check("warehouse", OK, "Redshift: connected and SELECT 1 answered")
    except EcmError as exc:
        return Check(
            "warehouse",
            FAILING,
            str(exc),
            "Check REDSHIFT_HOST/PORT/DATABASE/USER/PASSWORD (or REDSHIFT_URL) and "
            "that this host may reach the cluster.",
        )
    path = data_dir() / "warehouse.db"
    if not path.exists():
        return Check(
            "warehouse",
            MISSING,
            f"no Redshift configured and no demo data at {path}",
            "Set REDSHIFT_HOST (see .env.example), or run `ecm-bot seed-demo`.",
        )
    return Check("warehouse", EMBEDDED, f"embedded SQLite demo warehouse at {path}")


def check_sheet(env: Mapping[str, str]) -> Check:
    from bot.stores.factory import configured_sheet

    try:
        workbook = configured_sheet(env)
    except EcmError as exc:
        return Check(
            "sheet",
            FAILING,
            str(exc),
            "Share the sheet with the service account, then run `ecm-bot sheets init`.",
        )
    if workbook is None:
        return Check(
            "sheet",
            EMBEDDED,
            "no Google Sheet: the team's tabs live in the bot's database only",
            "Set GOOGLE_SHEETS_CREDENTIALS and ECM_SPREADSHEET_ID for a synced Google Sheet view.",
        )
    return Check("sheet", OK, "Google Sheet opened; every tab and header is present")


def check_llm(env: Mapping[str, str]) -> Check:
    keys = [k for k in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY") if env.get(k)]
    if not keys:
        return Check(
            "llm",
            MISSING,
            "no ANTHROPIC_API_KEY or OPENAI_API_KEY: agents run deterministically",
            "Set ANTHROPIC_API_KEY (and OPENAI_API_KEY as fallback).",
        )
    if len(keys) == 1:
        return Check(
            "llm",
            OK,
            f"{keys[0]} set (no fallback provider)",
            "Set the other provider's key for fallback.",
        )
    return Check("llm", OK, "Anthropic primary and OpenAI fallback keys set")


def check_models(env: Mapping[str, str], today: date | None = None) -> list[Check]:
    """Each model the skills configure: known to the installed SDK, not retired (failing) nor
    retiring within 60 days (warning) by the lifecycle catalog, and, when that provider's key
    is set, served by the provider (``models.retrieve``, a 5 s timeout, base URL honoured)."""
    from concurrent.futures import ThreadPoolExecutor

    from bot.clock import now
    from bot.model_health import ask_provider
    from bot.model_health import check_models as assess_models
    from bot.skills.registry import Registry

    today = today or now().date()
    try:
        reports = assess_models(Registry.load(), today)
    except EcmError as exc:
        return [Check("models", FAILING, str(exc), "Fix the skill or catalog file it names.")]

    def ask(report):
        try:
            return ask_provider(report, env, today)
        except Exception as exc:  # a doctor reports; it does not crash
            return [Finding("fail", f"could not ask the provider: {type(exc).__name__}: {exc}")]

    with ThreadPoolExecutor(max_workers=max(1, len(reports))) as pool:
        answers = list(pool.map(ask, reports))
    checks = []
    for report, answer in zip(reports, answers, strict=True):
        findings = report.findings + (answer or [])
        levels = {f.level for f in findings}
        status = FAILING if "fail" in levels else WARNING if "warn" in levels else OK
        used = f"{report.provider} model.{report.slot} of {', '.join(report.skills)}"
        said = "; ".join(f.message for f in findings) or "known to the SDK and active"
        if answer is None:
            said += f" (not asked: no {report.provider.upper()}_API_KEY)"
        fix = ""
        if status != OK:
            fix = (
                f"Move model.{report.slot} of {', '.join(report.skills)} to a current "
                f"{report.provider} model (shared/config/model-lifecycle.yaml, DEC-015), or "
                f"check the key and network access to {report.provider} "
                f"({report.provider.upper()}_BASE_URL) if it could not be asked."
            )
        checks.append(Check(f"model {report.model}", status, f"{used}: {said}", fix))
    return checks


def check_database(env: Mapping[str, str]) -> Check:
    """The system of record: reachable and migrated; PostgreSQL or embedded SQLite."""
    from bot.db import open_database

    try:
        db = open_database(data_dir(), env)
        db.scalar("SELECT COUNT(*) AS n FROM _migrations")
    except EcmError as exc:
        return Check(
            "database",
            FAILING,
            str(exc),
            "Check ECM_DATABASE_URL (host, port, user, password) and that PostgreSQL is up.",
        )
    if db.engine == "sqlite":
        return Check(
            "database",
            EMBEDDED,
            f"embedded SQLite at {db.describe()} (one machine only)",
            "Set ECM_DATABASE_URL to a PostgreSQL database to run more than one replica.",
        )
    return Check("database", OK, f"PostgreSQL at {db.describe()}, migrated")


def check_sync(env: Mapping[str, str]) -> Check | None:
    """How far behind the sheet view is, from the database (no Sheets request)."""
    if not (env.get("GOOGLE_SHEETS_CREDENTIALS") and env.get("ECM_SPREADSHEET_ID")):
        return None
    from bot.clock import now, parse_ts
    from bot.stores.factory import open_stores
    from bot.sync.sheets_sync import pending_changes, sync_status

    try:
        stores = open_stores(env=env)
        status, pending = sync_status(stores), pending_changes(stores)
    except EcmError as exc:
        return Check("sheet sync", FAILING, str(exc), "Fix the database first.")
    if status is None or not status.get("last_ok_at"):
        why = f": {status['last_error']}" if status and status.get("last_error") else ""
        return Check(
            "sheet sync",
            MISSING,
            f"no successful sync yet{why}; {pending} row(s) waiting",
            "Run `ecm-bot sheets sync` (Procfile sync:).",
        )
    lag = int((now() - parse_ts(status["last_ok_at"])).total_seconds())
    detail = f"last synced {lag} s ago; {pending} row(s) waiting"
    if status.get("last_error"):
        return Check(
            "sheet sync",
            FAILING,
            f"{detail}; last try failed: {status['last_error']}",
            "It catches up by itself once the sheet answers; check the quota and sharing.",
        )
    return Check("sheet sync", OK, detail)


def check_settings(env: Mapping[str, str]) -> Check:
    """Half-configured systems and malformed values (the bot would otherwise fall back to
    embedded data or a default without a word)."""
    from bot.settings_check import problems

    found = problems(env)
    if found:
        return Check(
            "settings",
            FAILING,
            "; ".join(found),
            "Set the partner variables or unset the stray ones; see .env.example.",
        )
    return Check("settings", OK, "no half-configured system and no malformed value")


def check_alerts(env: Mapping[str, str]) -> Check:
    """Where alerts go (ECM_ALERT_CHANNEL, PagerDuty), and what is open or still undelivered,
    from the database."""
    from bot.alerts.store import AlertStore
    from bot.stores.factory import open_stores

    where = []
    if env.get("ECM_ALERT_CHANNEL") and env.get("SLACK_BOT_TOKEN"):
        where.append(f"Slack {env['ECM_ALERT_CHANNEL']}")
    if env.get("PAGERDUTY_ROUTING_KEY"):
        where.append("PagerDuty")
    try:
        store = AlertStore(open_stores(env=env).db)
        opened, waiting = len(store.open_alerts()), len(store.due())
    except EcmError as exc:
        return Check("alerts", FAILING, str(exc), "Fix the database first.")
    state = f"{opened} open, {waiting} delivery(ies) waiting"
    if not where:
        return Check(
            "alerts",
            MISSING,
            f"no destination: alerts are only listed by `ecm-bot alerts` ({state})",
            "Set ECM_ALERT_CHANNEL (with SLACK_BOT_TOKEN) and/or PAGERDUTY_ROUTING_KEY.",
        )
    if waiting:
        return Check(
            "alerts",
            WARNING,
            f"to {' and '.join(where)}; {state}",
            "`ecm-bot alerts` shows each delivery's last error; the next pass retries it.",
        )
    return Check("alerts", OK, f"to {' and '.join(where)}; {state}")


EXPIRING_DAYS = 7
"""An MCP token that expires within this many days is named by the doctor."""


def check_mcp(env: Mapping[str, str]) -> Check | None:
    """The MCP server's tokens, from the database: how many are active, which expire within
    a week, and which can no longer be used because their member left the roster or changed
    role (they are refused on use); None when no token was ever made."""
    from bot.clock import now, ts
    from bot.runtime.roster import Roster
    from bot.stores.factory import open_stores

    try:
        stores = open_stores(env=env)
        rows = stores.db.query(
            "SELECT id, email, role, expires_at FROM mcp_tokens WHERE revoked_at IS NULL "
            "AND expires_at > ? ORDER BY expires_at, id",
            [ts(now())],
        )
        made = stores.db.one("SELECT COUNT(*) AS n FROM mcp_tokens")
        roster = Roster.load(stores.workbook)
    except EcmError:  # the database check reports it
        return None
    if not made or not made["n"]:
        return None
    writes = str(env.get("ECM_MCP_ALLOW_WRITES") or "").strip().lower() in ("1", "true", "yes")
    detail = f"{len(rows)} active token(s); writes {'on' if writes else 'off'}"
    soon = ts(now() + timedelta(days=EXPIRING_DAYS))
    expiring = [
        f"{r['id']} ({r['email']}) on {str(r['expires_at'])[:10]}"
        for r in rows
        if str(r["expires_at"]) <= soon
    ]
    stale = []
    for r in rows:
        member = roster.by_email(str(r["email"]))
        if member is None or not member.active or r["role"] not in member.roles:
            stale.append(f"{r['id']} ({r['email']} is no longer an active {r['role']})")
    if not expiring and not stale:
        return Check("mcp", OK, detail)
    notes = [f"expiring within {EXPIRING_DAYS} days: " + ", ".join(expiring)] if expiring else []
    notes += ["refused on use: " + ", ".join(stale)] if stale else []
    return Check(
        "mcp",
        WARNING,
        f"{detail}; " + "; ".join(notes),
        "Make new tokens with `ecm-bot mcp token create --for EMAIL`, and revoke the unusable "
        "ones with `ecm-bot mcp token revoke ID`.",
    )


def check_roster(env: Mapping[str, str]) -> Check | None:
    """Roster rows whose Timezone or Working Hours cannot be read (those agents count as
    always on shift); None when every row reads, or the database does not open."""
    from bot.runtime.roster import Roster
    from bot.stores.factory import open_stores

    try:
        members = Roster(open_stores(env=env).workbook.read("Agents")).members
    except EcmError:  # the database check reports it
        return None
    bad = [f"{m.email}: {m.shift_problem}" for m in members if m.shift_problem]
    if not bad:
        return None
    return Check(
        "roster hours",
        WARNING,
        "; ".join(bad) + " (counted as always on shift)",
        "Fix the Agents tab's Timezone (e.g. Asia/Dubai) or Working Hours (e.g. 09:00-18:00).",
    )


def run_checks(env: Mapping[str, str] = os.environ) -> list[Check]:
    checks = [
        check_settings(env),
        check_slack(env),
        check_database(env),
        check_warehouse(env),
        check_sheet(env),
    ]
    sync = check_sync(env)
    checks += [sync] if sync else []
    roster = check_roster(env)
    checks += [roster] if roster else []
    mcp = check_mcp(env)
    checks += [mcp] if mcp else []
    return checks + [check_alerts(env), check_llm(env)] + check_models(env)
