"""Data sets for the Slack flow tests, made once per process and engine and copied per test
(as conftest's ``on_engine`` does): seeding 60 orders, or a triage over Slack, costs far more
than copying what it left."""

from __future__ import annotations

import copy
import itertools
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import Demo, copy_engine_template, engine_template
from fake_slack import FakeSlack
from slack_harness import ServedApp, serve_bot

from bot.demo.seed import seed_demo
from bot.skills.registry import Registry
from bot.stores.factory import open_stores
from bot.stores.workbook import RowUpdate

FILES = ("state.db", "warehouse.db")
_SHORT_STAFFED: dict[str, tuple[Path, dict | None]] = {}


def set_capacity(stores, capacity: int, *emails: str) -> None:
    """Give roster members ``capacity`` (every field agent when no email is given)."""
    agents = stores.workbook.read("Agents")
    chosen = set(emails) or {a["email"] for a in agents if "field" in str(a["role"])}
    stores.workbook.update("Agents", [RowUpdate(e, {"capacity": str(capacity)}) for e in chosen])


def _seed_short_staffed(stores, path: Path) -> None:
    seed_demo(path, stores.workbook, orders=60, seed=3)
    set_capacity(stores, 1)


def _short_staffed_template(engine: str, base: Path) -> tuple[Path, dict | None]:
    """60 seeded orders (seed 3), every field agent at capacity one, once per process and
    engine (``conftest.engine_template``)."""
    if engine not in _SHORT_STAFFED:
        path = base / f"short-staffed-template-{engine}"
        _SHORT_STAFFED[engine] = engine_template(engine, path, _seed_short_staffed)
    return _SHORT_STAFFED[engine]


def short_staffed_demo(engine_env: dict, tmp_path: Path, registry: Registry) -> Demo:
    """The short-staffed data set in ``tmp_path`` (and the engine's database): a copy of the
    one made once per process. ``tmp_path``'s parent (pytest's base temporary directory)
    holds the template."""
    engine = "postgres" if "ECM_DATABASE_URL" in engine_env else "sqlite"
    copy_engine_template(*_short_staffed_template(engine, tmp_path.parent), tmp_path, engine_env)
    return Demo(tmp_path, registry, open_stores(tmp_path, env=engine_env))


# -- a served app after a triage in #COPS, made once and copied ---------------------------------
@dataclass
class Snapshot:
    """What a served app left behind: its data (files, and on PostgreSQL the rows), and what
    the fake Slack received (its calls, uploads, and where its ts and file counters stood)."""

    path: Path
    rows: dict | None
    calls: list
    uploads: dict
    next_ts: int
    next_file: int


_SNAPSHOTS: dict[tuple[str, str], Snapshot] = {}


def _close_postgres(url: str) -> None:
    from bot.db import postgres

    for key, db in list(postgres._shared.items()):
        if key[0] == url:
            db.close()


def served_snapshot(
    key: str,
    engine: str,
    base: Path,
    registry: Registry,
    fill: Callable[[dict, Path], None],
    act: Callable[[ServedApp], None],
) -> Snapshot:
    """Once per process, ``key`` and engine: ``fill(env, path)`` writes the data set, then the
    real Bolt app is served on it against a fresh FakeSlack and ``act`` runs (e.g. a triage in
    #COPS); once the app has stopped (every listener done) its data and the fake's record are
    kept, for ``serve_snapshot`` to copy into each test."""
    if (key, engine) not in _SNAPSHOTS:
        from pg_databases import database_at_template, give_back, rows_of

        path = base / f"snapshot-{key}-{engine}"
        path.mkdir()
        env = {"ECM_DATA_DIR": str(path)}
        if engine == "postgres":
            env["ECM_DATABASE_URL"] = database_at_template()
        fill(env, path)
        with pytest.MonkeyPatch.context() as mp:
            for var in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "ECM_DATABASE_URL"):
                mp.delenv(var, raising=False)
            for var, value in env.items():
                mp.setenv(var, value)
            fake = FakeSlack().start()
            served = serve_bot(registry, path, fake)
            served.demo = Demo(path, registry, open_stores(path, env=env))  # type: ignore[attr-defined]
            try:
                act(served)
            finally:
                served.stop()
                fake.stop()
        rows = None
        if engine == "postgres":
            _close_postgres(env["ECM_DATABASE_URL"])
            rows = rows_of(env["ECM_DATABASE_URL"])
            give_back(env["ECM_DATABASE_URL"])
        else:
            open_stores(path, env={}).db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            wal = path / "state.db-wal"
            assert not wal.exists() or wal.stat().st_size == 0, "state.db not checkpointed"
        _SNAPSHOTS[(key, engine)] = Snapshot(
            path,
            rows,
            copy.deepcopy(fake.calls),
            dict(fake.uploads),
            next(fake._ts),
            next(fake._files),
        )
    return _SNAPSHOTS[(key, engine)]


def serve_snapshot(
    snapshot: Snapshot, engine_env: dict, tmp_path: Path, registry: Registry, monkeypatch
) -> ServedApp:
    """The real Bolt app on a copy of ``snapshot``'s data in ``tmp_path`` (and the engine's
    database), against a new FakeSlack that has received what the snapshot's did (so later
    posts get later ts). Stop it with ``served.stop(); served.fake.stop()``."""
    from pg_databases import load_rows

    for var in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET"):
        monkeypatch.delenv(var, raising=False)
    for var, value in engine_env.items():
        monkeypatch.setenv(var, value)
    if "ECM_DATABASE_URL" not in engine_env:
        monkeypatch.delenv("ECM_DATABASE_URL", raising=False)
    for name in FILES:
        if (snapshot.path / name).exists():
            shutil.copyfile(snapshot.path / name, tmp_path / name)
    if snapshot.rows is not None:
        load_rows(engine_env["ECM_DATABASE_URL"], snapshot.rows)
    fake = FakeSlack()
    fake.calls.extend(copy.deepcopy(snapshot.calls))
    fake.uploads.update(snapshot.uploads)
    fake._ts = itertools.count(snapshot.next_ts)
    fake._files = itertools.count(snapshot.next_file)
    fake.start()
    served = serve_bot(registry, tmp_path, fake)
    served.demo = Demo(tmp_path, registry, open_stores(tmp_path, env=engine_env))  # type: ignore[attr-defined]
    return served


def engine_of(engine_env: dict) -> str:
    return "postgres" if "ECM_DATABASE_URL" in engine_env else "sqlite"


def triaged_short_staffed(engine_env: dict, tmp_path: Path, registry: Registry, monkeypatch):
    """The short-staffed app after one triage @-mentioned in #COPS (``triage_in_channel``),
    on each engine: a copy of the triage made once per process and engine. Yields the app."""
    from test_slack_live import triage_in_channel

    def fill(env: dict, path: Path) -> None:
        _seed_short_staffed(open_stores(path, env=env), path)

    snapshot = served_snapshot(
        "short-staffed-triaged",
        engine_of(engine_env),
        tmp_path.parent,
        registry,
        fill,
        triage_in_channel,
    )
    served = serve_snapshot(snapshot, engine_env, tmp_path, registry, monkeypatch)
    yield served
    served.stop()
    served.fake.stop()
