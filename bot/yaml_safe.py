"""YAML parsed with PyYAML's safe loader, through libyaml's C parser where PyYAML was built
with it (the same documents and errors as ``yaml.safe_load``, about ten times faster): every
skill config, SKILL.md frontmatter and shared config file is read through here."""

from __future__ import annotations

from typing import Any

import yaml

_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml(text: str) -> Any:
    """``yaml.safe_load(text)``; raises yaml.YAMLError on bad YAML, as safe_load does."""
    return yaml.load(text, Loader=_SAFE_LOADER)
