"""The Redshift warehouse adapter against a REAL PostgreSQL server through the real driver.

``scripts/start-postgres.sh`` (run by ``make test`` / ``.ci/run``) starts PostgreSQL on
127.0.0.1:5432 (user ecm, password ecm, database ecm_test);
ECM_TEST_PG_DSN=postgresql://user:password@host:port/db points elsewhere. redshift-connector
reaches it through ``tests/pg_proxy.py``. Each session loads the same demo rows into its own
PostgreSQL database and into a SQLite warehouse, and every named query must return identical
rows on both. No server means these tests FAIL, they never skip.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote, urlsplit

import psycopg
import pytest
import redshift_connector
from pg_proxy import PgProxy

from bot.clock import ts
from bot.demo.seed import generate_orders, write_warehouse
from bot.errors import NotConfigured, UnsafeQuery
from bot.paths import PROJECT_ROOT, QUERIES_DIR
from bot.stores.redshift_warehouse import (
    RedshiftWarehouse,
    WarehouseTimeout,
    WarehouseUnavailable,
    bind_param,
    result_value,
)
from bot.stores.sqlite_warehouse import WAREHOUSE_SCHEMA, SqliteWarehouse
from bot.stores.warehouse import check_params

NOW = datetime(2025, 3, 14, 12, 0, 0, tzinfo=UTC)
PASSWORD_MARK = "pw-Do-Not-Print-7f3a"


def _pg_settings() -> dict:
    dsn = os.environ.get("ECM_TEST_PG_DSN", "")
    if not dsn:
        return {
            "host": "127.0.0.1",
            "port": 5432,
            "user": "ecm",
            "password": "ecm",
            "db": "ecm_test",
        }
    parts = urlsplit(dsn)
    return {
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or 5432,
        "user": unquote(parts.username or "ecm"),
        "password": unquote(parts.password or ""),
        "db": parts.path.lstrip("/") or "ecm_test",
    }


def _raw_connect(proxy: PgProxy, pg: dict, database: str):
    """A plain (writable) driver connection, for setup and for poking at the server."""
    conn = redshift_connector.connect(
        host="127.0.0.1",
        port=proxy.port,
        database=database,
        user=pg["user"],
        password=pg["password"],
        ssl=False,
        timeout=10,
        # named, as the bot names its own: unnamed, the driver finds a name with
        # inspect.stack(), which reads the source of every frame under pytest (about 0.1 s)
        application_name="ecm-tests",
    )
    conn.autocommit = True
    return conn


def _sql_type(column: str, kind: type) -> str:
    if column.endswith(("_at", "_since")):
        return "TIMESTAMP"
    return "NUMERIC(18,2)" if kind is float else "VARCHAR(512)"


def _load(pg: dict, database: str, table: str, rows: list[dict]) -> None:
    """Create and fill a warehouse table with COPY straight to the server (setup only: a
    multi-row INSERT through the driver and the proxy took about 1.4 s for the demo rows)."""
    columns = list(WAREHOUSE_SCHEMA[table])
    ddl = ", ".join(f"{c} {_sql_type(c, k)}" for c, k in WAREHOUSE_SCHEMA[table].items())
    with psycopg.connect(
        host=pg["host"],
        port=pg["port"],
        user=pg["user"],
        password=pg["password"],
        dbname=database,
        autocommit=True,
    ) as conn:
        conn.execute(f"CREATE TABLE {table} ({ddl})")
        with conn.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([row[c] for c in columns])


@pytest.fixture(scope="session")
def pg() -> dict:
    """A reachable PostgreSQL: started with scripts/start-postgres.sh when it is not running."""
    settings = _pg_settings()
    with PgProxy(settings["port"], settings["host"], lifetime=60) as proxy:
        try:
            _raw_connect(proxy, settings, settings["db"]).close()
            return settings
        except Exception as first:
            if os.environ.get("ECM_TEST_PG_DSN"):
                pytest.fail(f"PostgreSQL at ECM_TEST_PG_DSN is not reachable: {first}")
    script = PROJECT_ROOT / "scripts" / "start-postgres.sh"
    done = subprocess.run(
        ["bash", str(script)], capture_output=True, text=True, timeout=900, check=False
    )
    with PgProxy(settings["port"], settings["host"], lifetime=60) as proxy:
        try:
            _raw_connect(proxy, settings, settings["db"]).close()
        except Exception as err:
            pytest.fail(
                "PostgreSQL is required for the warehouse tests and could not be started "
                f"({script.name} exit {done.returncode}: {done.stderr.strip()[-500:]}); "
                f"connect error: {err}"
            )
    return settings


@pytest.fixture(scope="session")
def proxy(pg):
    with PgProxy(pg["port"], pg["host"], lifetime=600) as running:
        yield running


@pytest.fixture(scope="session")
def demo_rows():
    return generate_orders(120, seed=3, now=NOW)


@pytest.fixture(scope="session")
def pg_db(pg, proxy, demo_rows) -> str:
    """A database of this session's own (parallel runs share the server), with the demo rows."""
    name = f"ecm_t_{os.getpid()}_{secrets.token_hex(3)}"
    admin = _raw_connect(proxy, pg, pg["db"])
    admin.cursor().execute(
        f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"
    )
    try:
        orders, events = demo_rows
        _load(pg, name, "orders", orders)
        _load(pg, name, "order_events", events)
        yield name
    finally:
        admin.cursor().execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()


