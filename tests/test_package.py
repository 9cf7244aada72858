"""`pip install .` gives a working bot: the wheel ships skills/ and shared/ and finds them.

Builds the wheel, installs it into one fresh venv with scripts/install-wheel.sh (the script the
Dockerfile runs) and the constraints file, then runs the CLI from another directory with no
ECM_PROJECT_ROOT. The first install takes about half a minute; an unchanged one is reused.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> dict[str, Path]:
    """Built once per test run and installed once per distinct input: under pytest-xdist the
    workers share one copy, and the first to take the lock builds it (the wheel build writes
    into the source tree). The installed venv is kept in a cache keyed by what decides its
    contents (the wheel's files, the constraints, the install script, the interpreter), so a
    re-run with the same inputs reuses what the script made last time instead of unpacking
    400 MB again; any change to them installs afresh."""
    temp = tmp_path_factory.getbasetemp()
    shared = temp if worker_id == "master" else temp.parent
    base = shared / "package"
    with open(shared / "package.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (base / "ready").exists():
            base.mkdir(parents=True, exist_ok=True)
            _build_wheel(base / "dist")
            (wheel,) = (base / "dist").glob("ecm_bot-*.whl")
            (base / "venv").write_text(str(_installed_venv(wheel)))
            (base / "elsewhere").mkdir()
            (base / "ready").touch()
    (wheel,) = (base / "dist").glob("ecm_bot-*.whl")
    venv = Path((base / "venv").read_text())
    return {"wheel": wheel, "venv": venv, "cwd": base / "elsewhere", "data": base / "data"}


def _build_wheel(dist: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(dist), str(ROOT)],
        check=True,
        cwd=dist.parent,
        timeout=300,
    )


def _input_key(wheel: Path) -> str:
    """What the installed venv depends on: the wheel's member names and bytes (not the zip's
    timestamps), the constraints file, the install script, and this interpreter."""
    digest = hashlib.sha256()
    with zipfile.ZipFile(wheel) as z:
        for name in sorted(z.namelist()):
            digest.update(name.encode() + b"\0" + z.read(name))
    for path in (ROOT / "constraints.txt", ROOT / "scripts" / "install-wheel.sh"):
        digest.update(path.read_bytes())
    digest.update(f"{sys.executable}\0{sys.version}".encode())
    return digest.hexdigest()[:20]


def _installed_venv(wheel: Path) -> Path:
    """The venv scripts/install-wheel.sh makes from ``wheel`` (reused when the inputs match;
    the cache keeps the three newest, so concurrent runs of two checkouts don't evict each
    other)."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ecm-bot-tests"
    cache.mkdir(parents=True, exist_ok=True)
    venv = cache / f"venv-{_input_key(wheel)}"
    with open(cache / "install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (venv / "installed").exists():
            _install(venv, wheel, cache)
    venv.touch()  # its mtime says when it was last used
    return venv


def _install(venv: Path, wheel: Path, cache: Path) -> None:
    shutil.rmtree(venv, ignore_errors=True)  # a half-made one from an interrupted run
    older = sorted(cache.glob("venv-*"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in older[2:]:
        shutil.rmtree(old, ignore_errors=True)
    subprocess.run(
        ["sh", str(ROOT / "scripts" / "install-wheel.sh"), str(venv), str(wheel)],
        check=True,
        cwd=cache,
        env={**os.environ, "PYTHON": sys.executable},
        timeout=600,
    )
    (venv / "installed").touch()


def run(installed: dict[str, Path], *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": f"{installed['venv'] / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(installed["cwd"]),
        "ECM_DATA_DIR": str(installed["data"]),
        "LANG": "C.UTF-8",
    }
    return subprocess.run(
        [str(installed["venv"] / "bin" / "ecm-bot"), *args],
        cwd=installed["cwd"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_wheel_ships_the_skills_and_shared_resources(installed):
    names = set(zipfile.ZipFile(installed["wheel"]).namelist())
    shipped = {n.removeprefix("bot/_data/") for n in names if n.startswith("bot/_data/")}
    expected = {
        p.relative_to(ROOT).as_posix()
        for folder in ("skills", "shared")
        for p in (ROOT / folder).rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert expected and expected <= shipped, sorted(expected - shipped)
    assert not any(n.startswith(("skills/", "shared/")) for n in names)


def test_the_installed_copy_finds_its_own_data(installed):
    python = installed["venv"] / "bin" / "python"
    out = subprocess.run(
        [str(python), "-c", "from bot.paths import PROJECT_ROOT; print(PROJECT_ROOT)"],
        cwd=installed["cwd"],
        env={"PATH": os.environ.get("PATH", "")},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(out).parts[-2:] == ("bot", "_data")
    assert str(installed["venv"]) in out


def test_skills_validate_runs_from_another_directory(installed):
    result = run(installed, "skills", "validate")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "valid" in result.stdout


def test_demo_runs_from_another_directory(installed):
    result = run(installed, "demo")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "FileNotFoundError" not in result.stdout + result.stderr
    assert installed["data"].is_dir()
    assert not (installed["cwd"] / ".ecm").exists()


def test_the_source_checkout_uses_its_own_folders():
    from bot.paths import PROJECT_ROOT, find_project_root

    assert PROJECT_ROOT == ROOT
    assert find_project_root({"ECM_PROJECT_ROOT": "/srv/ecm"}) == Path("/srv/ecm")
