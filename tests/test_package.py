"""`pip install .` gives a working bot: the wheel ships skills/ and shared/ and finds them.

Builds the wheel and installs it into one fresh venv with scripts/install-wheel.sh (the script
the Dockerfile runs, with the constraints file), then runs the CLI from another directory with no
ECM_PROJECT_ROOT.

The script is told to install the wheel alone (``PIP_NO_DEPS=1``), and the fresh venv reads its
dependencies from this test run's own environment through a ``.pth`` line after its own
site-packages. That environment was installed from the same constraints file by ``make setup``,
which is what proves they resolve; unpacking the same 400 MB again took half a minute of the
suite. What this test proves is what the wheel adds: its files, its entry point, and that the
installed copy finds its own data. The venv's own ``bot`` comes first on its path, and the line
adds a plain directory, so the checkout's editable install is not active there (a test checks).
"""

from __future__ import annotations

import os
import subprocess
import zipfile
from pathlib import Path

import package_build
import pytest

ROOT = package_build.ROOT


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> dict[str, Path]:
    """Built and installed once per test run: under pytest-xdist the workers share one copy
    (``package_build.prepare``; the controller starts it while the workers are made)."""
    temp = tmp_path_factory.getbasetemp()
    base = package_build.prepare(temp if worker_id == "master" else temp.parent)
    (wheel,) = (base / "dist").glob("ecm_bot-*.whl")
    return {"wheel": wheel, "venv": base / "venv", "cwd": base / "elsewhere", "data": base / "data"}


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
