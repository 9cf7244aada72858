"""A fake Google OAuth 2.0 token endpoint on 127.0.0.1, for service-account keys.

It serves the JWT-bearer grant google-auth's service-account credentials make (RFC 7523):
``POST /token`` with the form ``grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`` and
``assertion=<JWT>``. The JWT must be RS256-signed by the private key of an account registered
with ``service_account_info()`` (checked with that key's public half), name the account as
``iss``, have Google's token URL as ``aud`` (google-auth always sends it, whatever the key's
``token_uri``), be short-lived, and ask for a scope. The answer is Google's
``{"access_token", "expires_in": 3600, "token_type": "Bearer"}``; refusals are Google's 400
``{"error": "invalid_grant", "error_description": ...}``.

``LocalServer`` is the small threaded JSON server both this fake and ``fake_sheets`` use.
"""

from __future__ import annotations

import base64
import functools
import json
import secrets
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ACCOUNT = "ecm-bot@ecm-test.iam.gserviceaccount.com"

# (method, path, headers, body) -> (status, JSON payload, extra response headers)
Handle = Callable[[str, str, dict[str, str], bytes], tuple[int, dict, dict[str, str]]]


class LocalServer:
    """A threaded HTTP/1.1 server on 127.0.0.1 answering every request with ``handle``."""

    def __init__(self, handle: Handle):
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                super().setup()  # answer at once: no Nagle delay between headers and body
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, *args):  # quiet
                pass

            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, payload, extra = handle(self.command, self.path, headers, body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(data)))
                for k, v in extra.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = _serve

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        ).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@functools.cache
def rsa_key(name: str = "default") -> rsa.RSAPrivateKey:
    """An RSA key made once per test session (per name). 1024 bits: the fake checks signatures,
    not strength, and google-auth reads the key afresh for every set of credentials (40 ms at
    2048 bits, 5 ms at 1024)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=1024)


def private_key_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


@dataclass
class Grant:
    account: str
    scope: str
    token: str | None  # None: refused
    error: str | None = None


class Refused(Exception):
    def __init__(self, error: str, description: str, status: int = 400):
        super().__init__(description)
        self.error, self.description, self.status = error, description, status


class FakeGoogleToken:
    """Google's token endpoint for the service accounts registered with it."""

    def __init__(self, clock: Callable[[], float] = time.time, lifetime: int = 3600):
        self.clock = clock  # JWT iat/exp are checked against it, and tokens expire by it
        self.lifetime = lifetime
        self.accounts: dict[str, rsa.RSAPublicKey] = {}
        self.grants: list[Grant] = []
        self._tokens: dict[str, tuple[str, str, float]] = {}  # token -> (account, scope, exp)
        self._lock = threading.Lock()
        self._server: LocalServer | None = None

    def start(self) -> FakeGoogleToken:
        self._server = LocalServer(self.handle)
        return self

    def stop(self) -> None:
        if self._server:
            self._server.stop()
            self._server = None

    def __enter__(self) -> FakeGoogleToken:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server, "start() the fake first"
        return self._server.url + "/token"

    # ------------------------------------------------------------------ test helpers

    def service_account_info(
        self, account: str = ACCOUNT, key: rsa.RSAPrivateKey | None = None, register: bool = True
    ) -> dict:
        """A service-account JSON key whose ``token_uri`` is this fake. ``register=False``
        makes a key the fake does not know (its signatures fail)."""
        key = key or rsa_key()
        if register:
            self.accounts[account] = key.public_key()
        return {
            "type": "service_account",
            "project_id": "ecm-test",
            "private_key_id": "0" * 40,
            "private_key": private_key_pem(key),
            "client_email": account,
            "client_id": "100000000000000000000",
            "token_uri": self.url,
        }

    def lookup(self, token: str) -> tuple[str, str] | None:
        """(account, scope) of a live access token, None when unknown or expired."""
        with self._lock:
            found = self._tokens.get(token)
        if found is None or found[2] <= self.clock():
            return None
        return found[0], found[1]

    def revoke_all(self) -> None:
        """Forget every issued token (as when they expire)."""
        with self._lock:
            self._tokens.clear()

    # ------------------------------------------------------------------ serving

    def handle(self, method: str, path: str, headers: dict, body: bytes):
        if method != "POST" or path.split("?")[0] != "/token":
            return 404, {"error": "not_found", "error_description": f"no {method} {path}"}, {}
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        try:
            if not headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
                raise Refused("invalid_request", "Expected a form-encoded body.")
            if form.get("grant_type") != JWT_BEARER:
                raise Refused(
                    "unsupported_grant_type", f"Invalid grant_type: {form.get('grant_type')}"
                )
            account, scope = self._verify(form.get("assertion", ""))
        except Refused as exc:
            self.grants.append(Grant("", "", None, exc.error))
            return exc.status, {"error": exc.error, "error_description": exc.description}, {}
        token = "ya29.fake-" + secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[token] = (account, scope, self.clock() + self.lifetime)
        self.grants.append(Grant(account, scope, token))
        return 200, {"access_token": token, "expires_in": self.lifetime, "token_type": "Bearer"}, {}

    def _verify(self, assertion: str) -> tuple[str, str]:
        parts = assertion.split(".")
        try:
            header, claims = (json.loads(_b64decode(p)) for p in parts[:2])
            signature = _b64decode(parts[2])
        except (ValueError, IndexError):
            raise Refused("invalid_grant", "Invalid JWT: the assertion is malformed.") from None
        if header.get("alg") != "RS256":
            raise Refused("invalid_grant", "Invalid JWT: the algorithm must be RS256.")
        public = self.accounts.get(claims.get("iss", ""))
        if public is None:
            raise Refused("invalid_grant", "Invalid grant: account not found")
        try:
            public.verify(
                signature,
                f"{parts[0]}.{parts[1]}".encode(),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except InvalidSignature:
            raise Refused("invalid_grant", "Invalid JWT Signature.") from None
        if claims.get("aud") != GOOGLE_TOKEN_URL:
            raise Refused("invalid_grant", "Invalid JWT: Failed audience check.")
        now, iat, exp = self.clock(), claims.get("iat", 0), claims.get("exp", 0)
        if not (iat - 300 <= now < exp and exp - iat <= 3600):
            raise Refused(
                "invalid_grant",
                "Invalid JWT: Token must be a short-lived token (60 minutes) and in a "
                "reasonable timeframe. Check your iat and exp values in the JWT claim.",
            )
        scope = str(claims.get("scope", "")).strip()
        if not scope:
            raise Refused("invalid_scope", "Invalid OAuth scope or ID token audience provided.")
        return claims["iss"], scope
