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
        self, *, skill: str, role: str, resource: str, rule: str, message: str | None = None
    ):
        self.skill, self.role, self.resource, self.rule = skill, role, resource, rule
        super().__init__(
            message or f"Access denied: {role} skill '{skill}' may not use '{resource}' — {rule}"
        )


class InputError(EcmError):
    """The user's input is malformed or incomplete (an order ID, missing notes...)."""


class NotFound(EcmError):
    """Something the user named does not exist (an order, an agent, a skill)."""


class NotOnRoster(EcmError):
    """The caller is not an active member of the ECM roster."""


class Conflict(EcmError):
    """The request clashes with the current state (already resolved, triage running...)."""


class NotConfigured(EcmError):
    """A required setting or data set is missing; the message says how to provide it."""


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
