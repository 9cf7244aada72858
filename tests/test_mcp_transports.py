"""The MCP server over its two transports with the SDK's own client: stdio (``python -m bot
mcp`` in a child process, the token in ECM_MCP_TOKEN) on SQLite, and Streamable HTTP (uvicorn
on 127.0.0.1, bearer tokens checked by the SDK's token verifier) on both engines. (The
transport does not touch the engine; a subprocess opening PostgreSQL from its environment is
what tests/test_replicas.py runs, so stdio runs once: five server processes.) A field
token lists no manager tool and sees only its own tickets; a manager token lists triage and
no field write tool; a bad token is refused and recorded; writes happen only when allowed,
and are audited."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import ssl
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, nullcontext, suppress
from functools import cache
from pathlib import Path

import anyio
import httpx2
import pytest
import spawn
import uvicorn
from conftest import MANAGER, SARAH
from mcp import Client, MCPError, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from bot.mcp.calls import McpCalls
from bot.mcp.catalog import Catalog
from bot.mcp.server import http_app
from bot.mcp.tokens import TokenStore
from bot.paths import PROJECT_ROOT
from bot.runtime.roster import Roster

FORKED = Path(__file__).with_name("forked.py")
FIELD_WRITES = {"resolve_ticket", "escalate_ticket", "snooze_ticket"}
MANAGER_ONLY = {"triage_plan", "triage_run", "dashboard", "patterns", "assign_ticket"}


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
def engine(on_engine, engine_env):
    """The triaged data on one engine, a token each for Sarah (field) and Maya (manager),
    and the environment a subprocess needs to open the same system of record."""
    manager = Roster.load(on_engine.stores.workbook).resolve(MANAGER)
    store = TokenStore(on_engine.stores)
    on_engine.tokens = {who: store.create(manager, who)[0] for who in (SARAH, MANAGER)}
    on_engine.env = dict(engine_env)
    return on_engine


def mine_and_others(demo) -> tuple[set[str], set[str]]:
    open_rows = [r for r in demo.rows("Assignments") if r["Status"] in ("ASSIGNED", "IN_PROGRESS")]
    mine = {r["Order ID"] for r in open_rows if r["Assigned Agent"] == SARAH}
    return mine, {r["Order ID"] for r in open_rows if r["Assigned Agent"] not in ("", SARAH)}


async def check_roles(open_client, demo) -> None:
    """What the field and the manager tokens list and see, through ``open_client(token)``."""
    mine, others = mine_and_others(demo)
    async with open_client(demo.tokens[SARAH]) as c:
        listed = {t.name for t in (await c.list_tools()).tools}
        assert listed == {"my_tickets", "order_details"} and not listed & MANAGER_ONLY
        text = (await c.call_tool("my_tickets", {})).content[0].text
        assert mine and all(o in text for o in mine) and not any(o in text for o in others)
    async with open_client(demo.tokens[MANAGER]) as c:
        listed = {t.name for t in (await c.list_tools()).tools}
        assert "triage_plan" in listed and not listed & (FIELD_WRITES | {"my_tickets"})


async def check_writes(open_client, demo, allowed: bool) -> None:
    """A field agent's resolve through ``open_client``: done and audited only if allowed."""
    oid = sorted(mine_and_others(demo)[0])[0]
    audits = len(demo.stores.state.audit_entries(f"order:{oid}"))
    async with open_client(demo.tokens[SARAH]) as c:
        listed = {t.name for t in (await c.list_tools()).tools}
        assert (listed >= FIELD_WRITES) is allowed
        done = await c.call_tool("resolve_ticket", {"order_id": oid, "notes": "LULU confirmed"})
    status = next(r["Status"] for r in demo.rows("Assignments") if r["Order ID"] == oid)
    audit = demo.stores.state.audit_entries(f"order:{oid}")
    if allowed:
        assert not done.is_error and status == "RESOLVED"
        assert len(audit) == audits + 1 and audit[-1]["actor"] == SARAH
    else:
        assert done.is_error and "read-only" in done.content[0].text
        assert status != "RESOLVED" and len(audit) == audits
        assert demo.stores.state.denials()[-1]["rule"] == "MCP writes are off"


