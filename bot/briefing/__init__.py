"""What an agent is given for one request, and how many tokens that costs."""

from bot.briefing.builder import ContextPart, build_context, monolith_parts

__all__ = ["ContextPart", "build_context", "monolith_parts"]
