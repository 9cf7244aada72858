"""The real warehouse: Amazon Redshift through redshift-connector, read-only.

Configured by REDSHIFT_HOST (+ REDSHIFT_PORT, REDSHIFT_DATABASE, REDSHIFT_USER, REDSHIFT_PASSWORD,
optional REDSHIFT_SSL=false) or by one URL, REDSHIFT_URL=redshift://user:pass@host:5439/db; without
either, the embedded SQLite warehouse is used. The same ``shared/queries/*.sql`` run here and on
SQLite and return the same rows: timestamp parameters given as 'YYYY-MM-DD HH:MM:SS' text are bound
as timestamps, and result timestamps come back as that text, numerics as float.

Safety: every statement passes ``check_read_only`` before it is sent; the session is made
read-only where the server supports it; each statement runs in its own transaction (autocommit)
under a statement timeout. A failed connection is retried briefly, then reported as
``WarehouseUnavailable`` naming host:port and what to check (never the password).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from urllib.parse import parse_qs, unquote, urlsplit

import redshift_connector
from tenacity import (
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential,
)

from bot.clock import TS_FORMAT
from bot.errors import AdapterError, NotConfigured
from bot.observability.tracing import warehouse_span
from bot.stores.warehouse import check_read_only, expand_lists

log = logging.getLogger(__name__)

DEFAULT_PORT = 5439
_TS_TEXT = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}")
_FALSE = {"0", "false", "no", "off", "disable", "disabled"}
# SQLSTATEs: login refused (28xxx) or no such database (3D000) won't heal by retrying.
_PERMANENT_CONNECT = ("28", "3D000")
# The connection is gone (class 08, or the server terminated this session): reconnect once.
_DROPPED = ("08", "57P01", "57P02", "57P03")
# "SET SESSION CHARACTERISTICS" is deprecated on Redshift: feature not supported, syntax error,
# or unknown setting are the refusals ignored; anything else fails the connection.
_READ_ONLY_UNSUPPORTED = ("0A000", "42601", "42704")
_QUERY_CANCELED = "57014"


class WarehouseUnavailable(AdapterError):
    """The warehouse cannot be reached or refused the login; the message says what to check."""


class WarehouseTimeout(WarehouseUnavailable):
    """A statement ran longer than the statement timeout."""


def sqlstate(error: BaseException) -> str:
    """The SQLSTATE of a redshift-connector server error ('' when it has none)."""
    first = error.args[0] if error.args else None
    return str(first.get("C", "")) if isinstance(first, dict) else ""


def server_message(error: BaseException) -> str:
    """The server's one-line message for a redshift-connector error, else the error text."""
    first = error.args[0] if error.args else None
    if isinstance(first, dict) and first.get("M"):
        return str(first["M"])
    text = " ".join(str(a) for a in error.args if not isinstance(a, BaseException)) or str(error)
    cause = next((a for a in error.args if isinstance(a, BaseException)), None)
    return f"{text}: {cause}" if cause else text or type(error).__name__


