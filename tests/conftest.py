"""Shared fixtures: a seeded embedded data set in a temporary data directory."""

from __future__ import annotations

import contextlib
import functools
import gc
import os
import shutil
import socket
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # the bot is imported where it is used: the xdist controller runs no test
    from bot.runtime.dispatch import Reply
    from bot.runtime.executor import SkillResult
    from bot.skills.registry import Registry
    from bot.stores.factory import Stores

if sys.dont_write_bytecode:
    # PYTHONDONTWRITEBYTECODE (set on some machines, this one included) makes pytest rewrite
    # every test module's asserts afresh in each worker, about 4 s a run. Let it keep them in
    # __pycache__ (ignored by git) like any Python import.
    sys.dont_write_bytecode = False

# The collector's passes cost about 7 ms a test at the default thresholds, most of it full
# passes over the modules and collected tests, which are never garbage: those are frozen once
# collected (pytest_collection_finish), and young objects are collected every 50,000
# allocations instead of every 700. While collecting (importing the test modules and making
# their items) it is off: one pass at the end, before the freeze. The xdist controller, which
# collects nothing, turns it back on at the start of its session.
gc.set_threshold(50_000, 20, 20)
gc.disable()

MANAGER = "maya.manager@example.com"
SARAH = "sarah.ops@example.com"
DINESH = "dinesh.kyc@example.com"


