"""Fresh PostgreSQL databases for tests, on the server ``make test`` starts
(scripts/start-postgres.sh: 127.0.0.1:5432, user ecm). ECM_TEST_PG_DSN points elsewhere."""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import os
import secrets
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DSN = "postgresql://ecm:ecm@127.0.0.1:5432/ecm_test"
_checked: list[str] = []


def admin_dsn() -> str:
    """The DSN of the test server's maintenance database (started if it is not running)."""
    dsn = os.environ.get("ECM_TEST_PG_DSN") or DEFAULT_DSN
    if not _checked:
        try:
            psycopg.connect(dsn, connect_timeout=3).close()
        except psycopg.OperationalError as first:
            if os.environ.get("ECM_TEST_PG_DSN"):
                raise RuntimeError(
                    f"PostgreSQL at ECM_TEST_PG_DSN is not reachable: {first}"
                ) from first
            done = subprocess.run(
                ["bash", str(ROOT / "scripts" / "start-postgres.sh")],
                capture_output=True,
                text=True,
                timeout=900,
                check=False,
            )
            if done.returncode != 0:
                raise RuntimeError(f"could not start PostgreSQL: {done.stderr[-500:]}") from first
        _checked.append(dsn)
    return dsn


_admins: dict[int, psycopg.Connection] = {}
_admin_lock = threading.RLock()


@contextlib.contextmanager
def _admin() -> Iterator[psycopg.Connection]:
    """This process's session on the maintenance database, kept for the run (every create,
    drop and lookup used to open its own: a connection costs about 8 ms of CPU here, half of
    it the server's); one that broke is replaced on the next use."""
    with _admin_lock:
        conn = _admins.get(os.getpid())
        if conn is None or conn.closed or conn.broken:
            conn = psycopg.connect(admin_dsn(), autocommit=True, connect_timeout=3)
            _admins[os.getpid()] = conn
        try:
            yield conn
        except psycopg.OperationalError:
            conn.close()
            raise


def with_database(dsn: str, name: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path="/" + name))


def create_database(template: str = "template0") -> str:
    """A new database, empty or a copy of ``template``; returns its URL."""
    name = f"ecm_sor_{os.getpid()}_{secrets.token_hex(4)}"
    for attempt in range(20):
        try:
            with _admin() as conn:
                conn.execute(f"CREATE DATABASE {name} TEMPLATE {template} ENCODING 'UTF8'")
            break
        except psycopg.errors.ObjectInUse:  # someone still on the template: a moment more
            if attempt == 19:
                raise
            time.sleep(0.1)
    return with_database(admin_dsn(), name)


_template: list[str] = []
SHARED_TEMPLATE = "ECM_TEST_PG_TEMPLATE"
"""Set by the xdist controller (``share_template``) for its workers: the lock file it holds
while it makes the run's migrated template."""


def migrated_template() -> str:
    """A database at the current schema, closed to connections, so each test's database is
    a quick copy of it instead of fourteen migrations (tests of migrating itself ask for an
    empty one: ``fresh_database``). The one the xdist controller made for the run, once it is
    ready; otherwise one made here, once per process."""
    if not _template:
        shared = _shared_template()
        if shared is not None:
            _template.append(shared)
        else:
            url = _make_template()
            _template.append(urlsplit(url).path.lstrip("/"))
            atexit.register(_drop_template, url)
    return _template[0]


def _make_template() -> str:
    """A new database migrated to the current schema and closed to connections; its URL."""
    from bot.db.postgres import PostgresDatabase

    url = create_database()
    PostgresDatabase(url).close()  # migrates
    name = urlsplit(url).path.lstrip("/")
    with _admin() as conn:
        conn.execute(f"ALTER DATABASE {name} WITH ALLOW_CONNECTIONS false")
    return url


def share_template(lock: Path) -> Callable[[], None]:
    """In the xdist controller, before its workers start: hold ``lock`` and name it in the
    environment they inherit; the returned function makes the template (in a thread, while
    the fork server imports), writes its name into the lock file and lets go. It is dropped
    when the controller exits. A worker that finds no name makes its own."""
    handle = lock.open("w")
    fcntl.flock(handle, fcntl.LOCK_EX)
    os.environ[SHARED_TEMPLATE] = str(lock)

    def make() -> None:
        try:
            url = _make_template()
            atexit.register(_drop_template, url)
            handle.write(urlsplit(url).path.lstrip("/"))
        finally:
            handle.close()  # written (or left empty) and unlocked

    return make


def _shared_template() -> str | None:
    """The controller's template, waiting while it is still being made; None without one."""
    lock = os.environ.get(SHARED_TEMPLATE)
    if not lock or not Path(lock).exists():
        return None
    with open(lock) as handle:
        fcntl.flock(handle, fcntl.LOCK_SH)
        name = handle.read().strip()
    if not name:
        return None
    with _admin() as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
    return name if found else None


_pool: list[str] = []
_snapshot: dict = {}


def database_at_template() -> str:
    """A database at the migrated template's state: a reused one from this process's pool
    when there is one (``give_back`` reset it), otherwise a fresh copy of the template.
    Creating a database costs about half a second here; resetting a used one, a few ms."""
    if _pool:
        return _pool.pop()
    url = create_database(migrated_template())
    atexit.register(_drop_template, url)  # whether it ends in the pool or not
    if not _snapshot:
        _snapshot.update(_state(url))
    return url