def bind_param(value: object) -> object:
    """Timestamp text ('YYYY-MM-DD HH:MM:SS', UTC) becomes a naive UTC datetime, so it binds as
    TIMESTAMP instead of relying on the server typing an untyped text parameter against the
    timestamp column it is compared with; the rest is unchanged."""
    if isinstance(value, str) and _TS_TEXT.fullmatch(value):
        return datetime.strptime(value.replace("T", " "), TS_FORMAT)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def result_value(value: object) -> object:
    """Values as SQLite returns them: timestamps as 'YYYY-MM-DD HH:MM:SS' (UTC), numerics as
    float."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value.strftime(TS_FORMAT)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


class RedshiftWarehouse:
    """Runs named queries on Redshift; rows as dicts keyed by column name."""

    def __init__(
        self,
        *,
        host: str,
        port: int = DEFAULT_PORT,
        database: str,
        user: str,
        password: str,
        timeout: float = 10,
        statement_timeout_ms: int = 30000,
        ssl: bool = True,
        connect: Callable[..., object] = redshift_connector.connect,
        connect_attempts: int = 3,
        connect_backoff: float = 0.25,
    ):
        self.host, self.port, self.database, self.user = host, int(port), database, user
        self._password = password
        self.timeout = timeout
        self.statement_timeout_ms = int(statement_timeout_ms)
        self.ssl = ssl
        self._connect_fn = connect
        self.connect_attempts = connect_attempts
        self.connect_backoff = connect_backoff  # first wait between attempts, doubling, at most 2 s
        self.round_trips = 0
        self.connect_tries = 0  # connection attempts made (retries included)
        self.read_only_session: bool | None = None  # None until connected
        self._conn = None
        self._lock = threading.RLock()

    def __repr__(self) -> str:  # never shows the password
        return f"RedshiftWarehouse({self.user}@{self.host}:{self.port}/{self.database})"

    # -- configuration -----------------------------------------------------------------------

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> RedshiftWarehouse | None:
        """From REDSHIFT_URL or REDSHIFT_HOST & co.; None when neither is set.

        Separate variables fill what the URL leaves out (e.g. the password)."""
        env = os.environ if env is None else env
        url = env.get("REDSHIFT_URL", "").strip()
        host = env.get("REDSHIFT_HOST", "").strip()
        if not url and not host:
            return None
        cfg: dict[str, str] = {}
        ssl_text = env.get("REDSHIFT_SSL", "").strip()
        if url:
            parts = urlsplit(url)
            if parts.scheme not in ("redshift", "postgresql", "postgres") or not parts.hostname:
                raise NotConfigured(
                    "REDSHIFT_URL must look like redshift://user:password@host:5439/database."
                )
            try:
                url_port = parts.port
            except ValueError as err:
                raise NotConfigured("REDSHIFT_URL has an invalid port.") from err
            cfg = {
                "host": parts.hostname,
                "port": str(url_port or ""),
                "database": unquote(parts.path.lstrip("/")),
                "user": unquote(parts.username or ""),
                "password": unquote(parts.password or ""),
            }
            query = parse_qs(parts.query)
            ssl_text = ssl_text or (query.get("ssl") or query.get("sslmode") or [""])[0]
        for key in ("host", "port", "database", "user", "password"):
            if not cfg.get(key):
                cfg[key] = env.get(f"REDSHIFT_{key.upper()}", "").strip()
        missing = [f"REDSHIFT_{k.upper()}" for k in ("database", "user", "password") if not cfg[k]]
        if missing:
            raise NotConfigured(
                f"The Redshift warehouse is configured ({cfg['host']}) but {', '.join(missing)} "
                "is not set. Set it, or use REDSHIFT_URL=redshift://user:password@host:5439/db."
            )
        try:
            port = int(cfg["port"] or DEFAULT_PORT)
        except ValueError as err:
            raise NotConfigured(f"REDSHIFT_PORT must be a number, got {cfg['port']!r}.") from err
        return cls(
            host=cfg["host"],
            port=port,
            database=cfg["database"],
            user=cfg["user"],
            password=cfg["password"],
            ssl=ssl_text.lower() not in _FALSE,
        )

    # -- connection --------------------------------------------------------------------------

    def _scrub(self, text: str) -> str:
        # Server messages never quote it; this is belt and braces (short ones would mangle text).
        return text.replace(self._password, "***") if len(self._password) >= 4 else text

    def _unavailable(self, error: BaseException, attempts: int) -> WarehouseUnavailable:
        where = f"{self.host}:{self.port}"
        reason = self._scrub(server_message(error))
        state = sqlstate(error)
        if state.startswith("28"):
            hint = f"check REDSHIFT_USER ({self.user}) and REDSHIFT_PASSWORD"
        elif state == "3D000":
            hint = f"check REDSHIFT_DATABASE ({self.database})"
        else:
            hint = (
                "check REDSHIFT_HOST and REDSHIFT_PORT, that the cluster is running and "
                "reachable from here (VPC security group, publicly accessible), and REDSHIFT_SSL"
            )
        tries = f" after {attempts} attempt{'s' if attempts != 1 else ''}"
        return WarehouseUnavailable(
            f"Cannot connect to the Redshift warehouse at {where}{tries}: {reason}. "
            f"{hint[0].upper()}{hint[1:]}."
        )

    def _open(self):
        self.connect_tries += 1
        return self._connect_fn(
            host=self.host,
            port=self.port,
            database=self.database,
            user=self.user,
            password=self._password,
            ssl=self.ssl,
            timeout=self.timeout,
            application_name="ecm-bot",
        )

    def _connection(self):
        if self._conn is not None:
            return self._conn

        def transient(error: BaseException) -> bool:
            if not isinstance(error, redshift_connector.Error | OSError):
                return False  # a bug, not the network: no retry
            return not sqlstate(error).startswith(_PERMANENT_CONNECT)

        before = self.connect_tries
        retrying = Retrying(
            stop=stop_after_attempt(self.connect_attempts) | stop_after_delay(3 * self.timeout),
            wait=wait_exponential(multiplier=self.connect_backoff, max=2),
            retry=retry_if_exception(transient),
            reraise=True,
        )
        try:
            conn = retrying(self._open)
        except (redshift_connector.Error, OSError) as err:
            raise self._unavailable(err, self.connect_tries - before) from None
        try:
            self._prepare_session(conn)
        except (redshift_connector.Error, OSError) as err:
            _close_quietly(conn)
            raise self._unavailable(err, self.connect_tries - before) from None
        self._conn = conn
        return conn

    def _prepare_session(self, conn) -> None:
        """Autocommit (no idle open transaction), read-only where supported, statement timeout,
        and a socket timeout long enough for a statement that uses its whole time budget."""
        conn.autocommit = True
        cursor = conn.cursor()
        try:
            cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
            self.read_only_session = True
        except redshift_connector.ProgrammingError as err:
            if sqlstate(err) not in _READ_ONLY_UNSUPPORTED:
                raise
            log.info("warehouse: read-only session not supported here: %s", server_message(err))
            self.read_only_session = False
        cursor.execute(f"SET statement_timeout TO {self.statement_timeout_ms}")
        sock = getattr(conn, "_usock", None)  # the driver applies `timeout` to every read
        if sock is not None and self.timeout:
            sock.settimeout(self.timeout + self.statement_timeout_ms / 1000)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                _close_quietly(self._conn)
                self._conn = None

    # -- queries -----------------------------------------------------------------------------

    def run(self, sql: str, params: dict[str, object]) -> list[dict]:
        """Run one read-only statement with bound named parameters; rows as dicts."""
        check_read_only(sql)
        sql, params = expand_lists(sql, params or {})
        bound = {name: bind_param(value) for name, value in params.items()}
        with warehouse_span("aws.redshift", sql), self._lock:
            self.round_trips += 1
            try:
                return self._execute(sql, bound)
            except (redshift_connector.Error, OSError) as err:
                if not _dropped(err):
                    raise self._query_error(err) from None
                log.info("warehouse: connection dropped (%s); reconnecting once", err)
                self.close()
            try:
                return self._execute(sql, bound)
            except (redshift_connector.Error, OSError) as err:
                self.close()
                if _dropped(err):
                    raise self._unavailable(err, 1) from None
                raise self._query_error(err) from None

    def _execute(self, sql: str, params: dict[str, object]) -> list[dict]:
        cursor = self._connection().cursor()
        cursor.paramstyle = "named"
        cursor.execute(sql, params if params else None)
        if not cursor.description:
            return []
        names = [column[0] for column in cursor.description]
        return [
            {name: result_value(value) for name, value in zip(names, row, strict=True)}
            for row in cursor.fetchall()
        ]

    def _query_error(self, err: BaseException) -> BaseException:
        """Timeouts become WarehouseTimeout; other errors (bad SQL...) propagate as they are."""
        if isinstance(err, TimeoutError):  # the socket gave up: the session state is unknown
            self.close()
        if sqlstate(err) == _QUERY_CANCELED or isinstance(err, TimeoutError):
            return WarehouseTimeout(
                f"The warehouse query at {self.host}:{self.port} ran longer than the statement "
                f"timeout ({self.statement_timeout_ms / 1000:g} s): narrow it or try again later."
            )
        return err

    def ping(self) -> bool:
        """For ``doctor``: True when ``SELECT 1`` runs; raises WarehouseUnavailable otherwise."""
        return self.run("SELECT 1 AS ok", {}) == [{"ok": 1}]


def _dropped(err: BaseException) -> bool:
    if isinstance(err, TimeoutError):
        return False
    if isinstance(err, OSError | redshift_connector.InterfaceError):
        return True
    return sqlstate(err).startswith(_DROPPED)


def _close_quietly(conn) -> None:
    with contextlib.suppress(Exception):  # closing a broken connection may fail in many ways
        conn.close()