@pytest.fixture(autouse=True)
def no_internet(monkeypatch):
    """Tests never touch the internet: any connection off loopback fails loudly."""
    real_connect = socket.socket.connect

    def guarded(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and not (
            host.startswith("127.") or host in ("localhost", "::1") or host.startswith("/")
        ):
            raise RuntimeError(f"test tried to reach {address!r}; tests stay on loopback")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


@dataclass
class Demo:
    """A seeded data directory with helpers to act as roster members."""

    path: Path
    registry: Registry
    stores: Stores

    def chat(self, who: str, text: str) -> Reply:
        from bot.runtime.dispatch import handle_message

        return handle_message(self.registry, self.stores, who, text)

    def run(self, who: str, skill: str, **args) -> SkillResult:
        from bot.runtime.executor import execute
        from bot.runtime.roster import Roster

        caller = Roster.load(self.stores.workbook).resolve(who)
        return execute(self.registry, self.stores, skill, caller, args)

    def rows(self, tab: str) -> list[dict]:
        return self.stores.workbook.read(tab)

    def tickets_of(self, email: str, statuses=("ASSIGNED", "IN_PROGRESS")) -> list[dict]:
        """The agent's rows in those statuses (the exact email), in sheet order: the
        system of record's agent lookup (case-blind, so a superset), not the whole tab."""
        return [
            r
            for r in self.stores.workbook.read("Assignments", {"Assigned Agent": email})
            if r["Assigned Agent"] == email and r["Status"] in statuses
        ]


def pytest_configure(config):
    import spawn

    # One fork server for the run, started by the first pytest process (the xdist controller);
    # the workers find it through the environment. The workers are forked from it too (through
    # tests/forked.py, on execnet's pipes), so none of them imports the bot and its SDKs again:
    # ECM_TEST_FORK_WORKERS=0 starts them as plain interpreters instead.
    spawn.start_server()
    tx = getattr(config.option, "tx", None)
    if tx and os.environ.get("ECM_TEST_FORK_WORKERS", "1") != "0":
        launcher = f"{sys.executable} {Path(__file__).with_name('forked.py')}"
        config.option.tx = [f"popen//python={launcher}" if t == "popen" else t for t in tx]
    config.addinivalue_line(
        "markers", "fresh_database: the test's PostgreSQL database starts empty (unmigrated)"
    )


def pytest_xdist_auto_num_workers(config):
    """``-n auto``: one worker more than the CPUs this process may use. Many tests spend part
    of their time waiting (on bot processes they started, PostgreSQL, loopback servers and
    their own deadlines), and the extra worker runs tests in those waits.
    PYTEST_XDIST_AUTO_NUM_WORKERS still sets the number outright."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None  # xdist's own hook reads it
    return len(os.sched_getaffinity(0)) + 1


_warm_ups: list[threading.Thread] = []


def pytest_sessionstart(session):
    """In the xdist controller, while the fork server does its imports on one CPU before any
    worker can start: the garbage collector back on (off while collecting, and the controller
    collects nothing); older runs' base temporary directories deleted in a thread (pytest
    deletes them at the end of the run otherwise, about a second on the critical path); for
    a whole-suite run, the workers' migrated PostgreSQL template made once, in another
    (``pg_databases.share_template``: 0.3 s of the server's CPU that each worker paid); and,
    when test_package.py is among the paths run, the wheel it checks built and installed in
    a third (``package_build.prepare``)."""
    config = session.config
    if hasattr(config, "workerinput") or not getattr(config.option, "tx", None):
        return
    gc.enable()
    shared = config._tmp_path_factory.getbasetemp()  # this run's, the workers' basetemps' parent
    keep = int(config.getini("tmp_path_retention_count"))
    policy = config.getini("tmp_path_retention_policy")
    if config.option.basetemp is None and keep > 0 and policy != "none":
        _warm_up(functools.partial(_delete_older_runs, keep=keep), shared)
    paths = _run_paths(config)
    here = Path(__file__).parent
    if any(p.is_dir() and here.is_relative_to(p) for p in paths):  # the whole suite
        import pg_databases

        make = pg_databases.share_template(shared / "pg-template")  # locked before workers start
        _warm_up(lambda _: make(), shared)
    if _among(here / "test_package.py", paths):
        import package_build

        _warm_up(package_build.prepare, shared)


def _run_paths(config) -> list[Path]:
    """The files and directories this run was asked for, resolved."""
    return [(config.invocation_params.dir / a.split("::")[0]).resolve() for a in config.args]


def _among(module: Path, paths: list[Path]) -> bool:
    """Whether the run includes ``module``: named, or in a directory named."""
    return any(p == module or (p.is_dir() and module.is_relative_to(p)) for p in paths)


def _delete_older_runs(basetemp: Path, keep: int) -> None:
    """What pytest's retention deletes when this run ends (the numbered directories beyond
    the newest ``keep``, and leftover garbage), with pytest's own function and arguments,
    now: the same call at the end then finds nothing left to delete."""
    from _pytest.pathlib import LOCK_TIMEOUT, cleanup_numbered_dir

    dead_before = basetemp.stat().st_mtime - LOCK_TIMEOUT
    cleanup_numbered_dir(basetemp.parent, "pytest-", keep, dead_before)


def _warm_up(prepare: Callable[[Path], object], shared: Path) -> None:
    """Run ``prepare(shared)`` in a daemon thread, joined when the run ends."""
    thread = threading.Thread(target=_quietly, args=(prepare, shared), daemon=True)
    thread.start()
    _warm_ups.append(thread)


def _quietly(prepare: Callable[[Path], object], shared: Path) -> None:
    """A warm-up that fails leaves nothing ready: the test's own fixture then builds (or
    pytest deletes) and reports the error itself."""
    with contextlib.suppress(Exception):
        prepare(shared)


@pytest.hookimpl(tryfirst=True)
def pytest_unconfigure(config):
    """Before pytest's own end-of-run garbage passes (one in its unconfigure hook, one in
    its cleanup, each over every object the run left, about 0.25 s a worker): one pass here,
    which frees every cycle and reports what their finalizers raised as before, then what is
    left is frozen, so those two passes have nothing to walk."""
    for thread in _warm_ups:
        thread.join(timeout=600)
    gc.collect()
    gc.freeze()


@pytest.hookimpl(tryfirst=True)
def pytest_collection(session):
    """In an xdist worker, before it collects: its share of the run's test modules'
    assert-rewritten bytecode written where missing (``rewritten_pycs``)."""
    workerinput = getattr(session.config, "workerinput", None)
    if workerinput is None:
        return
    import rewritten_pycs

    paths = _run_paths(session.config)
    modules = [m for m in sorted(Path(__file__).parent.glob("test_*.py")) if _among(m, paths)]
    worker = str(workerinput.get("workerid", "")).removeprefix("gw")
    if worker.isdigit() and workerinput.get("workercount"):
        rewritten_pycs.write_share(modules, int(worker), int(workerinput["workercount"]))


def pytest_collection_finish(session):
    gc.collect()
    gc.freeze()
    gc.enable()


@pytest.fixture
def pg_url(request):
    """A PostgreSQL database at the current schema with no data (a copy of a migrated
    template, reset and reused by the next test in this process; empty, and dropped
    afterwards, under the ``fresh_database`` marker), as an ECM_DATABASE_URL."""
    from pg_databases import create_database, database_at_template, drop_database, give_back

    from bot.db import postgres

    fresh = request.node.get_closest_marker("fresh_database") is not None
    url = create_database() if fresh else database_at_template()
    yield url
    for key, db in list(postgres._shared.items()):
        if key[0] == url:
            db.close()
    if fresh:
        drop_database(url)
    else:
        give_back(url)


@pytest.fixture(params=["sqlite", "postgres"])
def engine_env(request, tmp_path) -> dict:
    """The environment for each engine of the system of record: embedded SQLite in a
    temporary data directory, or a fresh PostgreSQL database."""
    env = {"ECM_DATA_DIR": str(tmp_path)}
    if request.param == "postgres":
        env["ECM_DATABASE_URL"] = request.getfixturevalue("pg_url")
    return env


@pytest.fixture(scope="session")
def registry() -> Registry:
    from bot.skills.registry import Registry

    return Registry.load()


def _template(path: Path, registry: Registry, triage: bool) -> Path:
    """Seed (and triage) a data directory once, with the database checkpointed so that its
    files can be copied whole."""
    from bot.demo.seed import seed_demo
    from bot.stores.factory import open_stores

    stores = open_stores(path, env={})
    seed_demo(path, stores.workbook, orders=120, seed=3)
    if triage:
        Demo(path, registry, stores).run(MANAGER, "triage-and-assign")
    stores.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@pytest.fixture(scope="session")
def seeded_dir(tmp_path_factory, registry) -> Path:
    return _template(tmp_path_factory.mktemp("seeded"), registry, triage=False)


@pytest.fixture(scope="session")
def triaged_dir(tmp_path_factory, registry) -> Path:
    return _template(tmp_path_factory.mktemp("triaged"), registry, triage=True)


def _copy(template: Path, tmp_path: Path, monkeypatch, registry: Registry) -> Demo:
    from bot.stores.factory import open_stores

    for name in ("state.db", "warehouse.db"):
        shutil.copyfile(template / name, tmp_path / name)
    monkeypatch.setenv("ECM_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("ECM_DATABASE_URL", raising=False)
    return Demo(tmp_path, registry, open_stores(tmp_path, env={}))


@pytest.fixture
def demo(tmp_path, monkeypatch, registry, seeded_dir) -> Demo:
    """120 stuck orders seeded (seed 3), not yet triaged (a copy of one seeded per run)."""
    return _copy(seeded_dir, tmp_path, monkeypatch, registry)


@pytest.fixture
def triaged(tmp_path, monkeypatch, registry, triaged_dir) -> Demo:
    """The demo data set after one triage by the manager (a copy of one triaged per run)."""
    return _copy(triaged_dir, tmp_path, monkeypatch, registry)


@pytest.fixture
def slack(triaged, monkeypatch):
    """The real Bolt app on the triaged demo, served on loopback against a fake Slack Web API
    (``slack_harness.serve_bot``); ``.demo`` is the data, ``.fake`` the fake. A test file may
    define its own ``slack`` instead."""
    from fake_slack import FakeSlack
    from slack_harness import serve_bot

    for var in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET"):
        monkeypatch.delenv(var, raising=False)
    fake = FakeSlack().start()
    served = serve_bot(triaged.registry, triaged.path, fake)
    served.demo = triaged
    yield served
    served.stop()
    fake.stop()


@pytest.fixture
def untriaged_slack(demo, monkeypatch):
    """As ``slack``, on the seeded demo before any triage (so the first triage threads every
    agent)."""
    from fake_slack import FakeSlack
    from slack_harness import serve_bot

    for var in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET"):
        monkeypatch.delenv(var, raising=False)
    fake = FakeSlack().start()
    served = serve_bot(demo.registry, demo.path, fake)
    served.demo = demo
    yield served
    served.stop()
    fake.stop()


def engine_template(
    engine: str, path: Path, build: Callable[[Stores, Path], None]
) -> tuple[Path, dict | None]:
    """A data set made by ``build(stores, path)`` in a new directory ``path`` on ``engine``:
    the directory to copy, and on PostgreSQL the database's rows to load (``rows_of``)."""
    from pg_databases import database_at_template, give_back, rows_of

    from bot.stores.factory import open_stores

    path.mkdir()
    env = {"ECM_DATA_DIR": str(path)}
    if engine == "postgres":
        env["ECM_DATABASE_URL"] = database_at_template()
    stores = open_stores(path, env=env)
    build(stores, path)
    rows = None
    if engine == "postgres":
        rows = rows_of(env["ECM_DATABASE_URL"])
        stores.db.close()
        give_back(env["ECM_DATABASE_URL"])
    else:
        stores.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        stores.db.close()
    return path, rows


