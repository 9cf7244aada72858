"""The HTTP side of the Google Sheets adapter: the authorized session, bounded retries on
429/5xx (honouring Retry-After), a request counter on the session, error messages, and
service-account keys.

The session is google-auth's ``AuthorizedSession``: the service-account key is exchanged for
an access token at the key's ``token_uri`` (JWT-bearer grant), every request carries
``Authorization: Bearer <token>``, and a 401 refreshes the token. ``ECM_SHEETS_API_URL``
(default https://sheets.googleapis.com) sends the Sheets API requests to another base URL, e.g.
a local fake in tests or a proxy; gspread's URLs are rewritten on the session, the bearer token
is still sent.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import gspread
import requests
from google.auth import exceptions as auth_exceptions
from google.auth.transport.requests import AuthorizedSession, Request
from google.oauth2 import service_account
from gspread.exceptions import APIError
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from bot.errors import AdapterError, NotConfigured
from bot.observability import tracing

log = logging.getLogger("bot.stores.sheets_workbook")

CREDENTIALS_ENV = "GOOGLE_SHEETS_CREDENTIALS"
SHEETS_API_URL_ENV = "ECM_SHEETS_API_URL"
GOOGLE_SHEETS_URL = "https://sheets.googleapis.com"
SCOPES = ("https://www.googleapis.com/auth/spreadsheets",)
RETRY_STATUSES = (429, 500, 502, 503, 504)
INIT_HINT = "Run `ecm-bot sheets init` to create the missing tabs and headers."

T = TypeVar("T")


class SheetsError(AdapterError):
    """Google Sheets refused or failed a request (after retries); the message says which."""


class BoundedRetry(Retry):
    """urllib3 Retry that honours Retry-After but never sleeps longer than RETRY_AFTER_MAX."""

    RETRY_AFTER_MAX = 60.0

    def get_retry_after(self, response):
        seconds = super().get_retry_after(response)
        return None if seconds is None else min(seconds, self.RETRY_AFTER_MAX)


class RequestCounter:
    count = 0


class SheetsSession(AuthorizedSession):
    """google-auth's AuthorizedSession (bearer token, refresh on 401) that sends
    https://sheets.googleapis.com/... to ``base_url`` instead."""

    def __init__(self, credentials, base_url: str = GOOGLE_SHEETS_URL):
        # the token exchange gets its own plain session (as AuthorizedSession's default does),
        # so the Sheets retry adapter and request counter never see it
        self.token_session = requests.Session()
        self.token_session.mount("https://", HTTPAdapter(max_retries=3))
        super().__init__(credentials, auth_request=Request(self.token_session))
        self.base_url = base_url.rstrip("/")

    def request(self, method, url, *args, **kwargs):
        if isinstance(url, str) and url.startswith(GOOGLE_SHEETS_URL):
            url = self.base_url + url[len(GOOGLE_SHEETS_URL) :]
        return super().request(method, url, *args, **kwargs)


def sheets_api_url(env: Mapping[str, str]) -> str:
    """The Sheets API base URL: ECM_SHEETS_API_URL, or Google's."""
    raw = (env.get(SHEETS_API_URL_ENV) or "").strip().rstrip("/")
    if not raw:
        return GOOGLE_SHEETS_URL
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
        raise NotConfigured(
            f"{SHEETS_API_URL_ENV} must be a base URL such as {GOOGLE_SHEETS_URL} "
            f"(got {raw[:100]!r}); unset it to use Google's."
        )
    if raw != GOOGLE_SHEETS_URL:
        log.info("Google Sheets API requests go to %s (%s)", raw, SHEETS_API_URL_ENV)
    return raw


def authorized_client(info: Mapping[str, Any], base_url: str = GOOGLE_SHEETS_URL) -> gspread.Client:
    """A gspread client whose requests carry the service account's bearer token (exchanged at
    the key's ``token_uri`` on first use) and go to ``base_url``."""
    try:
        credentials = service_account.Credentials.from_service_account_info(
            dict(info), scopes=list(SCOPES)
        )
    except Exception as exc:  # google-auth raises ValueError and key-parsing errors
        raise NotConfigured(
            f"{CREDENTIALS_ENV} is not a usable service-account key "
            f"({type(exc).__name__}: {exc}). Download a new JSON key for the service "
            "account from the Google Cloud console."
        ) from None
    return gspread.Client(auth=credentials, session=SheetsSession(credentials, base_url))


def counter(session: requests.Session) -> RequestCounter:
    """The request counter of ``session`` (a zero counter when it was not instrumented)."""
    counter = getattr(session, "_ecm_counter", None)
    return counter if isinstance(counter, RequestCounter) else RequestCounter()