# ------------------------------------------------------------------------------- stdio


def stdio(demo, token: str | None, writes: bool = False) -> Client:
    """The SDK's stdio client on ``python -m bot mcp``, forked from the test fork server
    (through tests/forked.py, which hands it the SDK's pipes)."""
    env = {**demo.env, "ECM_MCP_TOKEN": token or "", "ECM_MCP_ALLOW_WRITES": "1" if writes else ""}
    env[spawn.SOCKET_ENV] = os.environ[spawn.SOCKET_ENV]
    command = StdioServerParameters(
        command=sys.executable,
        args=[str(FORKED), "-m", "bot", "mcp"],
        env=env,
        cwd=str(PROJECT_ROOT),
    )
    return Client(command)


class Started:
    """Stdio sessions already open, handed out by ``take(token, writes)`` (an ``async with``
    that leaves the session open: all of them close together at the end)."""

    def __init__(self) -> None:
        self.sessions: dict[tuple[str | None, bool], list[Client]] = {}

    def take(self, token: str | None, writes: bool = False) -> nullcontext[Client]:
        return nullcontext(self.sessions[(token, writes)].pop())


@asynccontextmanager
async def started(demo, wanted: list[tuple[str | None, bool]]) -> AsyncIterator[Started]:
    """A stdio session (its own server process) for each ``(token, writes)`` in ``wanted``,
    all started at once rather than one after the other (each start is an interpreter for
    tests/forked.py, a fork and the server's start and handshake; each close, its exit).
    Every session is entered and left by a task of its own, as anyio requires; every one must
    have been taken by the end. A failure in the block is raised as itself, not in a group."""
    pool, stop, failed = Started(), anyio.Event(), None

    async def hold(token: str | None, writes: bool, ready: anyio.Event) -> None:
        async with stdio(demo, token, writes) as session:
            pool.sessions.setdefault((token, writes), []).append(session)
            ready.set()
            await stop.wait()

    async with anyio.create_task_group() as tg:
        readies = [anyio.Event() for _ in wanted]
        for (token, writes), ready in zip(wanted, readies, strict=True):
            tg.start_soon(hold, token, writes, ready)
        for ready in readies:
            await ready.wait()
        try:
            yield pool
            assert not any(pool.sessions.values()), "a started session was never used"
        except Exception as exc:
            failed = exc
        finally:
            stop.set()
    if failed is not None:
        raise failed


@pytest.mark.anyio
@pytest.mark.parametrize("engine_env", ["sqlite"], indirect=True)
async def test_over_stdio(engine):
    sarah, maya, forged = engine.tokens[SARAH], engine.tokens[MANAGER], "ecm_mcp_not-a-real-token"
    wanted = [(sarah, False), (maya, False), (forged, False), (sarah, False), (sarah, True)]
    async with started(engine, wanted) as servers:
        await check_roles(servers.take, engine)
        seen = len(engine.stores.state.denials())
        async with servers.take(forged) as c:
            with pytest.raises(MCPError, match="token can't be used: the token is not known"):
                await c.list_tools()
        assert engine.stores.state.denials()[seen]["resource"] == "mcp:token"
        await check_writes(servers.take, engine, allowed=False)
        await check_writes(lambda token: servers.take(token, writes=True), engine, allowed=True)


# -------------------------------------------------------------------------------- HTTP


