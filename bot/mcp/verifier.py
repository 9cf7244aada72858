"""The SDK's token verifier for the HTTP server: a bearer token is one of our personal
tokens (``bot/mcp/tokens.py``), checked in the system of record on every request."""

from __future__ import annotations

import anyio.to_thread
from mcp.server.auth.provider import AccessToken

from bot.mcp.calls import McpCalls
from bot.mcp.tokens import TokenRefused


class EcmTokenVerifier:
    """``verify_token``: the AccessToken of a valid token (subject: the member's email,
    scopes: its one role), or None (the SDK answers 401; the reason is in the denial log)."""

    def __init__(self, calls: McpCalls):
        self.calls = calls

    async def verify_token(self, token: str) -> AccessToken | None:
        try:
            who = await anyio.to_thread.run_sync(self.calls.identify, token)
        except TokenRefused:
            return None
        return AccessToken(
            token=token,
            client_id=who.token_id,
            scopes=[who.role],
            expires_at=int(who.expires_at.timestamp()),
            subject=who.member.email,
        )
