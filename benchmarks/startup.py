"""Command-line start-up: wall time of whole processes (subprocess, perf_counter), the commands
interleaved, median of 15 runs each after one to warm the disk cache.

- a bare interpreter (``python -c pass``, the venv's) against ``ecm-bot --help``: goal ≤ 5×
  (commands are imported when they run);
- ``ecm-bot chat --as sarah.ops@example.com "my tickets"`` on a triaged demo data set, without
  and with ANTHROPIC_API_KEY and OPENAI_API_KEY set (base URLs on a closed local port; the
  request needs no model): goal ≤ 1.2× — a key that is set but unused costs nothing;
- which vendor SDKs that chat with keys has imported when it exits: goal none."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
RUNS = 15
KEYS = {
    "ANTHROPIC_API_KEY": "sk-ant-bench",
    "OPENAI_API_KEY": "sk-bench",
    "ANTHROPIC_BASE_URL": "http://127.0.0.1:9",
    "OPENAI_BASE_URL": "http://127.0.0.1:9",
}
SDK_PROBE = (
    "import atexit, sys\n"
    "atexit.register(lambda: print('SDKS', sorted({m.split('.')[0] for m in sys.modules} "
    "& {'anthropic', 'openai', 'slack_sdk', 'slack_bolt', 'redshift_connector', 'gspread', "
    "'psycopg'}), file=sys.stderr))\n"
    "from bot.cli import main\n"
    "sys.argv = ['ecm-bot', 'chat', '--as', 'sarah.ops@example.com', 'my tickets']\n"
    "main()\n"
)


def clean_env(data: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in KEYS and not k.startswith("ECM_")}
    return {**env, "ECM_DATA_DIR": str(data)}


def once(cmd: list[str], env: dict) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, capture_output=True, timeout=120)
    return time.perf_counter() - t0


def medians(cases: dict[str, tuple[list[str], dict]]) -> dict[str, float]:
    times: dict[str, list[float]] = {name: [] for name in cases}
    for cmd, env in cases.values():
        once(cmd, env)
    for _ in range(RUNS):
        for name, (cmd, env) in cases.items():
            times[name].append(once(cmd, env))
    return {name: statistics.median(t) for name, t in times.items()}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        env = clean_env(data)
        ecm = str(BIN / "ecm-bot")
        subprocess.run(
            [ecm, "seed-demo", "--orders", "200"], env=env, check=True, capture_output=True
        )
        subprocess.run([ecm, "triage"], env=env, check=True, capture_output=True)
        chat = [ecm, "chat", "--as", "sarah.ops@example.com", "my tickets"]
        m = medians(
            {
                "bare": ([sys.executable, "-c", "pass"], env),
                "help": ([ecm, "--help"], env),
                "chat": (chat, env),
                "chat+keys": (chat, {**env, **KEYS}),
            }
        )
        probe = subprocess.run(
            [sys.executable, "-c", SDK_PROBE],
            env={**env, **KEYS},
            capture_output=True,
            text=True,
            timeout=120,
        )
    sdks = next((line[5:] for line in probe.stderr.splitlines() if line.startswith("SDKS ")), "?")
    print(f"CLI start-up (whole processes, medians of {RUNS} interleaved runs)")
    print(f"  bare interpreter (python -c pass)      {m['bare'] * 1000:6.0f} ms")
    print(
        f"  ecm-bot --help                         {m['help'] * 1000:6.0f} ms = "
        f"{m['help'] / m['bare']:4.1f}× bare (goal ≤ 5×)"
    )
    print(f'  chat "my tickets", no keys             {m["chat"] * 1000:6.0f} ms')
    print(
        f'  chat "my tickets", keys set (unused)   {m["chat+keys"] * 1000:6.0f} ms = '
        f"{m['chat+keys'] / m['chat']:4.2f}× without (goal ≤ 1.2×)"
    )
    print(f"  vendor SDKs that chat imported with keys set: {sdks} (goal: [])")


if __name__ == "__main__":
    main()