class _Server(uvicorn.Server):
    """uvicorn's server, stopped as soon as ``stop`` is called: its main loop waits on an
    event instead of checking ``should_exit`` every 0.1 s, and its shutdown leaves out
    uvicorn's fixed 0.1 s pause for connections to close (the clients have closed theirs by
    then; any still open are shut down and waited for, and the app's lifespan ends as usual)."""

    _loop: asyncio.AbstractEventLoop | None = None

    async def main_loop(self) -> None:
        self._wake = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        await self.on_tick(0)  # the default headers, as uvicorn's first tick sets them
        if not self.should_exit:  # stop() may have run before the loop was known
            await self._wake.wait()

    def stop(self) -> None:
        self.should_exit = True
        if self._loop is not None:
            with suppress(RuntimeError):  # the loop has closed: the server has stopped
                self._loop.call_soon_threadsafe(self._wake.set)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        while self.server_state.connections or self.server_state.tasks:
            await asyncio.sleep(0.005)
        for server in self.servers:
            await server.wait_closed()
        await self.lifespan.shutdown()


@contextmanager
def serving(demo, writes: bool) -> Iterator[str]:
    """The HTTP app on a loopback socket bound before uvicorn starts (connections wait in
    its backlog, so no polling), served in a thread; yields the /mcp URL. The socket names
    IPPROTO_TCP: asyncio sets TCP_NODELAY only on sockets that do, and without it every
    response after a connection's first waits ~40 ms (Nagle against the delayed ACK)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/mcp"
    calls = McpCalls(demo.registry, demo.stores, Catalog.load(demo.registry), writes)
    server = _Server(uvicorn.Config(http_app(calls, url), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield url
    finally:
        server.stop()
        thread.join(timeout=30)
        sock.close()


@cache
def _tls() -> ssl.SSLContext:
    """One TLS context for every HTTP client here (the default one httpx2 would build for
    each, loading the CA bundle each time, 20-30 ms; the URLs are plain http on loopback)."""
    return ssl.create_default_context()


class HttpClient:
    """``Client`` over Streamable HTTP with a bearer token (an httpx2 client it closes)."""

    def __init__(self, url: str, token: str):
        self.url, self.token = url, token

    async def __aenter__(self) -> Client:
        self.http = httpx2.AsyncClient(
            headers={"Authorization": f"Bearer {self.token}"}, verify=_tls()
        )
        self.client = Client(streamable_http_client(self.url, http_client=self.http))
        return await self.client.__aenter__()

    async def __aexit__(self, *exc) -> None:
        try:
            await self.client.__aexit__(*exc)
        finally:
            await self.http.aclose()


@pytest.mark.anyio
async def test_over_http(engine, monkeypatch):
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)  # loopback only
    with serving(engine, writes=False) as url:
        await check_roles(lambda token: HttpClient(url, token), engine)
        await check_writes(lambda token: HttpClient(url, token), engine, allowed=False)
        seen = len(engine.stores.state.denials())
        async with httpx2.AsyncClient(verify=_tls()) as http:
            bare = await http.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
            bad = await http.post(
                url,
                json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
                headers={"Authorization": "Bearer ecm_mcp_forged"},
            )
            health = await http.get(url.removesuffix("/mcp") + "/healthz")
            metrics = await http.get(url.removesuffix("/mcp") + "/metrics")
        assert bare.status_code == bad.status_code == 401
        assert 'error="invalid_token"' in bad.headers["www-authenticate"]
        assert health.status_code == 200
        assert metrics.status_code == 200 and "text/plain" in metrics.headers["content-type"]
        ran = re.search(r'outcome="ok",role="field",skill="my-tickets"\} ([0-9.]+)', metrics.text)
        assert ran and float(ran.group(1)) >= 1  # the calls above, counted by skill
        rules = [d["rule"] for d in engine.stores.state.denials()[seen:]]
        assert rules == ["no token was given", "the token is not known"]
        with pytest.raises(ExceptionGroup) as refused:  # the SDK client stops at the 401
            async with HttpClient(url, "ecm_mcp_forged") as c:
                await c.list_tools()
        assert refused.group_contains(MCPError)
    with serving(engine, writes=True) as url:
        await check_writes(lambda token: HttpClient(url, token), engine, allowed=True)
