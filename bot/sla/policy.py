"""The SLA policy file, read strictly (pydantic, unknown keys refused)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.errors import EcmError
from bot.paths import CONFIG_DIR
from bot.resources import load_yaml

POLICY_FILE = CONFIG_DIR / "sla-policy.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Renotify(_Strict):
    priorities: tuple[str, ...] = ("P1", "P2")
    every_minutes: int = Field(gt=0, le=24 * 60)
    escalate_after: int = Field(ge=0, le=20)

    @field_validator("priorities")
    @classmethod
    def _priorities(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [p for p in value if p not in ("P1", "P2", "P3", "P4", "P5")]
        if bad:
            raise ValueError(f"unknown priorities {bad}; use P1 to P5")
        return value


class SlaPolicy(_Strict):
    warn_before_minutes: tuple[int, ...] = Field(min_length=1)
    renotify: Renotify

    @field_validator("warn_before_minutes")
    @classmethod
    def _warnings(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(m < 0 or m > 7 * 24 * 60 for m in value) or len(set(value)) != len(value):
            raise ValueError("each warning is 0 to 10080 minutes before the deadline, once")
        return tuple(sorted(value, reverse=True))


def load_policy(path: Path = POLICY_FILE) -> SlaPolicy:
    """The policy, or an EcmError naming the file and the field that is wrong."""
    try:
        return SlaPolicy.model_validate(load_yaml(path))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise EcmError(f"{path.name}: {where}: {first['msg']}") from exc
