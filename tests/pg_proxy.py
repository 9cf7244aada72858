"""A loopback proxy that lets the real redshift-connector talk to a stock PostgreSQL server.

redshift-connector 2.2 speaks Redshift's dialect of the PostgreSQL wire protocol. Against
PostgreSQL it fails in four places, and this proxy fixes each on the wire (test code only):

1. SSLRequest / GSSENCRequest are answered "N" (no TLS on loopback; the tests use ssl=False anyway).
2. The StartupMessage loses the parameters PostgreSQL rejects with "FATAL 42704 unrecognized
   configuration parameter": client_protocol_version, driver_version, os_version and
   driver_discovery_version.
3. ParameterStatus server_version "15.18 (Debian 15.18-0+deb12u1)" becomes "15.18": the driver
   parses it with packaging.version, which raises on the Debian suffix.
4. AuthenticationSASL: the driver splits ``data[4:-1]`` on NUL, so PostgreSQL's correctly
   terminated list "SCRAM-SHA-256\\0\\0" yields an empty mechanism and scramp refuses it. The
   proxy sends the list without its final terminator, so the driver sees exactly the mechanisms.

After the first ReadyForQuery, bytes are copied unchanged. The proxy listens on 127.0.0.1 only,
serves at most ``max_connections`` clients, and stops by itself after ``lifetime`` seconds (or on
``stop()`` / leaving the ``with`` block). One thread per connection, select() with a timeout.
"""

from __future__ import annotations

import contextlib
import re
import select
import socket
import struct
import threading
import time

SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104
CANCEL_REQUEST = 80877102
PROTOCOL_3 = 196608
REJECTED_PARAMS = frozenset(
    {b"client_protocol_version", b"driver_version", b"os_version", b"driver_discovery_version"}
)


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("peer closed during startup")
        data += chunk
    return data


def rewrite_startup(body: bytes) -> bytes:
    """A StartupMessage body (protocol + params) without the parameters PostgreSQL rejects."""
    fields = body[4:].split(b"\0")
    pairs = list(zip(fields[0::2], fields[1::2], strict=False))
    kept = [(k, v) for k, v in pairs if k and k not in REJECTED_PARAMS]
    return body[:4] + b"".join(k + b"\0" + v + b"\0" for k, v in kept) + b"\0"


def rewrite_backend(kind: bytes, body: bytes) -> bytes:
    """Fix one server message of the startup phase (see the module docstring)."""
    if kind == b"R" and len(body) >= 4 and struct.unpack("!i", body[:4])[0] == 10:
        mechanisms = [m for m in body[4:].split(b"\0") if m]
        return body[:4] + b"\0".join(mechanisms) + b"\0"
    if kind == b"S" and body.startswith(b"server_version\0"):
        value = body[len(b"server_version\0") :].rstrip(b"\0")
        match = re.match(rb"\d+(?:\.\d+)*", value)
        return b"server_version\0" + (match.group(0) if match else value) + b"\0"
    return body


class PgProxy:
    """``with PgProxy(5432) as proxy: connect(host="127.0.0.1", port=proxy.port, ssl=False)``."""

    def __init__(
        self,
        upstream_port: int = 5432,
        upstream_host: str = "127.0.0.1",
        *,
        max_connections: int = 64,
        lifetime: float = 300.0,
        io_timeout: float = 60.0,
    ):
        self.upstream = (upstream_host, upstream_port)
        self.max_connections = max_connections
        self.lifetime = lifetime
        self.io_timeout = io_timeout
        self.connections = 0
        self.fixes: dict[str, int] = {"startup_params": 0, "server_version": 0, "sasl": 0}
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port: int = self._listener.getsockname()[1]
        self._deadline = 0.0

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> PgProxy:
        self._deadline = time.monotonic() + self.lifetime
        thread = threading.Thread(target=self._accept_loop, name="pg-proxy", daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            sockets = list(self._sockets)
        for sock in [*sockets, self._listener]:
            with contextlib.suppress(OSError):
                sock.close()
        for thread in self._threads:
            thread.join(timeout=2)

    def __enter__(self) -> PgProxy:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _running(self) -> bool:
        return not self._stop.is_set() and time.monotonic() < self._deadline

    def _track(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.add(sock)

    def _count(self, fix: str) -> None:
        with self._lock:
            self.fixes[fix] += 1

    def _accept_loop(self) -> None:
        while self._running():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                break
            if self.connections >= self.max_connections:
                client.close()
                continue
            self.connections += 1
            self._track(client)
            thread = threading.Thread(target=self._serve, args=(client,), daemon=True)
            thread.start()
            self._threads.append(thread)
        self._stop.set()
        with contextlib.suppress(OSError):
            self._listener.close()

    # -- one connection ----------------------------------------------------------------------

    def _serve(self, client: socket.socket) -> None:
        server = None
        try:
            client.settimeout(self.io_timeout)
            while True:  # SSL / GSS requests first, then the real startup packet
                (length,) = struct.unpack("!i", _recv_exact(client, 4))
                body = _recv_exact(client, length - 4)
                code = struct.unpack("!i", body[:4])[0]
                if code in (SSL_REQUEST, GSSENC_REQUEST):
                    client.sendall(b"N")
                    continue
                break
            server = socket.create_connection(self.upstream, timeout=self.io_timeout)
            self._track(server)
            if code == PROTOCOL_3:
                fixed = rewrite_startup(body)
                if fixed != body:
                    self._count("startup_params")
                body = fixed
            server.sendall(struct.pack("!i", len(body) + 4) + body)
            if code == CANCEL_REQUEST:
                return
            self._pump(client, server)
        except (OSError, ConnectionError, struct.error):
            pass
        finally:
            for sock in (client, server):
                if sock is not None:
                    with contextlib.suppress(OSError):
                        sock.close()
                    with self._lock:
                        self._sockets.discard(sock)

    def _pump(self, client: socket.socket, server: socket.socket) -> None:
        startup = True  # until the first ReadyForQuery, server messages are parsed and fixed
        pending = b""
        while self._running():
            readable, _, _ = select.select([client, server], [], [], 0.5)
            for sock in readable:
                data = sock.recv(65536)
                if not data:
                    return
                if sock is client:
                    server.sendall(data)
                elif not startup:
                    client.sendall(data)
                else:
                    pending += data
                    out = b""
                    while len(pending) >= 5:
                        kind = pending[:1]
                        (length,) = struct.unpack("!i", pending[1:5])
                        if len(pending) < 1 + length:
                            break
                        body = pending[5 : 1 + length]
                        pending = pending[1 + length :]
                        fixed = rewrite_backend(kind, body)
                        if fixed != body:
                            self._count("sasl" if kind == b"R" else "server_version")
                        out += kind + struct.pack("!i", len(fixed) + 4) + fixed
                        if kind == b"Z":
                            startup = False
                            out += pending
                            pending = b""
                            break
                    if out:
                        client.sendall(out)