def instrument(session: requests.Session, retries: int, backoff: float) -> None:
    """Count every request made through ``session`` and retry 429/5xx with backoff."""
    retry = BoundedRetry(
        total=retries,
        connect=retries,
        read=0,  # a request that reached Google may have been applied: do not resend it
        status=retries,
        status_forcelist=list(RETRY_STATUSES),
        allowed_methods=None,  # retry POST/PUT too (429/5xx answers are refusals)
        backoff_factor=backoff,
        backoff_max=30,
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    if isinstance(getattr(session, "_ecm_counter", None), RequestCounter):
        return  # already counting
    counter = RequestCounter()
    inner = session.request

    def counted(method, url, *args, **kwargs):
        if not kwargs.get("_credential_refresh_attempt"):  # not AuthorizedSession's resend
            counter.count += 1
        return inner(method, url, *args, **kwargs)

    session._ecm_counter = counter  # type: ignore[attr-defined]
    session.request = counted  # type: ignore[method-assign]


def sheets_error(exc: Exception, what: str, retries: int) -> SheetsError:
    if isinstance(exc, APIError):
        code = exc.code if exc.code != -1 else exc.response.status_code
        message = str(exc.error.get("message", "")).strip()[:300]
        if code in RETRY_STATUSES:
            advice = (
                f"Gave up after {retries} retries. Google Sheets is rate-limiting or "
                "unavailable; try again in a minute."
            )
        elif code == 401:
            advice = (
                f"Google did not accept the credentials: check that {CREDENTIALS_ENV} is a "
                "current key of an enabled service account."
            )
        elif code == 403:
            advice = (
                f"Check that the sheet is shared (as Editor) with the service account of "
                f"{CREDENTIALS_ENV}."
            )
        else:
            advice = "Check the spreadsheet and its tabs."
        return SheetsError(
            f"Google Sheets answered HTTP {code} when trying to {what}: {message}. {advice}"
        )
    if isinstance(exc, auth_exceptions.RefreshError):
        detail = str(exc.args[0] if exc.args else exc)[:300]
        return SheetsError(
            f"Google refused to issue an access token for the service account of "
            f"{CREDENTIALS_ENV} (when trying to {what}): {detail}. Check that the key is "
            "current (not deleted) and the service account enabled, or download a new key."
        )
    if isinstance(exc, auth_exceptions.TransportError):
        return SheetsError(
            f"Could not reach Google's token endpoint (the token_uri of {CREDENTIALS_ENV}) to "
            f"{what}. Check the network and try again."
        )
    if isinstance(exc, requests.exceptions.RetryError):
        return SheetsError(
            f"Google Sheets kept failing when trying to {what}; gave up after {retries} "
            "retries. Try again in a minute."
        )
    return SheetsError(
        f"Could not reach Google Sheets to {what} ({type(exc).__name__}). "
        "Check the network and try again."
    )


def call(what: str, fn: Callable[[], T], retries: int) -> T:
    """``fn()``, with every Google/HTTP failure turned into one clear EcmError: a range on a
    missing tab becomes NotConfigured with the ``sheets init`` hint, the rest SheetsError.
    One client span per call (retries included), named by its first word ("sheets read")."""
    verb = what.split(" ", 1)[0] or "call"
    try:
        with tracing.span(f"sheets {verb}", {"ecm.sheets.request": what}, kind="client"):
            return fn()
    except APIError as exc:
        message = str(exc.error.get("message", ""))
        if exc.code == 400 and "Unable to parse range" in message:
            raise NotConfigured(
                f"Google Sheets: {message} (while trying to {what}). {INIT_HINT}"
            ) from None
        raise sheets_error(exc, what, retries) from None
    except (requests.RequestException, auth_exceptions.GoogleAuthError) as exc:
        raise sheets_error(exc, what, retries) from None


def quote(tab: str) -> str:
    """A tab name as an A1 sheet reference."""
    return "'" + tab.replace("'", "''") + "'"


def missing_headers(tab: str, header: Sequence[str], required: Sequence[str]) -> NotConfigured:
    missing = [c for c in required if c not in header]
    return NotConfigured(
        f"Google Sheets tab {tab!r} has no header {', '.join(repr(c) for c in missing)} "
        f"in row 1. {INIT_HINT}"
    )


def service_account_info(raw: str) -> dict:
    """The service-account key from GOOGLE_SHEETS_CREDENTIALS (JSON content or a path)."""
    if raw.startswith("{"):
        source, text = "its JSON content", raw
    else:
        path = Path(raw).expanduser()
        shown = raw if len(raw) <= 200 and "\n" not in raw else "the given path"
        if not path.is_file():
            raise NotConfigured(
                f"{CREDENTIALS_ENV} must be a service-account JSON key or the path to one; "
                f"there is no file at {shown!r}."
            )
        try:
            source, text = f"the file {str(path)!r}", path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise NotConfigured(
                f"{CREDENTIALS_ENV}: cannot read {str(path)!r} ({type(exc).__name__})."
            ) from None
    try:
        info = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotConfigured(
            f"{CREDENTIALS_ENV}: {source} is not valid JSON (line {exc.lineno}, column "
            f"{exc.colno}: {exc.msg}). It must be a service-account key file."
        ) from None
    if not isinstance(info, dict) or info.get("type") != "service_account":
        raise NotConfigured(
            f'{CREDENTIALS_ENV}: {source} is not a service-account key (no "type": '
            '"service_account"). Create a JSON key for a service account in the Google Cloud '
            "console."
        )
    missing = [k for k in ("client_email", "private_key", "token_uri") if not info.get(k)]
    if missing:
        raise NotConfigured(
            f"{CREDENTIALS_ENV}: the service-account key lacks {', '.join(missing)}. "
            "Download a new JSON key."
        )
    return info
