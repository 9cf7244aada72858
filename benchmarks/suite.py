"""The test suite's own duration: ``pytest -q -p no:cacheprovider`` (the pytest settings in
pyproject.toml: ``-n auto``) run whole as a subprocess, RUNS times; wall time (perf_counter)
and the CPU the run and its children used (getrusage), with the CPUs this process may use.
Goal: under 40 s on 2 CPUs. PostgreSQL must be running (``make bench`` starts it).

Shared machines change speed by half or more within minutes, so before each run the same
fixed load is timed and printed beside it (``reference``: one pure-Python loop per CPU, in
parallel processes), as context: a second's probe does not follow the machine through a
40 s run closely enough to divide by (the ratio ranged 44-73 over three runs of one commit).
Compare commits by interleaving their runs on the same machine."""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = 3
LOOP = "s = 0\nfor i in range(10_000_000):\n    s += i"


def reference() -> float:
    """Wall seconds of one fixed Python loop in each CPU's own process, all at once."""
    cpus = len(os.sched_getaffinity(0))
    t0 = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-c", LOOP]) for _ in range(cpus)]
    for proc in procs:
        proc.wait()
    return time.perf_counter() - t0


def once() -> tuple[float, float]:
    """(wall seconds, CPU seconds of the run's processes) for one whole run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"the suite failed (exit {done.returncode}):\n{done.stdout[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    refs, runs = [], []
    for _ in range(RUNS):
        refs.append(reference())
        runs.append(once())
    walls = sorted(w for w, _ in runs)
    cpus = len(os.sched_getaffinity(0))
    print(f"Test suite (pytest -q, -n auto; {RUNS} whole runs, {cpus} CPUs)")
    print(
        f"  wall   median {statistics.median(walls):5.1f} s   "
        f"range {walls[0]:.1f}-{walls[-1]:.1f} s   (goal: < 40 s on 2 CPUs)"
    )
    print(
        f"  each run, wall / machine reference (a fixed loop per CPU, just before it): "
        f"{', '.join(f'{w:.1f} / {r:.2f} s' for (w, _), r in zip(runs, refs, strict=True))}"
    )
    print(
        f"  CPU    median {statistics.median(c for _, c in runs):5.1f} s "
        "(the run and its processes; PostgreSQL's own not counted)"
    )


if __name__ == "__main__":
    main()
