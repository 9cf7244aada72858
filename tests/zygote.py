"""A fork server for the tests (run as ``python tests/zygote.py SOCKET``).

It imports the bot and the libraries its commands use once, then forks a child for every bot
command a test starts through ``spawn``. A child is a real OS process with its own pid,
environment, working directory, arguments and standard streams (passed over the socket), that
exits like ``python`` would (threads joined, atexit handlers run, streams flushed), and can be
signalled or killed at any point. It only skips the 0.3-1.5 s of imports a fresh interpreter
pays. Tests that check what a fresh interpreter imports keep using ``subprocess``.

Protocol (one SOCK_SEQPACKET connection per child): the client sends a JSON request with its
three stdio descriptors; the server answers ``{"pid": …}``, then ``{"returncode": …}`` when the
child has exited (negative for a signal, as ``subprocess`` reports it)."""

from __future__ import annotations

import atexit
import contextlib
import gc
import importlib
import io
import json
import os
import pkgutil
import selectors
import signal
import socket
import sys
import threading
import traceback
import types
from collections.abc import Callable
from typing import NoReturn

# Imported in the server so that no child pays for them. Failing to import one is not fatal
# (a child that needs it imports it itself).
VENDOR = (
    "anthropic",
    "openai",
    "httpx",
    "slack_bolt",
    "slack_bolt.adapter.socket_mode",
    "slack_sdk",
    "slack_sdk.socket_mode",
    "psycopg",
    "psycopg_pool",
    "sqlite_utils",
    "gspread",
    "google.oauth2.service_account",
    "mcp",
    "mcp.server.fastmcp",
    "mcp.server.stdio",
    "mcp.server.streamable_http",
    "uvicorn",
    "starlette",
    "waitress",
    "prometheus_client",
    "opentelemetry.sdk.trace",
    "opentelemetry.exporter.otlp.proto.http.trace_exporter",
    "redshift_connector",
    "pydantic",
    "click",
    "croniter",
    "tenacity",
    # what a pytest-xdist worker imports before its tests (conftest.py forks the workers too;
    # not hypothesis, a plugin whose asserts pytest rewrites as it imports it)
    "pytest",
    "click.testing",
)


def preload() -> None:
    """Import every bot module and the vendor SDKs its commands use."""
    import bot

    for info in pkgutil.walk_packages(bot.__path__, "bot."):
        if not info.name.endswith("__main__"):
            importlib.import_module(info.name)
    for name in VENDOR:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)


