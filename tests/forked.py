"""``python tests/forked.py -m bot mcp …``: run a bot command forked from the test fork server
(``zygote.py``) on this process's own standard streams, for a client library that starts its
server as a command line (the MCP SDK's stdio client). It forwards SIGTERM and SIGINT to the
command and exits with its status, so the caller sees one process. It imports only the
standard library, so it starts in a few milliseconds; the command's imports are done already."""

from __future__ import annotations

import signal
import sys

import spawn


def main(argv: list[str]) -> int:
    proc = spawn.Popen([sys.executable, *argv])
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, _: proc.send_signal(signum))
    code = proc.wait()
    return 128 - code if code < 0 else code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
