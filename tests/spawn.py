"""``Popen`` and ``run`` like ``subprocess``'s, for the bot's own commands, forked from the
fork server (``zygote.py``) instead of started as fresh interpreters.

Each is a real process (its own pid, environment, directory and streams, signalled and killed
like any other); only the imports are already done. Accepted commands: the ``ecm-bot`` script,
``python -m MODULE …``, ``python SCRIPT.py …`` and ``python [-u] [-B] -c CODE`` (how execnet
starts pytest-xdist's workers, which conftest.py has forked too). A test about what a fresh
interpreter imports uses ``subprocess`` instead.

One server serves the whole run: the pytest process that starts first (the controller under
xdist) starts it and hands its socket to the workers through ``ECM_TEST_ZYGOTE``."""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ZYGOTE = Path(__file__).with_name("zygote.py")
ECM_BOT = str(Path(sys.executable).parent / "ecm-bot")
SOCKET_ENV = "ECM_TEST_ZYGOTE"
PIPE, DEVNULL, STDOUT = subprocess.PIPE, subprocess.DEVNULL, subprocess.STDOUT
CompletedProcess, TimeoutExpired = subprocess.CompletedProcess, subprocess.TimeoutExpired

_server: subprocess.Popen | None = None


def start_server() -> None:
    """Start the fork server in the background (it imports for a few seconds) and publish its
    socket in the environment, for this process and the ones it starts."""
    global _server
    if _server is not None or os.environ.get(SOCKET_ENV):
        return
    path = os.path.join(tempfile.mkdtemp(prefix="ecm-zygote-"), "s")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    _server = subprocess.Popen(
        [sys.executable, str(ZYGOTE), path],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        text=True,
    )
    os.environ[SOCKET_ENV] = path
    atexit.register(stop_server)


def stop_server() -> None:
    global _server
    if _server is not None:
        _server.terminate()
        _server.wait(timeout=10)
        _server = None


def _connect() -> socket.socket:
    if not os.environ.get(SOCKET_ENV):
        start_server()
    path = os.environ[SOCKET_ENV]
    deadline = time.monotonic() + 60
    while True:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            sock.connect(path)
            return sock
        except (FileNotFoundError, ConnectionRefusedError):
            sock.close()
            if _server is not None and _server.poll() is not None:
                raise RuntimeError("the test fork server exited") from None
            if time.monotonic() > deadline:
                raise RuntimeError(f"the test fork server never listened on {path}") from None
            time.sleep(0.02)


def _request(args: list[str]) -> dict:
    args = [str(a) for a in args]
    if args[0] == ECM_BOT or os.path.basename(args[0]) == "ecm-bot":
        return {"kind": "console", "argv": args, "path0": os.path.dirname(args[0])}
    if args[0] != sys.executable:
        raise TypeError(f"spawn runs the bot's commands only, not {args[:3]!r}: use subprocess")
    rest, flags = args[1:], {"unbuffered": False, "no_bytecode": False}
    while rest and rest[0] in ("-u", "-B"):  # the flags execnet passes (xdist's workers)
        flags["unbuffered" if rest.pop(0) == "-u" else "no_bytecode"] = True
    if len(rest) > 1 and rest[0] == "-m":
        return {"kind": "module", "module": rest[1], "argv": ["-m", *rest[2:]], "path0": ""}
    if len(rest) > 1 and rest[0] == "-c":
        return {"kind": "code", "code": rest[1], "argv": ["-c", *rest[2:]], "path0": "", **flags}
    if rest and rest[0].endswith(".py"):
        script = os.path.abspath(rest[0])
        return {"kind": "script", "argv": [script, *rest[1:]], "path0": os.path.dirname(script)}
    raise TypeError(f"spawn runs the bot's commands only, not {args[:3]!r}: use subprocess")


