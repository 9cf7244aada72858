"""Language models behind one small interface: Anthropic (primary) and OpenAI (fallback)."""
