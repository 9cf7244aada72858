"""The wheel test_package.py checks, built and installed once per test run: the build backend
called as pip calls it, then scripts/install-wheel.sh (the script the Dockerfile runs) into a
fresh venv. Under pytest-xdist the controller starts ``prepare`` in a thread while the fork
server imports (conftest.py), a few seconds when one CPU is otherwise idle; a worker whose
test needs it first waits on the same lock, and builds it itself if that attempt failed."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def prepare(shared: Path) -> Path:
    """The directory under ``shared`` holding ``dist/`` (the wheel), ``venv/`` (it installed)
    and ``elsewhere/`` (a working directory outside the checkout): made by the first caller
    to take the lock, reused by the others."""
    base = shared / "package"
    with open(shared / "package.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (base / "ready").exists():
            base.mkdir(parents=True, exist_ok=True)
            _build_wheel(base / "dist")
            (wheel,) = (base / "dist").glob("ecm_bot-*.whl")
            _install(base / "venv", wheel)
            (base / "elsewhere").mkdir()
            (base / "ready").touch()
    return base


def _build_wheel(dist: Path) -> None:
    """The wheel from the build backend pyproject.toml names, called in a fresh interpreter as
    pip calls it (PEP 517 ``build_wheel``) with this environment's setuptools (a [test] extra):
    pip's own start-up and build environment cost 1.5 s more and build the same wheel."""
    backend = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["build-backend"]
    dist.mkdir(parents=True, exist_ok=True)
    code = f"import sys, {backend} as b; b.build_wheel(sys.argv[1])"
    done = subprocess.run(
        [sys.executable, "-c", code, str(dist)],
        cwd=ROOT,
        capture_output=True,  # setuptools' routine warnings are not the test run's output
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise RuntimeError(f"building the wheel failed (exit {done.returncode}):\n{done.stderr}")


def _install(venv: Path, wheel: Path) -> None:
    """scripts/install-wheel.sh into ``venv``, the wheel alone, its dependencies read from this
    environment (see test_package.py's docstring)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = Path(sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)}))
    (site / "_ecm_test_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    done = subprocess.run(
        ["sh", str(ROOT / "scripts" / "install-wheel.sh"), str(venv), str(wheel)],
        cwd=venv.parent,
        env={**os.environ, "PYTHON": sys.executable, "PIP_NO_DEPS": "1"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"install-wheel.sh failed (exit {done.returncode}):\n{done.stdout}{done.stderr}"
        )
