"""Personal MCP tokens in the system of record. A token is shown once when created; only its
sha256 is stored. It acts as one roster member in one role and follows the roster: a member
made inactive, removed or moved to the other role has a token that stops working. Every
refusal goes to the denial log; creation and revocation to the audit log."""

from __future__ import annotations

import hashlib
import os
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import NoReturn

from bot import clock
from bot.errors import AccessDenied, EcmError, InputError
from bot.ids import clean_text, new_id
from bot.runtime.roster import Member, Roster
from bot.stores.factory import Stores

PREFIX = "ecm_mcp_"
DEFAULT_DAYS = 90
MAX_DAYS = 366
USE_STAMP_SECONDS = 60  # last_used_at is written at most once a minute per token
SURFACE = "mcp"  # the denial log's skill column for refusals before any skill runs


class TokenRefused(EcmError):
    """A token that cannot act: missing, malformed, unknown, expired, revoked, or its member
    no longer on the roster in its role."""


@dataclass(frozen=True)
class Identity:
    """Who a valid token acts as: the member, limited to the token's one role."""

    token_id: str
    member: Member
    role: str
    expires_at: datetime


def token_days(env=os.environ) -> int:
    """How long a new token lives: ECM_MCP_TOKEN_DAYS (default 90, at most 366)."""
    raw = str(env.get("ECM_MCP_TOKEN_DAYS") or DEFAULT_DAYS).strip()
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_DAYS:
        raise InputError(f"ECM_MCP_TOKEN_DAYS must be a whole number of days from 1 to {MAX_DAYS}.")
    return int(raw)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class DenialLimiter:
    """How many refusals of tokens nobody owns (none, malformed, unknown) a server records
    one by one: at most ``per_minute`` in each minute. Beyond that they are still refused but
    only counted, and the count is recorded as one denial when the next minute's first one
    comes, so a client hammering the endpoint with junk can't flood the denial log with a
    database write per request. Refusals of a known token's holder are always recorded."""

    def __init__(self, per_minute: int = 30):
        self.per_minute = per_minute
        self._lock = threading.Lock()
        self._window: datetime | None = None
        self._recorded = 0
        self.suppressed = 0

    def admit(self, at: datetime) -> tuple[bool, int]:
        """Whether to record a refusal at ``at``, and how many the last window suppressed (to
        record once, now)."""
        with self._lock:
            carried = 0
            if self._window is None or at - self._window >= timedelta(minutes=1):
                carried, self.suppressed = self.suppressed, 0
                self._window, self._recorded = at, 0
            if self._recorded >= self.per_minute:
                self.suppressed += 1
                return False, carried
            self._recorded += 1
            return True, carried


