"""The bot's error hierarchy: every message says what went wrong and what to do next."""

from __future__ import annotations


class EcmError(Exception):
    """Base class for errors that are shown to a user as one clear line."""


class SkillConfigError(EcmError):
    """A skill folder or its config is invalid. The message names the file and the field."""

    def __init__(self, path: object, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class AccessDenied(EcmError):
    """The guard refused a load, a tool call or a row access."""

    def __init__(
        self,
        *,
        skill: str,
        role: str,
        resource: str,
        rule: str,
        message: str | None = None,
        hint: str | None = None,
    ):
        self.skill, self.role, self.resource, self.rule = skill, role, resource, rule
        self.hint = hint
        """The refusal in plain words for a chat surface (no skill names or rule ids), with
        what the person can do instead; None: the message is all there is."""
        super().__init__(
            message or f"Access denied: {role} skill '{skill}' may not use '{resource}' — {rule}"
        )


class InputError(EcmError):
    """The user's input is malformed or incomplete (an order ID, missing notes...).
    ``field`` names the input it is about (e.g. "notes"), so a form can show the message
    under that field."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field


class NotFound(EcmError):
    """Something the user named does not exist (an order, an agent, a skill)."""


class NotOnRoster(EcmError):
    """The caller is not an active member of the ECM roster."""


class Conflict(EcmError):
    """The request clashes with the current state (already resolved, triage running...)."""


class NeedsConfirmation(EcmError):
    """An allowed but unusual write (an agent outside their specializations or over their
    capacity) that waits for the person to confirm it; nothing was written. ``warnings`` say
    what is unusual, each in plain words; the message also says how to confirm in chat.
    ``seen`` is what the request was judged on (e.g. the ticket's status and owner), for a
    confirmation step to hand back, so a confirmation of something that changed since is
    refused."""

    def __init__(self, message: str, *, warnings: tuple[str, ...] = (), seen: dict | None = None):
        super().__init__(message)
        self.warnings = warnings
        self.seen = dict(seen or {})


class NotConfigured(EcmError):
    """A required setting or data set is missing; the message says how to provide it."""


class UnsafeQuery(EcmError):
    """A statement that is not a single read-only SELECT/WITH was refused before it reached
    the warehouse."""

    def __init__(self, query: str, rule: str):
        self.query, self.rule = query, rule
        named = f"The query {query}" if query else "That query"
        super().__init__(f"{named} was refused: {rule}.")


class AdapterError(EcmError):
    """An external system (the warehouse, Google Sheets, Slack) failed or refused; the
    message names the system and what to check."""


class AssistantUnavailable(EcmError):
    """The language model could not answer (provider down, budget spent); callers fall back
    to the deterministic answer."""


class StoreUnavailable(EcmError):
    """The bot's database (the system of record) is down, locked or unreachable. Nothing was
    written: every state change is one transaction."""

    def __init__(self, where: str, detail: str = ""):
        self.where, self.detail = where, detail
        why = f" ({detail})" if detail else ""
        super().__init__(
            f"The ECM database at {where} is not answering right now{why}. Nothing was "
            "changed; try again in a minute."
        )