class Popen:
    """The part of ``subprocess.Popen`` the tests use, for a child of the fork server."""

    def __init__(
        self,
        args: list[Any],
        *,
        stdin: Any = None,
        stdout: Any = None,
        stderr: Any = None,
        env: dict[str, str] | None = None,
        cwd: str | os.PathLike | None = None,
        text: bool = False,
        encoding: str | None = None,
    ):
        self.args = args
        self.returncode: int | None = None
        request = _request(list(args))
        request["env"] = dict(os.environ if env is None else env)
        request["cwd"] = os.path.abspath(cwd) if cwd is not None else os.getcwd()
        if request["path0"] == "":
            request["path0"] = request["cwd"]
        text = text or encoding is not None
        mine: list[int] = []  # our ends of pipes
        theirs: list[int] = []  # the child's three descriptors, closed here once sent
        opened: list[int] = []
        ends: dict[str, int] = {}
        for name, spec, default in (
            ("stdin", stdin, 0),
            ("stdout", stdout, 1),
            ("stderr", stderr, 2),
        ):
            if spec == PIPE:
                r, w = os.pipe()
                ours, child = (w, r) if name == "stdin" else (r, w)
                mine.append(ours)
                opened.append(child)
                ends[name] = ours
            elif spec == DEVNULL:
                child = os.open(os.devnull, os.O_RDWR)
                opened.append(child)
            elif spec == STDOUT and name == "stderr":
                child = theirs[1]
            elif spec is None:
                child = default
            else:
                child = spec if isinstance(spec, int) else spec.fileno()
            theirs.append(child)
        self._conn = _connect()
        try:
            socket.send_fds(self._conn, [json.dumps(request).encode()], theirs)
            reply = self._conn.recv(1 << 16)
        finally:
            for fd in opened:
                os.close(fd)
        if not reply:
            for fd in mine:
                os.close(fd)
            raise RuntimeError("the test fork server refused the command")
        self.pid: int = json.loads(reply)["pid"]
        kw: dict[str, Any] = {"encoding": encoding or "utf-8"} if text else {}
        self.stdin = (
            os.fdopen(ends["stdin"], "w" if text else "wb", **kw) if "stdin" in ends else None
        )
        self.stdout = (
            os.fdopen(ends["stdout"], "r" if text else "rb", **kw) if "stdout" in ends else None
        )
        self.stderr = (
            os.fdopen(ends["stderr"], "r" if text else "rb", **kw) if "stderr" in ends else None
        )
        self._readers: dict[str, threading.Thread] = {}
        self._output: dict[str, Any] = {}

    def _ready(self, timeout: float | None) -> bool:
        """Whether the server has reported the exit (``poll``: no limit on descriptor numbers,
        which a long single-process run can pass 1024 with)."""
        poller = select.poll()
        poller.register(self._conn, select.POLLIN)
        return bool(poller.poll(None if timeout is None else max(0, int(timeout * 1000))))

    def poll(self) -> int | None:
        if self.returncode is None and self._ready(0):
            self._read_status()
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            if not self._ready(timeout):
                raise TimeoutExpired(self.args, timeout or 0)
            self._read_status()
        assert self.returncode is not None
        return self.returncode

    def _read_status(self) -> None:
        msg = self._conn.recv(1 << 16)
        self._conn.close()
        if not msg:
            raise RuntimeError(f"the test fork server went away while {self.pid} ran")
        self.returncode = json.loads(msg)["returncode"]

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def communicate(self, input: Any = None, timeout: float | None = None) -> tuple[Any, Any]:
        """Feed ``input``, read stdout and stderr to the end and wait, as subprocess does."""
        deadline = None if timeout is None else time.monotonic() + timeout
        if not self._readers:
            if self.stdin is not None:
                stdin = self.stdin
                self._readers["stdin"] = threading.Thread(
                    target=_feed, args=(stdin, input), daemon=True
                )
            for name in ("stdout", "stderr"):
                stream = getattr(self, name)
                if stream is not None:
                    self._readers[name] = threading.Thread(
                        target=self._collect, args=(name, stream), daemon=True
                    )
            for t in self._readers.values():
                t.start()
        for t in self._readers.values():
            t.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
            if t.is_alive():
                raise TimeoutExpired(self.args, timeout or 0)
        self.wait(None if deadline is None else max(0.0, deadline - time.monotonic()))
        return self._output.get("stdout"), self._output.get("stderr")

    def _collect(self, name: str, stream: Any) -> None:
        self._output[name] = stream.read()
        stream.close()

    def __enter__(self) -> Popen:
        return self

    def __exit__(self, *exc: object) -> None:
        for stream in (self.stdin, self.stdout, self.stderr):
            if stream is not None and not stream.closed:
                with contextlib.suppress(OSError):
                    stream.close()
        if self.returncode is None:
            self.wait()


def _feed(stream: Any, data: Any) -> None:
    try:
        if data:
            stream.write(data)
        stream.close()
    except BrokenPipeError:
        pass


def run(
    args: list[Any],
    *,
    input: Any = None,
    capture_output: bool = False,
    timeout: float | None = None,
    check: bool = False,
    **kwargs: Any,
) -> subprocess.CompletedProcess:
    """``subprocess.run`` for a bot command forked from the fork server."""
    if capture_output:
        kwargs["stdout"] = kwargs["stderr"] = PIPE
    if input is not None:
        kwargs["stdin"] = PIPE
    with Popen(args, **kwargs) as proc:
        try:
            out, err = proc.communicate(input, timeout=timeout)
        except TimeoutExpired:
            proc.kill()
            proc.wait()
            raise
    if check and proc.returncode:
        raise subprocess.CalledProcessError(proc.returncode, args, out, err)
    return subprocess.CompletedProcess(args, proc.returncode or 0, out, err)
