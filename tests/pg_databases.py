"""Fresh PostgreSQL databases for tests, on the server ``make test`` starts
(scripts/start-postgres.sh: 127.0.0.1:5432, user ecm). ECM_TEST_PG_DSN points elsewhere."""

from __future__ import annotations

import atexit
import contextlib
import os
import secrets
import subprocess
import time
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


def with_database(dsn: str, name: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path="/" + name))


def create_database(template: str = "template0") -> str:
    """A new database, empty or a copy of ``template``; returns its URL."""
    name = f"ecm_sor_{os.getpid()}_{secrets.token_hex(4)}"
    for attempt in range(20):
        try:
            with psycopg.connect(admin_dsn(), autocommit=True) as conn:
                conn.execute(f"CREATE DATABASE {name} TEMPLATE {template} ENCODING 'UTF8'")
            break
        except psycopg.errors.ObjectInUse:  # someone still on the template: a moment more
            if attempt == 19:
                raise
            time.sleep(0.1)
    return with_database(admin_dsn(), name)


_template: list[str] = []


def migrated_template() -> str:
    """A database at the current schema, made (and migrated) once per process and closed to
    connections, so each test's database is a quick copy of it instead of fourteen
    migrations (tests of migrating itself ask for an empty one: ``fresh_database``)."""
    if not _template:
        from bot.db.postgres import PostgresDatabase

        url = create_database()
        PostgresDatabase(url).close()  # migrates
        name = urlsplit(url).path.lstrip("/")
        with psycopg.connect(admin_dsn(), autocommit=True) as conn:
            conn.execute(f"ALTER DATABASE {name} WITH ALLOW_CONNECTIONS false")
        _template.append(name)
        atexit.register(_drop_template, url)
    return _template[0]


def _drop_template(url: str) -> None:
    with contextlib.suppress(psycopg.Error):  # a server gone or busy: the next start is fresh
        drop_database(url)


def drop_database(url: str) -> None:
    """Drop it; retried briefly, since an autovacuum worker (which the test role may not
    terminate) can hold it for a moment."""
    name = urlsplit(url).path.lstrip("/")
    for attempt in range(20):
        try:
            with psycopg.connect(admin_dsn(), autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            return
        except (psycopg.errors.InsufficientPrivilege, psycopg.errors.ObjectInUse):
            if attempt == 19:
                raise
            time.sleep(0.25)
