"""`pip install .` gives a working bot: the wheel ships skills/ and shared/ and finds them.

Builds the wheel, installs it into one fresh venv with scripts/install-wheel.sh (the script the
Dockerfile runs) and the constraints file, then runs the CLI from another directory with no
ECM_PROJECT_ROOT. Takes about half a minute (pip's cache is reused).
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> dict[str, Path]:
    """Built and installed once per test run: under pytest-xdist the workers share one copy,
    the first to take the lock builds it (the wheel build writes into the source tree)."""
    temp = tmp_path_factory.getbasetemp()
    shared = temp if worker_id == "master" else temp.parent
    base = shared / "package"
    with open(shared / "package.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (base / "ready").exists():
            _build_and_install(base)
            (base / "ready").touch()
    (wheel,) = (base / "dist").glob("ecm_bot-*.whl")
    return {"wheel": wheel, "venv": base / "venv", "cwd": base / "elsewhere", "data": base / "data"}


def _build_and_install(base: Path) -> None:
    dist = base / "dist"
    base.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(dist), str(ROOT)],
        check=True,
        cwd=base,
        timeout=300,
    )
    (wheel,) = dist.glob("ecm_bot-*.whl")
    subprocess.run(
        ["sh", str(ROOT / "scripts" / "install-wheel.sh"), str(base / "venv"), str(wheel)],
        check=True,
        cwd=base,
        env={**os.environ, "PYTHON": sys.executable},
        timeout=600,
    )
    (base / "elsewhere").mkdir()


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