@pytest.fixture(scope="session")
def sqlite_wh(tmp_path_factory, demo_rows):
    path = tmp_path_factory.mktemp("warehouse") / "warehouse.db"
    write_warehouse(path, *demo_rows)
    wh = SqliteWarehouse(path)
    yield wh
    wh.close()


def _warehouse(pg: dict, proxy: PgProxy, database: str, **kwargs) -> RedshiftWarehouse:
    return RedshiftWarehouse(
        host="127.0.0.1",
        port=proxy.port,
        database=database,
        user=pg["user"],
        password=pg["password"],
        ssl=False,
        timeout=5,
        **kwargs,
    )


@pytest.fixture(scope="session")
def redshift_wh(pg, proxy, pg_db):
    wh = _warehouse(pg, proxy, pg_db)
    yield wh
    wh.close()


def _query(name: str) -> str:
    return (QUERIES_DIR / f"{name}.sql").read_text()


def _cases(demo_rows) -> dict[str, tuple[str, dict]]:
    orders, _ = demo_rows
    stuck = [o["order_id"] for o in orders if o["status"] == "STUCK"]
    cleared = [o["order_id"] for o in orders if o["status"] != "STUCK"]
    return {
        "dashboard-counts": ("ecm-dashboard-counts", {}),
        "order-detail": ("ecm-order-detail-v2", {"order_id": stuck[0]}),
        "order-detail-missing": ("ecm-order-detail-v2", {"order_id": "ZZ000ZZZ00"}),
        "order-timeline": ("ecm-order-timeline", {"order_id": cleared[0]}),
        "live-status": ("ecm-orders-live-status", {"order_ids": stuck[:3] + cleared[:2]}),
        "pending-list": ("ecm-pending-list", {}),
        "stuck-for-teams": (
            "ecm-stuck-for-teams",
            {
                "reason_codes": sorted({o["stuck_reason"] for o in orders if o["stuck_reason"]})[
                    :2
                ],
                "after_since": "1970-01-01 00:00:00",
                "after_id": "",
            },
        ),
        "recently-cleared": ("ecm-recently-cleared", {"since": ts(NOW - timedelta(hours=48))}),
        "stuck-trends": (
            "ecm-stuck-trends",
            {"since": ts(NOW - timedelta(days=7)), "now": ts(NOW - timedelta(hours=1))},
        ),
    }


CASES = list(_cases(generate_orders(120, seed=3, now=NOW)))


def test_every_named_query_is_covered():
    covered = {name for name, _ in _cases(generate_orders(12, seed=3, now=NOW)).values()}
    assert covered == {p.stem for p in QUERIES_DIR.glob("*.sql")}