class TokenStore:
    """The ``mcp_tokens`` table (m022) and the rules around it."""

    def __init__(
        self,
        stores: Stores,
        now: Callable[[], datetime] | None = None,
        limiter: DenialLimiter | None = None,
    ):
        """``limiter``: the server's bound on recording refusals of tokens nobody owns (none:
        every refusal is recorded, as for the CLI)."""
        self.stores = stores
        self.db = stores.db
        self._now = now or (lambda: clock.now())
        self.limiter = limiter

    # -- managing tokens ------------------------------------------------------------------
    def create(self, by: Member, email: str, role: str | None = None, days: int | None = None):
        """A new token for ``email`` (an active roster member), created by ``by``: returns
        (token, row). Only a manager may create one for someone else."""
        roster = Roster.load(self.stores.workbook)
        member = roster.resolve(email)
        if member.email != by.email and "manager" not in by.roles:
            self._refuse(by.email, "create", "only ECM managers may create tokens for others")
        if role is None:
            if len(member.roles) != 1:
                raise InputError(
                    f"{member.email} holds both roles; say which one the token is for with "
                    "--role manager or --role field (a token carries one role).",
                    field="role",
                )
            role = member.roles[0]
        if role not in member.roles:
            raise InputError(f"{member.email} is not on the ECM roster as {role}.", field="role")
        at = self._now()
        life = days if days is not None else token_days()
        if not 1 <= life <= MAX_DAYS:
            raise InputError(f"A token lives from 1 to {MAX_DAYS} days.", field="days")
        token = PREFIX + secrets.token_urlsafe(32)
        row = {
            "id": new_id(),
            "token_hash": digest(token),
            "email": member.email,
            "role": role,
            "created_by": by.email,
            "created_at": clock.ts(at),
            "expires_at": clock.ts(at + timedelta(days=life)),
        }
        with self.db.transaction():
            self.db.execute(
                "INSERT INTO mcp_tokens (id, token_hash, email, role, created_by, created_at, "
                "expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                list(row.values()),
            )
            self.stores.state.audit(
                actor=by.email,
                action="mcp_token_create",
                target=f"mcp_token:{row['id']}",
                before=None,
                after={k: v for k, v in row.items() if k != "token_hash"},
            )
        return token, row

    def listing(self, by: Member, email: str | None = None) -> list[dict]:
        """Tokens (never their hashes), newest first: a manager's of anyone, others' own."""
        if "manager" not in by.roles:
            email = by.email
        columns = "id, email, role, created_by, created_at, expires_at, revoked_at, last_used_at"
        if email:
            rows = self.db.query(
                f"SELECT {columns} FROM mcp_tokens WHERE email = ? ORDER BY created_at DESC, id",
                [email.strip().lower()],
            )
        else:
            rows = self.db.query(f"SELECT {columns} FROM mcp_tokens ORDER BY created_at DESC, id")
        current = clock.ts(self._now())
        return [{**r, "state": _state(r, current)} for r in rows]

    def revoke(self, by: Member, token_id: str) -> dict:
        """Revoke a token by its id: a manager any, others their own; audited."""
        key = clean_text(token_id).strip().lower()
        row = self.db.one("SELECT * FROM mcp_tokens WHERE id = ?", [key])
        if row is None or ("manager" not in by.roles and row["email"] != by.email):
            raise InputError(f"There is no token {key[:20]!r} you can revoke.", field="id")
        if row.get("revoked_at"):
            raise InputError(f"Token {key} was already revoked at {row['revoked_at']} UTC.")
        stamp = clock.ts(self._now())
        with self.db.transaction():
            changed = self.db.execute(
                "UPDATE mcp_tokens SET revoked_at = ?, revoked_by = ? "
                "WHERE id = ? AND revoked_at IS NULL",
                [stamp, by.email, key],
            )
            if changed:
                self.stores.state.audit(
                    actor=by.email,
                    action="mcp_token_revoke",
                    target=f"mcp_token:{key}",
                    before={"revoked_at": None},
                    after={"revoked_at": stamp, "email": row["email"]},
                )
        if not changed:
            raise InputError(f"Token {key} was already revoked.")
        return {**row, "revoked_at": stamp, "revoked_by": by.email}

    # -- checking a token -----------------------------------------------------------------
    def check(self, token: str | None) -> Identity:
        """The identity ``token`` acts as now, or TokenRefused (recorded as a denial)."""
        text = (token or "").strip()
        if not text:
            self._refuse("unknown", "token", "no token was given", missing=True)
        if not text.startswith(PREFIX) or len(text) > 200 or not text.isascii():
            self._refuse("unknown", "token", "the token is malformed")
        row = self.db.one("SELECT * FROM mcp_tokens WHERE token_hash = ?", [digest(text)])
        if row is None:
            self._refuse("unknown", "token", "the token is not known")
        email, at = str(row["email"]), self._now()
        if row.get("revoked_at"):
            self._refuse(email, "token", f"the token was revoked at {row['revoked_at']} UTC")
        expires = clock.parse_ts(row["expires_at"])
        if expires <= at:
            self._refuse(email, "token", f"the token expired at {row['expires_at']} UTC")
        member = Roster.load(self.stores.workbook).by_email(email)
        if member is None or not member.active or not member.roles:
            self._refuse(email, "roster", "its member is no longer active on the ECM roster")
        role = str(row["role"])
        if role not in member.roles:
            self._refuse(email, "roster", f"its member is no longer on the ECM roster as {role}")
        self._stamp_use(row, at)
        return Identity(str(row["id"]), replace(member, roles=(role,)), role, expires)

    def _stamp_use(self, row: dict, at: datetime) -> None:
        last = row.get("last_used_at")
        if last and (at - clock.parse_ts(last)).total_seconds() < USE_STAMP_SECONDS:
            return
        self.db.execute(
            "UPDATE mcp_tokens SET last_used_at = ? WHERE id = ?", [clock.ts(at), row["id"]]
        )

    def _refuse(self, caller: str, what: str, why: str, missing: bool = False) -> NoReturn:
        """Record the refusal in the denial log (within the limiter's bound for tokens nobody
        owns) and raise it."""
        record, carried = (
            self.limiter.admit(self._now())
            if self.limiter is not None and caller == "unknown"
            else (True, 0)
        )
        if carried:
            self.stores.state.record_denial(
                caller="unknown",
                skill=SURFACE,
                role="",
                resource="mcp:token",
                rule=f"{carried} more refusals of unknown or malformed tokens in the minute "
                "before, not recorded one by one",
            )
        if record:
            self.stores.state.record_denial(
                caller=caller, skill=SURFACE, role="", resource=f"mcp:{what}", rule=why
            )
        if what == "create":
            raise AccessDenied(
                skill=SURFACE,
                role="",
                resource="mcp:create",
                rule=why,
                message=f"Sorry, {why}. Nothing was created.",
            )
        hint = (
            "Set ECM_MCP_TOKEN (stdio) or send it as a bearer token (HTTP)."
            if missing
            else "Ask for a new one: ecm-bot mcp token create --for YOUR_EMAIL."
        )
        raise TokenRefused(f"Your ECM token can't be used: {why}. {hint}")


def _state(row: dict, current: str) -> str:
    if row.get("revoked_at"):
        return "revoked"
    return "expired" if str(row["expires_at"]) <= current else "active"