def copy_engine_template(template: Path, rows: dict | None, tmp_path: Path, env: dict) -> None:
    """An ``engine_template`` into ``tmp_path`` and the test's database (``env``)."""
    from pg_databases import load_rows

    for name in ("state.db", "warehouse.db"):
        if (template / name).exists():
            shutil.copyfile(template / name, tmp_path / name)
    if rows is not None:
        load_rows(env["ECM_DATABASE_URL"], rows)


_ON_ENGINE: dict[str, tuple[Path, dict | None]] = {}


@pytest.fixture
def on_engine(engine_env, tmp_path, tmp_path_factory, registry, monkeypatch) -> Demo:
    """60 seeded orders, triaged once, on each engine of the system of record (the engine's
    variables also set in the environment, for code that opens its own stores): a copy of a
    data set seeded and triaged once per process."""
    from bot.demo.seed import seed_demo
    from bot.stores.factory import open_stores

    for key, value in engine_env.items():
        monkeypatch.setenv(key, value)
    if "ECM_DATABASE_URL" not in engine_env:
        monkeypatch.delenv("ECM_DATABASE_URL", raising=False)
    engine = "postgres" if "ECM_DATABASE_URL" in engine_env else "sqlite"
    if engine not in _ON_ENGINE:

        def build(stores: Stores, path: Path) -> None:
            seed_demo(path, stores.workbook, orders=60, seed=3)
            Demo(path, registry, stores).run(MANAGER, "triage-and-assign")

        base = tmp_path_factory.getbasetemp()
        _ON_ENGINE[engine] = engine_template(engine, base / f"on-engine-{engine}", build)
    copy_engine_template(*_ON_ENGINE[engine], tmp_path, engine_env)
    return Demo(tmp_path, registry, open_stores(tmp_path, env=engine_env))