def give_back(url: str) -> None:
    """Reset a test's database to the template's state for the next test in this process:
    its sessions ended, every table emptied (the template's own rows put back, sequences
    restarted). A database whose schema the test changed, or that cannot be reset, is dropped."""
    try:
        _reset(url)
    except (psycopg.Error, ValueError):
        drop_database(url)
        return
    _pool.append(url)


def rows_of(url: str) -> dict:
    """Every row of every table and where each sequence stands, to put back with
    ``load_rows`` into a database at the same schema (a test's seeded data set, made once)."""
    with psycopg.connect(url, autocommit=True) as conn:
        _, rows = _tables_and_rows(conn)
        sequences = conn.execute(
            "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'"
            " AND last_value IS NOT NULL"
        ).fetchall()
    return {"rows": rows, "sequences": sequences}


def _tables_and_rows(conn: psycopg.Connection) -> tuple[list[str], dict[str, list]]:
    """The public tables, and the rows of those that have any."""
    tables = [
        r[0]
        for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        )
    ]
    rows = {t: conn.execute(f'SELECT * FROM "{t}"').fetchall() for t in tables}
    return tables, {t: r for t, r in rows.items() if r}


def load_rows(url: str, saved: dict) -> None:
    """Replace the contents of a database at the template's schema with ``rows_of``'s."""
    _replace_contents(_resetter(url), saved["rows"], saved["sequences"], called=True)


def _replace_contents(
    conn: psycopg.Connection, rows_by_table: dict, sequences: list, called: bool
) -> None:
    """Every table emptied and ``rows_by_table`` put in, each sequence set (its next value
    after ``value`` when ``called``, else ``value`` itself): one transaction, one round trip
    for the deletes and one for the sequences."""
    with conn.transaction():
        conn.execute(
            "SET LOCAL lock_timeout = '3s'; "
            + "; ".join(f'DELETE FROM "{table}"' for table in _snapshot["tables"])
        )
        for table, rows in rows_by_table.items():
            marks = ", ".join(["%s"] * len(rows[0]))
            with conn.cursor() as cur:
                cur.executemany(f'INSERT INTO "{table}" VALUES ({marks})', rows)
        if sequences:
            conn.execute(
                "SELECT " + ", ".join("setval(%s, %s, %s)" for _ in sequences),
                [v for name, value in sequences for v in (name, value, called)],
            )


def _state(url: str) -> dict:
    """The schema's fingerprint, the template's rows (migrations seed a few) and the sequences."""
    with psycopg.connect(url, autocommit=True) as conn:
        tables, rows = _tables_and_rows(conn)
        sequences = conn.execute(
            "SELECT sequencename, start_value FROM pg_sequences WHERE schemaname = 'public'"
        ).fetchall()
        return {
            "schema": _fingerprint(conn),
            "rows": rows,
            "tables": tables,
            "sequences": sequences,
        }


def _fingerprint(conn: psycopg.Connection) -> list:
    """Every column (type, default) and index of the public schema, from the catalogs (a fifth
    of the cost of information_schema, which checks privileges row by row)."""
    return conn.execute(
        "SELECT c.relname::text, a.attname::text, format_type(a.atttypid, a.atttypmod),"
        " pg_get_expr(d.adbin, d.adrelid)"
        " FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
        " JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'"
        " LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
        " WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v')"
        " UNION ALL"
        " SELECT tablename::text, indexname::text, indexdef, NULL FROM pg_indexes"
        " WHERE schemaname = 'public'"
        " ORDER BY 1, 2"
    ).fetchall()


_resetters: dict[str, psycopg.Connection] = {}


def _resetter(url: str) -> psycopg.Connection:
    """This process's own session on a pooled database, kept between tests (a connection
    costs 7 ms here, most of it the password exchange)."""
    conn = _resetters.get(url)
    if conn is None or conn.closed or conn.broken:
        conn = psycopg.connect(url, autocommit=True, connect_timeout=3)
        _resetters[url] = conn
    return conn


def _reset(url: str) -> None:
    try:
        _reset_with(_resetter(url))
    except psycopg.OperationalError:  # our session was ended (a test stopped the server's clients)
        _resetters.pop(url, None)
        _reset_with(_resetter(url))


def _reset_with(conn: psycopg.Connection) -> None:
    conn.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname ="
        " current_database() AND pid <> pg_backend_pid() AND usename = current_user"
        " AND backend_type = 'client backend'"
    )
    if _fingerprint(conn) != _snapshot["schema"]:
        raise ValueError("the test changed the schema")
    _replace_contents(conn, _snapshot["rows"], _snapshot["sequences"], called=False)


def _drop_template(url: str) -> None:
    with contextlib.suppress(psycopg.Error):  # a server gone or busy: the next start is fresh
        drop_database(url)


def drop_database(url: str) -> None:
    """Drop it; retried briefly, since an autovacuum worker (which the test role may not
    terminate) can hold it for a moment."""
    kept = _resetters.pop(url, None)
    if kept is not None:
        kept.close()
    name = urlsplit(url).path.lstrip("/")
    for attempt in range(20):
        try:
            with _admin() as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            return
        except (psycopg.errors.InsufficientPrivilege, psycopg.errors.ObjectInUse):
            if attempt == 19:
                raise
            time.sleep(0.25)