def serve(path: str) -> tuple[dict, list[int]] | None:
    """Accept requests until the parent process goes; in a forked child, return its request."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener.bind(path)
    listener.listen(64)
    wake_r, wake_w = socket.socketpair()
    wake_r.setblocking(False)
    wake_w.setblocking(False)
    signal.set_wakeup_fd(wake_w.fileno())
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    sel = selectors.DefaultSelector()
    sel.register(listener, selectors.EVENT_READ)
    sel.register(wake_r, selectors.EVENT_READ)
    waiting: dict[int, socket.socket] = {}
    parent = os.getppid()
    assert threading.active_count() == 1, "a fork server must not have threads"
    print("ready", flush=True)
    while os.getppid() == parent:
        for key, _ in sel.select(timeout=1.0):
            if key.fileobj is wake_r:
                _drain(wake_r)
                _reap(waiting)
                continue
            conn, _ = listener.accept()
            try:
                msg, fds, _, _ = socket.recv_fds(conn, 1 << 20, 3)
                request = json.loads(msg)
            except (OSError, ValueError):
                conn.close()
                continue
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                signal.set_wakeup_fd(-1)
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                for sock in (listener, wake_r, wake_w, conn, *waiting.values()):
                    sock.close()
                sel.close()
                return request, fds
            for fd in fds:
                os.close(fd)
            waiting[pid] = conn
            conn.send(json.dumps({"pid": pid}).encode())
        _reap(waiting)
    return None


def _drain(sock: socket.socket) -> None:
    try:
        while sock.recv(4096):
            pass
    except BlockingIOError:
        pass


def _reap(waiting: dict[int, socket.socket]) -> None:
    while waiting:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        conn = waiting.pop(pid, None)
        if conn is not None:
            with contextlib.suppress(OSError):
                conn.send(json.dumps({"returncode": os.waitstatus_to_exitcode(status)}).encode())
            conn.close()


def _stdio(env: dict, unbuffered: bool) -> None:
    """Standard streams on descriptors 0-2, buffered as a fresh interpreter would buffer them."""
    unbuffered = unbuffered or bool(env.get("PYTHONUNBUFFERED"))
    encoding = (env.get("PYTHONIOENCODING") or "utf-8").split(":")[0] or "utf-8"

    def out(fd: int, errors: str) -> io.TextIOWrapper:
        raw = io.FileIO(fd, "w", closefd=False)
        buffer = raw if unbuffered else io.BufferedWriter(raw)
        return io.TextIOWrapper(buffer, encoding, errors, write_through=unbuffered)  # type: ignore[arg-type]

    sys.stdin = sys.__stdin__ = io.TextIOWrapper(
        io.BufferedReader(io.FileIO(0, "r", closefd=False)), encoding, "strict"
    )
    sys.stdout = sys.__stdout__ = out(1, "strict")
    sys.stderr = sys.__stderr__ = out(2, "backslashreplace")


def become(request: dict, fds: list[int], base_path: list[str]) -> None:
    """Turn this forked child into the requested command, then run it as ``__main__``."""
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
    for fd in fds:
        if fd > 2:
            os.close(fd)
    env = request["env"]
    os.environ.clear()
    os.environ.update(env)
    os.chdir(request["cwd"])
    extra = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    sys.path[:] = [request["path0"], *extra, *base_path]
    sys.argv[:] = request["argv"]
    _stdio(env, bool(request.get("unbuffered")))
    sys.dont_write_bytecode = bool(request.get("no_bytecode") or env.get("PYTHONDONTWRITEBYTECODE"))
    import runpy

    if request["kind"] == "code":
        main = types.ModuleType("__main__")
        sys.modules["__main__"] = main
        exec(compile(request["code"], "<string>", "exec"), main.__dict__)
    elif request["kind"] == "script":
        runpy.run_path(request["argv"][0], run_name="__main__")
    elif request["kind"] == "module":
        runpy.run_module(request["module"], run_name="__main__", alter_sys=True)
    else:
        from bot.cli import main

        sys.exit(main())


def exit_like_python(run: Callable[[], object]) -> NoReturn:
    """Run the child's command and end the process the way the interpreter ends: non-daemon
    threads joined, atexit handlers run, streams flushed, the exit status from ``SystemExit``.
    Module teardown is skipped: freeing every preloaded module costs about a second."""
    code = 0
    try:
        run()
    except SystemExit as stop:
        if stop.code is None:
            code = 0
        elif isinstance(stop.code, int):
            code = stop.code
        else:
            print(stop.code, file=sys.stderr)
            code = 1
    except BaseException:
        traceback.print_exc()
        code = 1
    try:
        threading._shutdown()  # type: ignore[attr-defined]
        atexit._run_exitfuncs()
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
    finally:
        os._exit(code)


if __name__ == "__main__":
    base = [p for p in sys.path[1:] if p]  # without this file's directory
    # The bot's modules cached in __pycache__ (ignored by git) like any import, also where
    # PYTHONDONTWRITEBYTECODE is set (conftest.py does the same for pytest's processes):
    # otherwise every run compiles all of them here again. Children get the variable's way.
    sys.dont_write_bytecode = False
    # No collector passes while importing: a third of the preload's time was full passes
    # over the growing heap of modules, none of them garbage. One pass at the end instead.
    gc.disable()
    preload()
    gc.collect()
    gc.freeze()  # the preloaded objects are never collected: no copy-on-write, no long passes
    gc.enable()  # children collect as a fresh interpreter would
    got = serve(sys.argv[1])
    if got is not None:
        exit_like_python(lambda: become(*got, base_path=base))
