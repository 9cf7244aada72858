"""The HTTP side of the Google Sheets adapter: bounded retries on 429/5xx (honouring
Retry-After), a request counter on the session, error messages, and service-account keys."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import requests
from gspread.exceptions import APIError
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from bot.errors import EcmError, NotConfigured

log = logging.getLogger("bot.stores.sheets_workbook")

CREDENTIALS_ENV = "GOOGLE_SHEETS_CREDENTIALS"
RETRY_STATUSES = (429, 500, 502, 503, 504)


class SheetsError(EcmError):
    """Google Sheets refused or failed a request (after retries); the message says which."""


class BoundedRetry(Retry):
    """urllib3 Retry that honours Retry-After but never sleeps longer than RETRY_AFTER_MAX."""

    RETRY_AFTER_MAX = 60.0

    def get_retry_after(self, response):
        seconds = super().get_retry_after(response)
        return None if seconds is None else min(seconds, self.RETRY_AFTER_MAX)


class RequestCounter:
    count = 0


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
        elif code in (401, 403):
            advice = (
                f"Check that the sheet is shared (as Editor) with the service account of "
                f"{CREDENTIALS_ENV}."
            )
        else:
            advice = "Check the spreadsheet and its tabs."
        return SheetsError(
            f"Google Sheets answered HTTP {code} when trying to {what}: {message}. {advice}"
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