@pytest.mark.parametrize("case", CASES)
def test_named_query_returns_the_same_rows_on_postgres_and_sqlite(
    case, demo_rows, redshift_wh, sqlite_wh
):
    name, params = _cases(demo_rows)[case]
    sql = _query(name)
    check_params(sql, params, name)
    expected = sqlite_wh.run(sql, params)
    got = redshift_wh.run(sql, params)
    assert got == expected
    if case != "order-detail-missing":
        assert got, f"{name} returned no rows: the case does not exercise it"


def test_rows_are_dicts_keyed_by_column_names(redshift_wh, demo_rows):
    order = demo_rows[0][0]
    rows = redshift_wh.run(_query("ecm-order-detail-v2"), {"order_id": order["order_id"]})
    assert len(rows) == 1 and isinstance(rows[0], dict)
    row = rows[0]
    assert list(row)[:4] == ["order_id", "corridor", "amount", "currency"]
    assert row["amount"] == order["send_amount"] and isinstance(row["amount"], float)
    assert row["stuck_since"] == order["stuck_since"]  # timestamp back as 'YYYY-MM-DD HH:MM:SS'
    assert row["cleared_at"] is None


def test_session_is_read_only(redshift_wh):
    redshift_wh.ping()
    assert redshift_wh.read_only_session is True
    raw = redshift_wh._connection().cursor()  # bypass check_read_only on purpose
    for statement in ("DELETE FROM orders", "CREATE TABLE sneaky (a INT)"):
        with pytest.raises(redshift_connector.ProgrammingError, match="read-only transaction"):
            raw.execute(statement)
    assert redshift_wh.run("SELECT COUNT(*) AS n FROM orders", {}) == [{"n": 720}]


def test_check_read_only_refuses_a_delete_before_it_reaches_the_server(redshift_wh):
    def must_not_connect(**kwargs):
        raise AssertionError("connected for a refused statement")

    offline = RedshiftWarehouse(
        host="127.0.0.1", port=1, database="d", user="u", password="p", connect=must_not_connect
    )
    for sql in ("DELETE FROM orders", "SELECT 1; DELETE FROM orders", "WITH x AS (SELECT 1) SET a"):
        with pytest.raises(UnsafeQuery):
            offline.run(sql, {})
    assert offline.connect_tries == 0 and offline.round_trips == 0
    before = redshift_wh.round_trips
    with pytest.raises(UnsafeQuery, match="That query was refused: only SELECT or WITH"):
        redshift_wh.run("DELETE FROM orders WHERE order_id = :id", {"id": "x"})
    assert redshift_wh.round_trips == before
    assert redshift_wh.run("SELECT COUNT(*) AS n FROM orders", {}) == [{"n": 720}]


def test_wrong_password_is_reported_clearly_without_the_password(pg, proxy, pg_db):
    wh = RedshiftWarehouse(
        host="127.0.0.1",
        port=proxy.port,
        database=pg_db,
        user=pg["user"],
        password=PASSWORD_MARK,
        ssl=False,
        timeout=5,
    )
    with pytest.raises(WarehouseUnavailable) as caught:
        wh.run("SELECT 1 AS ok", {})
    message = str(caught.value)
    assert f"127.0.0.1:{proxy.port}" in message and "REDSHIFT_PASSWORD" in message
    assert "password authentication failed" in message
    assert PASSWORD_MARK not in message and PASSWORD_MARK not in repr(wh)
    assert wh.connect_tries == 1  # a refused login is not retried


def test_closed_port_is_retried_briefly_then_reported(free_port):
    wh = RedshiftWarehouse(
        host="127.0.0.1",
        port=free_port,
        database="db",
        user="ecm",
        password=PASSWORD_MARK,
        ssl=False,
        timeout=2,
        connect_backoff=0.01,  # the default waits 0.25 s, then 0.5 s
    )
    with pytest.raises(WarehouseUnavailable) as caught:
        wh.ping()
    message = str(caught.value)
    assert wh.connect_tries == 3 and "after 3 attempts" in message
    assert f"127.0.0.1:{free_port}" in message and "REDSHIFT_HOST" in message
    assert PASSWORD_MARK not in message


