"""The MCP surface: the bot's skills served over the Model Context Protocol, beside Slack and
the CLI, behind the same walls (roster, role, guard, row rules, audit).

``tokens`` (personal tokens, hashed, in the system of record), ``catalog`` (which skills are
tools, per role, from ``shared/config/mcp-tools.yaml``) and ``calls`` (one tool call through
``execute``) import no SDK; ``server`` and ``verifier`` are the only modules importing ``mcp``."""