@pytest.fixture
def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_statement_timeout(pg, proxy, pg_db):
    wh = _warehouse(pg, proxy, pg_db, statement_timeout_ms=100)
    try:
        with pytest.raises(WarehouseTimeout, match="statement timeout"):  # cancelled by the server
            wh.run("SELECT pg_sleep(5) AS slept", {})
        assert wh.ping()  # the session survives a cancelled statement
    finally:
        wh.close()


def test_reconnects_once_when_the_connection_dropped(pg, proxy, pg_db):
    wh = _warehouse(pg, proxy, pg_db)
    admin = _raw_connect(proxy, pg, pg_db)
    try:
        [row] = wh.run("SELECT pg_backend_pid() AS pid", {})
        admin.cursor().execute("SELECT pg_terminate_backend(%s)", (row["pid"],))
        time.sleep(0.1)
        assert wh.run("SELECT COUNT(*) AS n FROM order_events", {})[0]["n"] > 0
        assert wh.connect_tries == 2 and wh.round_trips == 2
    finally:
        admin.close()
        wh.close()


def test_parameters_and_values_convert_like_sqlite():
    assert bind_param("2025-03-14 12:00:00") == datetime(2025, 3, 14, 12, 0, 0)
    assert bind_param("AE123ABC45") == "AE123ABC45"
    assert bind_param("AE1,GB2") == "AE1,GB2"
    assert bind_param(datetime(2025, 3, 14, 14, 0, tzinfo=UTC)) == datetime(2025, 3, 14, 14, 0)
    from decimal import Decimal

    assert result_value(Decimal("12.50")) == 12.5 and result_value(7) == 7
    assert result_value(datetime(2025, 3, 14, 12, 0, 1, 5)) == "2025-03-14 12:00:01"


def test_from_env_separate_variables():
    env = {
        "REDSHIFT_HOST": "cluster.example.com",
        "REDSHIFT_PORT": "5440",
        "REDSHIFT_DATABASE": "dev",
        "REDSHIFT_USER": "ecm_reader",
        "REDSHIFT_PASSWORD": "s3cret",
    }
    wh = RedshiftWarehouse.from_env(env)
    assert (wh.host, wh.port, wh.database, wh.user, wh.ssl) == (
        "cluster.example.com",
        5440,
        "dev",
        "ecm_reader",
        True,
    )
    assert "s3cret" not in repr(wh)
    default_port = RedshiftWarehouse.from_env({**env, "REDSHIFT_PORT": "", "REDSHIFT_SSL": "false"})
    assert default_port.port == 5439 and default_port.ssl is False


def test_from_env_url():
    wh = RedshiftWarehouse.from_env(
        {"REDSHIFT_URL": "redshift://ecm%40reader:p%3Ass@cluster.example.com:5439/analytics"}
    )
    assert (wh.host, wh.port, wh.database, wh.user, wh._password) == (
        "cluster.example.com",
        5439,
        "analytics",
        "ecm@reader",
        "p:ss",
    )
    no_password = RedshiftWarehouse.from_env(
        {
            "REDSHIFT_URL": "redshift://reader@h.example.com/db?ssl=false",
            "REDSHIFT_PASSWORD": "from-env",
        }
    )
    assert no_password._password == "from-env" and no_password.port == 5439
    assert no_password.ssl is False


def test_from_env_not_set_or_incomplete():
    assert RedshiftWarehouse.from_env({}) is None
    with pytest.raises(NotConfigured, match="REDSHIFT_PASSWORD"):
        RedshiftWarehouse.from_env(
            {"REDSHIFT_HOST": "h", "REDSHIFT_DATABASE": "d", "REDSHIFT_USER": "u"}
        )
    with pytest.raises(NotConfigured, match="REDSHIFT_URL"):
        RedshiftWarehouse.from_env({"REDSHIFT_URL": "mysql://u:p@h/db"})


def test_proxy_applied_each_fix(proxy, redshift_wh):
    redshift_wh.ping()
    assert all(count > 0 for count in proxy.fixes.values()), proxy.fixes
